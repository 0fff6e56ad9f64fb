import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What an upstream saw of one request. */
export interface SeenRequest {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface Upstream {
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Answers 200 with a JSON echo of the request line and headers. */
export const echo: UpstreamHandler = (req, res) => {
  req.resume();
  req.on('end', () => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-upstream': 'yes',
    });
    res.end(body);
  });
};

/** A real HTTP server on 127.0.0.1 and a free port; records every request it sees. */
export async function startUpstream(handler: UpstreamHandler = echo): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      at: Date.now(),
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
