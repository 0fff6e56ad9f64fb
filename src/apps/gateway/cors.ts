import type { Exchange } from './exchange.js';

/**
 * CORS for browser clients, above all the portal's try-it console, which runs on the
 * portal's origin and calls the gateway's. Keys travel in headers, never in cookies,
 * so any origin may call (`*`, never with credentials): a page can only use a key it
 * already has. Preflights are answered here, before key checks (browsers send no key
 * in them, Fetch standard §4.8), and never reach the upstream; on actual responses an
 * upstream's own `Access-Control-Allow-Origin` wins over ours.
 */

/** Name/value pairs added to every response to a request that carried `Origin`. */
export const CORS_RESPONSE_HEADERS: readonly string[] = [
  'access-control-allow-origin',
  '*',
  'access-control-expose-headers',
  'X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Quota-Limit, X-Quota-Remaining, X-Quota-Reset, Retry-After, X-Request-Id',
];

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 §5.6.2
const MAX_HEADER_NAMES = 50;

/** True for a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
export function isPreflight(ex: Exchange): boolean {
  return (
    ex.origin !== null && ex.req.method === 'OPTIONS' && ex.req.headers['access-control-request-method'] !== undefined
  );
}

/** Header names the page asked for, kept only when they are valid tokens. */
function allowedHeaders(requested: string | undefined): string {
  if (!requested) return '';
  const names: string[] = [];
  for (const part of requested.slice(0, 4096).split(',')) {
    const name = part.trim();
    if (TOKEN.test(name)) names.push(name);
    if (names.length >= MAX_HEADER_NAMES) break;
  }
  return names.join(', ');
}

/** Answers a preflight with 204; not recorded in analytics (it is no API call). */
export function answerPreflight(ex: Exchange): void {
  ex.skipRecord = true;
  const headers = [
    'access-control-allow-origin',
    '*',
    'access-control-allow-methods',
    ALLOWED_METHODS,
    'access-control-max-age',
    '600',
    'content-length',
    '0',
  ];
  const names = allowedHeaders(ex.req.headers['access-control-request-headers']);
  if (names !== '') headers.push('access-control-allow-headers', names);
  ex.res.writeHead(204, headers);
  ex.res.end();
}
