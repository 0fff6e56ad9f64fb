/**
 * Request-target handling. The gateway routes, authorises (allowed_urls) and forwards
 * the *normalised* path, so what the upstream receives is exactly what was checked:
 * `/a/../b`, `/a/%2e%2e/b` or `//a` can never reach another listen path's upstream.
 */

/** RFC 3986 §2.3 unreserved characters, which are safe to decode (§6.2.2.2). */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

const HEX = '0123456789ABCDEF';

// Anything that may need work: a percent-escape, a dot segment, an empty segment or a
// backslash. One regex test lets the common clean path return without allocating.
const NEEDS_WORK = /%|\/\.|\/\/|\\/;

/**
 * Normalises an origin-form path (no query): decodes percent-escaped unreserved
 * characters, upper-cases the other escapes, removes `.` and `..` segments
 * (RFC 3986 §5.2.4, never above the root) and collapses empty segments. Returns
 * null — the caller answers 400 — for what cannot be normalised safely: a path not
 * starting with `/`, a malformed escape, an encoded `/` or `\` (`%2F`, `%5C`, which
 * would let a segment pose as two), an encoded NUL, or a raw backslash (which some
 * upstreams treat as a separator).
 */
export function normalisePath(raw: string): string | null {
  if (raw.charCodeAt(0) !== 0x2f) return null;
  if (!NEEDS_WORK.test(raw)) return raw;

  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x5c) return null; // raw backslash
    if (code !== 0x25) {
      decoded += raw[i];
      continue;
    }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return null;
    const byte = hi * 16 + lo;
    if (byte === 0x2f || byte === 0x5c || byte === 0x00) return null;
    decoded += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
    i += 2;
  }

  const segments = decoded.split('/');
  const out: string[] = [];
  // A trailing `/`, `/.` or `/..` leaves the result ending in `/` (RFC 3986 §5.2.4).
  const last = segments[segments.length - 1];
  const trailingSlash = last === '' || last === '.' || last === '..';
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const joined = `/${out.join('/')}`;
  return trailingSlash && out.length > 0 ? `${joined}/` : joined;
}

/**
 * The path part of a request-target: origin-form `/p?q` as is; absolute-form
 * `http://host/p?q` (RFC 7230 §5.3.2, which a proxy must accept) without scheme and
 * authority. Returns null for anything else (`*`, authority-form).
 */
export function originForm(url: string): string | null {
  if (url.charCodeAt(0) === 0x2f) return url;
  const scheme = url.startsWith('http://') ? 7 : url.startsWith('https://') ? 8 : 0;
  if (scheme === 0) return null;
  const slash = url.indexOf('/', scheme);
  const query = url.indexOf('?', scheme);
  if (slash < 0 || (query >= 0 && query < slash)) return query < 0 ? '/' : `/${url.slice(query)}`;
  return url.slice(slash);
}

/**
 * Finds `name` in a query string (without `?`) and returns its decoded value plus the
 * query without it, so the key is not forwarded upstream. Null when absent.
 */
export function takeQueryParam(query: string, name: string): { value: string; rest: string } | null {
  if (query === '') return null;
  const parts = query.split('&');
  let value: string | null = null;
  const kept: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (value === null && safeDecode(key) === name) {
      value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
      continue;
    }
    if (safeDecode(key) === name) continue; // a repeated key parameter is dropped too
    kept.push(part);
  }
  if (value === null) return null;
  return { value, rest: kept.join('&') };
}

function safeDecode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
