import { createServer, type Server } from 'node:http';

/**
 * The demo's built-in upstream: a tiny pet store so that a newcomer can call an API
 * through the gateway right after `npm start`, with nothing else installed.
 */
const PETS = [
  { id: 1, name: 'Rex', species: 'dog', status: 'available' },
  { id: 2, name: 'Tom', species: 'cat', status: 'available' },
  { id: 3, name: 'Nemo', species: 'fish', status: 'sold' },
];

export function createSampleUpstream(): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream.local');
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' });
    if (url.pathname === '/' || url.pathname === '')
      return send(200, { service: 'sample pet store', endpoints: ['/pets', '/pets/{id}'] });
    if (url.pathname === '/pets') {
      const status = url.searchParams.get('status');
      return send(200, status ? PETS.filter((p) => p.status === status) : PETS);
    }
    const match = /^\/pets\/(\d+)$/.exec(url.pathname);
    if (match) {
      const pet = PETS.find((p) => p.id === Number(match[1]));
      return pet ? send(200, pet) : send(404, { error: 'pet not found' });
    }
    return send(404, { error: 'not found' });
  });
}
