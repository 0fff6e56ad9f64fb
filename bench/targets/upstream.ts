/**
 * The fixed upstream every target proxies to: node:http answering any path with the
 * same small JSON body. Pre-built once so the upstream costs as little as possible and
 * the same for every target.
 */
import { createServer } from 'node:http';
import { announceReady, envPort, onStop, UPSTREAM_BODY } from './child.js';

const body = Buffer.from(UPSTREAM_BODY);
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = createServer((req, res) => {
  // Drain any request body before answering so keep-alive connections stay reusable.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Proxies keep connections to us for the whole run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;

const port = envPort('BENCH_PORT');
server.listen(port, '127.0.0.1', () => announceReady({ port }));
onStop(() => new Promise<void>((resolve) => server.close(() => resolve())));
