/**
 * Our minimal reference proxy: node:http in, undici 7 `Pool.stream` out, nothing else
 * (no routing, no keys, no counters). The distance between it and Gatehouse is the
 * price of Gatehouse's own pipeline; the distance between it and nginx is the price of
 * doing HTTP in Node at all.
 *
 * Shape after undici's docs/examples/proxy/proxy.js: the response body is written
 * straight into `res` (a Writable), so backpressure is undici's, not ours.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { announceReady, envPort, onStop, requiredEnv } from './child.js';

// Hop-by-hop headers are for one connection only (RFC 9110 §7.6.1); undici also refuses
// some of them outright.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const upstream = requiredEnv('BENCH_UPSTREAM_URL');
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const headers = forwardable(req.headers);
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream<ServerResponse>(
    { path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null, opaque: res },
    ({ statusCode, headers: upstreamHeaders, opaque }) => {
      opaque.writeHead(statusCode, forwardable(upstreamHeaders));
      return opaque;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"upstream unavailable"}');
      } else {
        res.destroy(err);
      }
    },
  );
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

const port = envPort('BENCH_PORT');
server.listen(port, '127.0.0.1', () => announceReady({ port }));
onStop(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.close();
});
