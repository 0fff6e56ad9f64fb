import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keysRepository } from '../../src/modules/keys/index.js';
import { apisRepository } from '../../src/modules/apis/index.js';
import { developersRepository } from '../../src/modules/developers/index.js';
import { policiesRepository } from '../../src/modules/policies/index.js';
import { newSecret, sha256Hex } from '../../src/shared/crypto.js';
import { dialects } from '../helpers/db.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { errorBody, Harness, sleep, type Response } from './gateway.harness.js';

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
}

function assertError(res: Response, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = errorBody(res);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error']);
  assert.equal(body.code, code);
  assert.equal(typeof body.error, 'string');
}

for (const dialect of dialects()) {
  void describe(`gateway pipeline on ${dialect}`, () => {
    let h: Harness;
    let up: Upstream;
    let other: Upstream;
    let pets: { id: string };
    let petsV2: { id: string };
    let stores: { id: string };
    let key: { secret: string; row: { id: string } };

    before(async () => {
      h = await Harness.start(dialect, {
        config: { max_url_length: 2048, max_header_bytes: 8192 },
        lastUsedFlushMs: 100,
      });
      up = await startUpstream();
      other = await startUpstream();
      pets = await h.createApi({ listen_path: '/petstore/', target_url: `${up.url}/base` });
      petsV2 = await h.createApi({ listen_path: '/petstore/v2/', target_url: other.url, strip_listen_path: 0 });
      stores = await h.createApi({ listen_path: '/stores/', target_url: up.url, key_query_param: 'api_key' });
      await h.createApi({ listen_path: '/open/', target_url: up.url, auth: 'keyless' });
      await h.createApi({ listen_path: '/off/', target_url: up.url, active: 0 });
      const policy = await h.createPolicy([{ apiId: pets.id }, { apiId: petsV2.id }, { apiId: stores.id }]);
      key = await h.createKey([policy.id]);
      await h.changed('apis');
    });

    after(async () => {
      await h.close();
      await up.close();
      await other.close();
    });

    void it('answers health with the snapshot version and node id', async () => {
      const res = await h.call('/__gatehouse/health');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { status: 'ok', snapshot_version: h.gateway.snapshotVersion(), node_id: 'node-test' });
    });

    void it('404 API_NOT_FOUND when no API matches, on segment boundaries only, and for inactive APIs', async () => {
      assertError(await h.callWithKey('/nothing/here', key.secret), 404, 'API_NOT_FOUND');
      assertError(await h.callWithKey('/petstorex/pets', key.secret), 404, 'API_NOT_FOUND');
      assertError(await h.callWithKey('/off/x', key.secret), 404, 'API_NOT_FOUND');
    });

    void it('routes the longest listen path and strips it when asked', async () => {
      const a = await h.callWithKey('/petstore/pets/1?x=1', key.secret);
      assert.equal(a.status, 200);
      assert.equal((a.json as Echo).url, '/base/pets/1?x=1');
      const exact = await h.callWithKey('/petstore', key.secret);
      assert.equal((exact.json as Echo).url, '/base');
      const b = await h.callWithKey('/petstore/v2/pets', key.secret);
      assert.equal(b.status, 200);
      assert.equal((b.json as Echo).url, '/petstore/v2/pets', 'not stripped, and routed to the longer listen path');
      assert.equal(other.requests.length, 1);
    });

    void it('401 KEY_MISSING, then KEY_INVALID, with the key in Authorization or X-API-Key', async () => {
      assertError(await h.call('/petstore/pets'), 401, 'KEY_MISSING');
      assertError(await h.call('/petstore/pets', { headers: { authorization: 'Basic abc' } }), 401, 'KEY_MISSING');
      assertError(await h.call('/petstore/pets?api_key=' + key.secret), 401, 'KEY_MISSING');
      assertError(await h.callWithKey('/petstore/pets', 'gh_not_a_key'), 401, 'KEY_INVALID');
      assert.equal((await h.call('/petstore/pets', { headers: { 'x-api-key': key.secret } })).status, 200);
      assert.equal(
        (await h.call('/petstore/pets', { headers: { authorization: `bearer ${key.secret}` } })).status,
        200,
      );
    });

    void it('takes the key from the query only where the API enables it, and never forwards it', async () => {
      const res = await h.call(`/stores/list?a=1&api_key=${key.secret}&b=2`);
      assert.equal(res.status, 200);
      assert.equal((res.json as Echo).url, '/list?a=1&b=2');
    });

    void it('strips the key and hop-by-hop headers, adds X-Forwarded-*', async () => {
      const raw = await h.rawCall(
        [
          'GET /petstore/echo HTTP/1.1',
          'Host: api.example.test',
          `Authorization: Bearer ${key.secret}`,
          'X-API-Key: another',
          'Connection: close, X-Private',
          'X-Private: secret',
          'Keep-Alive: timeout=5',
          'Proxy-Authorization: Basic eA==',
          'Proxy-Connection: keep-alive',
          'TE: trailers',
          'Trailer: X-T',
          'Upgrade: websocket',
          'X-Custom: kept',
          'X-Forwarded-For: 10.9.9.9',
          '',
          '',
        ].join('\r\n'),
      );
      assert.match(raw, /^HTTP\/1\.1 200 /);
      const seen = (JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo).headers;
      for (const name of [
        'authorization',
        'x-api-key',
        'x-private',
        'keep-alive',
        'proxy-authorization',
        'proxy-connection',
        'te',
        'trailer',
        'upgrade',
      ]) {
        assert.equal(seen[name], undefined, `${name} must not reach the upstream`);
      }
      assert.equal(seen['x-custom'], 'kept');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1', 'an untrusted X-Forwarded-For is replaced');
      assert.equal(seen['x-forwarded-proto'], 'http');
      assert.equal(seen['x-forwarded-host'], 'api.example.test');
      assert.equal(seen.host, `127.0.0.1:${up.port}`);
      assert.match(raw, /\r\nx-upstream: yes\r\n/i);
    });

    void it('strips hop-by-hop headers of the response', async () => {
      const hop = await startUpstream((req, res) => {
        req.resume();
        res.writeHead(200, {
          connection: 'keep-alive, x-hop',
          'x-hop': '1',
          'keep-alive': 'timeout=9',
          'x-end': 'kept',
          'content-length': '2',
        });
        res.end('ok');
      });
      await h.createApi({ listen_path: '/hop/', target_url: hop.url, auth: 'keyless' });
      await h.changed('apis');
      const res = await h.call('/hop/x');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'ok');
      assert.equal(res.headers['x-hop'], undefined);
      assert.notEqual(res.headers['keep-alive'], 'timeout=9');
      assert.equal(res.headers['x-end'], 'kept');
      assert.equal(res.rawHeaders.filter((n) => n.toLowerCase() === 'date').length, 1, 'one Date header');
      await hop.close();
    });

    void it('keyless APIs skip every key step and forward headers as they are', async () => {
      const res = await h.call('/open/anything', { headers: { 'x-api-key': 'upstream-own-key' } });
      assert.equal(res.status, 200);
      assert.equal((res.json as Echo).headers['x-api-key'], 'upstream-own-key');
      assert.equal(res.headers['x-ratelimit-limit'], undefined);
    });

    void it('normalises paths before routing so no traversal escapes a listen path', async () => {
      const before = up.requests.length;
      // `/open/../petstore/...` is `/petstore/...`: it needs a key like any petstore call.
      assertError(await h.call('/open/../petstore/pets'), 401, 'KEY_MISSING');
      assertError(await h.call('/open/%2e%2e/petstore/pets'), 401, 'KEY_MISSING');
      assertError(await h.call('/open/.%2E/petstore/pets'), 401, 'KEY_MISSING');
      assertError(await h.call('/open/..%2fpetstore/pets'), 400, 'PATH_INVALID');
      assertError(await h.call('/open/..%5Cpetstore/pets'), 400, 'PATH_INVALID');
      assertError(await h.call('/open/..\\petstore/pets'), 400, 'PATH_INVALID');
      assert.equal(up.requests.length, before);
      const inside = await h.callWithKey('/petstore/a/../b/./c//d', key.secret);
      assert.equal((inside.json as Echo).url, '/base/b/c/d', 'the upstream gets the normalised path');
      const stay = await h.callWithKey('/petstore/../../etc/passwd', key.secret);
      assertError(stay, 404, 'API_NOT_FOUND');
    });

    void it('414 for a URL over max_url_length and 431 for headers over max_header_bytes', async () => {
      assertError(await h.call(`/petstore/${'a'.repeat(2100)}`), 414, 'URL_TOO_LONG');
      assertError(await h.call('/petstore/x', { headers: { 'x-big': 'b'.repeat(9000) } }), 431, 'HEADERS_TOO_LARGE');
    });

    void it('records every request, admitted or not', async () => {
      const start = h.records.length;
      await h.callWithKey('/petstore/recorded', key.secret);
      await h.call('/petstore/recorded');
      await sleep(20);
      const recent = h.records.slice(start);
      const ok = recent.find((r) => r.status === 200);
      const refused = recent.find((r) => r.status === 401);
      assert.ok(ok && refused);
      assert.equal(ok.apiId, pets.id);
      assert.equal(ok.keyId, key.row.id);
      assert.equal(ok.path, '/petstore/recorded');
      assert.equal(ok.code, null);
      assert.ok(ok.bytesOut > 0 && ok.upstreamLatencyMs > 0 && ok.latencyMs >= ok.upstreamLatencyMs);
      assert.equal(refused.code, 'KEY_MISSING');
      assert.equal(refused.keyId, '');
    });

    void it('writes last_used_at in batches', async () => {
      await h.callWithKey('/petstore/used', key.secret);
      const deadline = Date.now() + 2_000;
      let row = await keysRepository.findById(h.db.db, key.row.id);
      while (row?.last_used_at === null && Date.now() < deadline) {
        await sleep(50);
        row = await keysRepository.findById(h.db.db, key.row.id);
      }
      assert.ok(row?.last_used_at, 'last_used_at was written');
    });
  });

  void describe(`gateway keys and policies on ${dialect}`, () => {
    let h: Harness;
    let up: Upstream;
    let api: { id: string };
    let second: { id: string };
    let policy: { id: string };

    before(async () => {
      h = await Harness.start(dialect);
      up = await startUpstream();
      api = await h.createApi({ listen_path: '/pets/', target_url: up.url });
      second = await h.createApi({ listen_path: '/second/', target_url: up.url });
      policy = await h.createPolicy([{ apiId: api.id }]);
      await h.changed('apis');
    });

    after(async () => {
      await h.close();
      await up.close();
    });

    void it('401 KEY_EXPIRED for a key past its expiry', async () => {
      const k = await h.createKey([policy.id], { expires_at: Date.now() - 1000 });
      await h.changed();
      assertError(await h.callWithKey('/pets/x', k.secret), 401, 'KEY_EXPIRED');
    });

    void it('403 KEY_INACTIVE for an inactive key, a revoked key, and a key of an inactive developer', async () => {
      const inactive = await h.createKey([policy.id], { status: 'inactive' });
      const revoked = await h.createKey([policy.id], { status: 'revoked' });
      const dev = await h.createDeveloper({ status: 'inactive' });
      const devKey = await h.createKey([policy.id], { developer_id: dev.id });
      await h.changed();
      assertError(await h.callWithKey('/pets/x', inactive.secret), 403, 'KEY_INACTIVE');
      assertError(await h.callWithKey('/pets/x', revoked.secret), 403, 'KEY_INACTIVE');
      assertError(await h.callWithKey('/pets/x', devKey.secret), 403, 'KEY_INACTIVE');
      await developersRepository.update(h.db.db, dev.id, { status: 'active' });
      await h.changed('developers');
      assert.equal((await h.callWithKey('/pets/x', devKey.secret)).status, 200);
    });

    void it('403 API_FORBIDDEN when no policy grants the API (default deny)', async () => {
      const k = await h.createKey([policy.id]);
      await h.changed();
      assertError(await h.callWithKey('/second/x', k.secret), 403, 'API_FORBIDDEN');
      const none = await h.createKey([]);
      const inactivePolicy = await h.createPolicy([{ apiId: second.id }], { active: 0 });
      const onlyInactive = await h.createKey([inactivePolicy.id]);
      await h.changed();
      assertError(await h.callWithKey('/pets/x', none.secret), 403, 'API_FORBIDDEN');
      assertError(await h.callWithKey('/second/x', onlyInactive.secret), 403, 'API_FORBIDDEN');
    });

    void it('403 RESOURCE_FORBIDDEN outside allowed_urls (regex on the path after the listen path, and methods)', async () => {
      const p = await h.createPolicy([
        {
          apiId: api.id,
          allowedUrls: [
            { path: '/pets/\\d+', methods: ['GET'] },
            { path: 'orders(/.*)?', methods: [] },
          ],
        },
      ]);
      const k = await h.createKey([p.id]);
      await h.changed();
      assert.equal((await h.callWithKey('/pets/pets/12', k.secret)).status, 200);
      assertError(await h.callWithKey('/pets/pets/12', k.secret, { method: 'DELETE' }), 403, 'RESOURCE_FORBIDDEN');
      assertError(await h.callWithKey('/pets/pets/12/x', k.secret), 403, 'RESOURCE_FORBIDDEN');
      assertError(await h.callWithKey('/pets/pets/abc', k.secret), 403, 'RESOURCE_FORBIDDEN');
      assert.equal((await h.callWithKey('/pets/orders', k.secret, { method: 'POST', body: 'x' })).status, 200);
      assert.equal((await h.callWithKey('/pets/orders/7', k.secret, { method: 'PUT' })).status, 200);
      assertError(await h.callWithKey('/pets/ordersx', k.secret), 403, 'RESOURCE_FORBIDDEN');
    });

    void it('merges several policies: union of access rights, best limits', async () => {
      const narrow = await h.createPolicy([{ apiId: api.id, allowedUrls: [{ path: '/a', methods: ['GET'] }] }], {
        rate: 1,
        per: 60,
      });
      const wide = await h.createPolicy(
        [{ apiId: api.id, allowedUrls: [{ path: '/b', methods: ['GET'] }] }, { apiId: second.id }],
        { rate: 100, per: 60 },
      );
      const k = await h.createKey([narrow.id, wide.id]);
      await h.changed();
      const a = await h.callWithKey('/pets/a', k.secret);
      assert.equal(a.status, 200);
      assert.equal(a.headers['x-ratelimit-limit'], '100');
      assert.equal((await h.callWithKey('/pets/b', k.secret)).status, 200);
      assert.equal((await h.callWithKey('/second/anything', k.secret)).status, 200);
      assertError(await h.callWithKey('/pets/c', k.secret), 403, 'RESOURCE_FORBIDDEN');
      // Editing a policy changes every key that uses it, at once.
      const row = (await policiesRepository.findById(h.db.db, narrow.id))!;
      await policiesRepository.update(h.db.db, narrow.id, row.version, {
        access_rights: JSON.stringify([{ api_id: api.id, allowed_urls: [{ path: '/c', methods: [] }] }]),
      });
      await h.changed('policies');
      assert.equal((await h.callWithKey('/pets/c', k.secret)).status, 200);
    });

    void it('a revoked key is refused within one second of the change event', async () => {
      const k = await h.createKey([policy.id]);
      await h.changed();
      assert.equal((await h.callWithKey('/pets/x', k.secret)).status, 200);
      const row = (await keysRepository.findById(h.db.db, k.row.id))!;
      await keysRepository.update(h.db.db, k.row.id, row.version, { status: 'revoked' });
      const revokedAt = Date.now();
      h.bus.publish({ topic: 'keys', id: k.row.id });
      let res = await h.callWithKey('/pets/x', k.secret);
      while (res.status === 200 && Date.now() - revokedAt < 1000) {
        await sleep(10);
        res = await h.callWithKey('/pets/x', k.secret);
      }
      assertError(res, 403, 'KEY_INACTIVE');
      assert.ok(Date.now() - revokedAt < 1000, 'refused within a second');
    });

    void it('a rolled key: the new secret works, the old one is refused (or accepted during a grace period)', async () => {
      const k = await h.createKey([policy.id]);
      await h.changed();
      assert.equal((await h.callWithKey('/pets/x', k.secret)).status, 200);

      const rolled = newSecret('gh_');
      let row = (await keysRepository.findById(h.db.db, k.row.id))!;
      await keysRepository.update(h.db.db, k.row.id, row.version, {
        hash: sha256Hex(rolled),
        previous_hash: null,
        previous_hash_expires_at: null,
      });
      await h.changed();
      assertError(await h.callWithKey('/pets/x', k.secret), 401, 'KEY_INVALID');
      assert.equal((await h.callWithKey('/pets/x', rolled)).status, 200);

      // Roll again with a 400 ms grace for the previous secret.
      const third = newSecret('gh_');
      row = (await keysRepository.findById(h.db.db, k.row.id))!;
      await keysRepository.update(h.db.db, k.row.id, row.version, {
        hash: sha256Hex(third),
        previous_hash: sha256Hex(rolled),
        previous_hash_expires_at: Date.now() + 400,
      });
      await h.changed();
      assert.equal((await h.callWithKey('/pets/x', rolled)).status, 200, 'accepted during the grace period');
      assert.equal((await h.callWithKey('/pets/x', third)).status, 200);
      await sleep(450);
      assertError(await h.callWithKey('/pets/x', rolled), 401, 'KEY_INVALID');
    });

    void it('a key created without a change event is found by one fallback look-up', async () => {
      const k = await h.createKey([policy.id]);
      assert.equal((await h.callWithKey('/pets/x', k.secret)).status, 200);
      assert.equal((await h.callWithKey('/pets/x', k.secret)).status, 200);
    });

    void it('inactive APIs stop being routed after an edit', async () => {
      const extra = await h.createApi({ listen_path: '/soon-off/', target_url: up.url, auth: 'keyless' });
      await h.changed('apis');
      assert.equal((await h.call('/soon-off/x')).status, 200);
      const row = (await apisRepository.findById(h.db.db, extra.id))!;
      await apisRepository.update(h.db.db, extra.id, row.version, { active: 0 });
      await h.changed('apis');
      assertError(await h.call('/soon-off/x'), 404, 'API_NOT_FOUND');
    });

    void it('(last) keeps serving from the last snapshot when the database is down, and logs it once', async () => {
      const k = await h.createKey([policy.id]);
      await h.changed();
      await h.db.close();
      h.bus.publish({ topic: 'apis' });
      await sleep(100);
      h.bus.publish({ topic: 'apis' });
      await sleep(100);
      await assert.rejects(h.gateway.reload());
      assert.equal((await h.callWithKey('/pets/x', k.secret)).status, 200);
      const errors = h.logs.filter((l) => l.level === 'error');
      assert.equal(errors.length, 1, 'one error per outage');
    });
  });
}
