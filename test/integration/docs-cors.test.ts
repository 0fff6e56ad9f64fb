import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/db.js';
import { startSystem, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream, type UpstreamHandler } from '../helpers/upstream.js';

/**
 * CORS on the gateway, which the portal's try-it console needs: the docs page (portal
 * origin) calls the gateway (another origin) with the key in X-API-Key, so the browser
 * sends a preflight first and reads the answer only with Access-Control-Allow-Origin.
 */

const ORIGIN = 'http://portal.example:3000';

for (const dialect of dialects()) {
  describe(`gateway CORS for browser consoles on ${dialect}`, () => {
    let system: TestSystem;
    let upstream: Upstream;
    let ownCors: Upstream;
    let secret: string;

    before(async () => {
      upstream = await startUpstream();
      const withOwnCors: UpstreamHandler = (req, res) => {
        req.resume();
        res.writeHead(200, {
          'content-type': 'application/json',
          'access-control-allow-origin': 'https://app.example',
          vary: 'Origin',
        });
        res.end('{}');
      };
      ownCors = await startUpstream(withOwnCors);
      system = await startSystem(dialect);
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Cors',
        listen_path: '/cors',
        target_url: upstream.url,
      });
      const own = await system.admin.post('/api/v1/apis', {
        name: 'Own cors',
        listen_path: '/own-cors',
        target_url: ownCors.url,
      });
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Cors',
        rate: 100,
        per: 60,
        access_rights: [{ api_id: api.body.id }, { api_id: own.body.id }],
      });
      const dev = await system.portal.post('/api/v1/developers', {
        email: 'cors@example.com',
        password: 'dev-password-1',
        fields: { name: 'Cors' },
      });
      const key = await system.admin.post('/api/v1/keys', {
        name: 'cors',
        developer_id: dev.body.id,
        policy_ids: [policy.body.id],
      });
      assert.equal(key.status, 201, JSON.stringify(key.body));
      secret = key.body.secret;
      // Wait for the gateway snapshot to know the key.
      for (let i = 0; i < 40; i++) {
        if ((await fetch(`${system.gatewayUrl}/cors/`, { headers: { 'x-api-key': secret } })).status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    after(async () => {
      await system?.stop();
      await upstream?.close();
      await ownCors?.close();
    });

    test('a preflight is answered by the gateway itself, without a key and without reaching the upstream', async () => {
      const seen = upstream.requests.length;
      const res = await fetch(`${system.gatewayUrl}/cors/pets?status=sold`, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-api-key, content-type',
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bGET\b.*\bPOST\b.*\bDELETE\b/);
      assert.equal(res.headers.get('access-control-allow-headers'), 'x-api-key, content-type');
      assert.equal(res.headers.get('access-control-max-age'), '600');
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
      assert.equal(upstream.requests.length, seen);
    });

    test('the actual response carries Access-Control-Allow-Origin and exposes the limit headers', async () => {
      const res = await fetch(`${system.gatewayUrl}/cors/pets`, { headers: { origin: ORIGIN, 'x-api-key': secret } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      for (const name of ['x-ratelimit-remaining', 'x-quota-remaining', 'retry-after', 'x-request-id'])
        assert.ok(exposed.includes(name), name);
      assert.ok(res.headers.get('x-ratelimit-remaining'));
    });

    test('gateway errors carry it too, so a console shows 401/404 instead of a network error', async () => {
      const missing = await fetch(`${system.gatewayUrl}/cors/pets`, { headers: { origin: ORIGIN } });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('access-control-allow-origin'), '*');
      const noApi = await fetch(`${system.gatewayUrl}/nowhere`, { headers: { origin: ORIGIN } });
      assert.equal(noApi.status, 404);
      assert.equal(noApi.headers.get('access-control-allow-origin'), '*');
    });

    test('an upstream that answers CORS itself keeps its own policy', async () => {
      const res = await fetch(`${system.gatewayUrl}/own-cors/x`, { headers: { origin: ORIGIN, 'x-api-key': secret } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    });

    test('without an Origin header nothing changes; an OPTIONS that is no preflight is proxied as usual', async () => {
      const plain = await fetch(`${system.gatewayUrl}/cors/pets`, { headers: { 'x-api-key': secret } });
      assert.equal(plain.headers.get('access-control-allow-origin'), null);
      const seen = upstream.requests.length;
      const options = await fetch(`${system.gatewayUrl}/cors/pets`, {
        method: 'OPTIONS',
        headers: { 'x-api-key': secret, origin: ORIGIN },
      });
      assert.equal(options.status, 200);
      assert.equal(upstream.requests.length, seen + 1);
      assert.equal(upstream.requests.at(-1)?.method, 'OPTIONS');
    });

    test('request header names in a preflight are checked, not echoed blindly', async () => {
      const res = await fetch(`${system.gatewayUrl}/cors/pets`, {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-api-key, bad header, (evil)',
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-headers'), 'x-api-key');
    });
  });
}
