/**
 * Express Gateway 1.16.11 (the Node peer) with key-auth + rate-limit + proxy, run
 * without its interactive generator (NOTES.md): hand-written config files in a temp
 * dir, the models folder copied from the package, `require('express-gateway')().load(dir).run()`.
 * A user and a key-auth credential are then made through its admin API, and the
 * credential is announced so the bench can send `Authorization: apiKey <id>:<secret>`.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { httpRequest } from '../lib/net.js';
import { announceReady, announceUnavailable, envPort, onStop, requiredEnv } from './child.js';

const port = envPort('BENCH_PORT');
const adminPort = envPort('BENCH_ADMIN_PORT');
const upstream = requiredEnv('BENCH_UPSTREAM_URL');
const peersDir = requiredEnv('BENCH_PEERS_DIR');
const configDir = requiredEnv('BENCH_WORK_DIR');

const require = createRequire(join(peersDir, 'package.json'));
let packageDir: string;
try {
  packageDir = join(require.resolve('express-gateway/package.json'), '..');
} catch {
  announceUnavailable(`express-gateway is not installed in ${peersDir}`);
}

// Rate limit high enough never to trigger. `delayAfter: 0, delayMs: 0` matter: with its
// defaults every request after the first is delayed by a second (NOTES.md). Counted
// per consumer, like Gatehouse counts per key; the store is its emulated (in-memory) Redis.
const gatewayConfig = `
http:
  port: ${port}
admin:
  port: ${adminPort}
  host: 127.0.0.1
apiEndpoints:
  bench:
    host: '*'
    paths: ['/bench', '/bench/*']
serviceEndpoints:
  upstream:
    url: '${upstream}'
policies:
  - key-auth
  - rate-limit
  - proxy
pipelines:
  bench:
    apiEndpoints:
      - bench
    policies:
      - key-auth:
      - rate-limit:
          - action:
              max: 100000000
              windowMs: 60000
              delayAfter: 0
              delayMs: 0
              rateLimitBy: '\${req.user.id}'
      - proxy:
          - action:
              serviceEndpoint: upstream
              changeOrigin: true
`;

const systemConfig = `
db:
  redis:
    emulate: true
    namespace: EG
crypto:
  cipherKey: benchCipherKey
  algorithm: aes256
  saltRounds: 10
session:
  secret: bench-session-secret
  resave: false
  saveUninitialized: false
accessTokens:
  timeToExpiry: 7200000
refreshTokens:
  timeToExpiry: 7200000
authorizationCodes:
  timeToExpiry: 300000
`;

mkdirSync(configDir, { recursive: true });
writeFileSync(join(configDir, 'gateway.config.yml'), gatewayConfig);
writeFileSync(join(configDir, 'system.config.yml'), systemConfig);
cpSync(join(packageDir!, 'lib', 'config', 'models'), join(configDir, 'models'), { recursive: true });

interface ExpressGateway {
  load(dir: string): { run(): Promise<unknown> };
}
const gateway = require('express-gateway') as () => ExpressGateway;
await gateway().load(configDir).run();

async function admin(path: string, body: unknown): Promise<Record<string, unknown>> {
  const answer = await httpRequest(`http://127.0.0.1:${adminPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (answer.status >= 300) throw new Error(`EG admin ${path}: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as Record<string, unknown>;
}

const user = await admin('/users', { username: 'bench', firstname: 'Bench', lastname: 'Client' });
const credential = await admin('/credentials', { consumerId: user.id, type: 'key-auth' });
if (typeof credential.keyId !== 'string' || typeof credential.keySecret !== 'string') {
  throw new Error(`EG admin /credentials returned no keyId/keySecret: ${JSON.stringify(credential)}`);
}
announceReady({ port, keyId: credential.keyId, keySecret: credential.keySecret });
onStop(() => undefined);
