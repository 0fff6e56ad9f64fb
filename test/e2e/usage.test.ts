import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/db.js';
import { eventually, signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

for (const dialect of dialects()) {
  describe(`analytics and usage through the real gateway on ${dialect}`, () => {
    let system: TestSystem;
    let upstream: Upstream;
    let dev: Client;
    let keyId: string;
    let secret: string;
    let apiId: string;

    before(async () => {
      upstream = await startUpstream();
      system = await startSystem(dialect);
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Usage',
        listen_path: '/usage-api/',
        target_url: upstream.url,
      });
      apiId = api.body.id;
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Metered',
        rate: 100,
        per: 60,
        quota_max: 10,
        quota_renewal_rate: 3600,
        access_rights: [{ api_id: apiId, allowed_urls: [{ path: '/ok.*', methods: ['GET'] }] }],
      });
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Metered',
        policy_id: policy.body.id,
        approval: 'auto',
      });
      dev = await signUpDeveloper(system, 'usage@example.com', { name: 'U' });
      const req = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id, key_name: 'k' });
      keyId = req.body.key.id;
      secret = req.body.key.secret;
      assert.ok(
        await eventually(
          async () =>
            (await fetch(`${system.gatewayUrl}/usage-api/ok`, { headers: { authorization: `Bearer ${secret}` } }))
              .status === 200,
        ),
      );
    });

    after(async () => {
      await system?.stop();
      await upstream?.close();
    });

    test('every request is recorded and shows in the admin analytics and the developer usage', async () => {
      // 1 admitted above; 3 more admitted, 2 refused by allowed_urls, 1 without key.
      for (let i = 0; i < 3; i++)
        assert.equal(
          (await fetch(`${system.gatewayUrl}/usage-api/ok/${i}`, { headers: { 'x-api-key': secret } })).status,
          200,
        );
      for (let i = 0; i < 2; i++)
        assert.equal(
          (await fetch(`${system.gatewayUrl}/usage-api/forbidden`, { headers: { 'x-api-key': secret } })).status,
          403,
        );
      assert.equal((await fetch(`${system.gatewayUrl}/usage-api/ok`)).status, 401);
      await system.running.analytics.flush();

      const from = new Date(Date.now() - 3_600_000).toISOString();
      const byStatus = await system.admin.get(
        `/api/v1/analytics/requests?from=${from}&resolution=hour&api_id=${apiId}&group_by=status`,
      );
      assert.equal(byStatus.status, 200, JSON.stringify(byStatus.body));
      assert.equal(byStatus.body.totals.hits, 7);
      assert.equal(byStatus.body.totals.successes, 4);
      assert.equal(byStatus.body.totals.errors, 3);
      const groups = Object.fromEntries(byStatus.body.groups.map((g: any) => [g.key, g.hits]));
      assert.deepEqual(groups, { '200': 4, '403': 2, '401': 1 });

      const usage = await dev.get(`/api/v1/usage?key_id=${keyId}`);
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      assert.equal(usage.body.totals.hits, 6, 'the keyless 401 is not the developer’s');
      assert.equal(usage.body.totals.errors, 2);
      const limits = usage.body.limits[0];
      assert.equal(limits.key_id, keyId);
      assert.equal(limits.rate_limit.limit, 100);
      assert.equal(limits.quota.max, 10);
      assert.equal(limits.quota.remaining, 6, 'only admitted requests use quota');
      assert.ok(Date.parse(limits.quota.resets_at) > Date.now());
      assert.equal(usage.body.recent_errors.length, 2);

      const someoneElse = await signUpDeveloper(system, 'nosy@example.com', { name: 'N' });
      const denied = await someoneElse.get(`/api/v1/usage?key_id=${keyId}`);
      assert.equal(denied.status, 400);

      const reset = await system.admin.post(`/api/v1/keys/${keyId}/reset-quota`);
      assert.equal(reset.status, 200);
      assert.equal(reset.body.quota.remaining, 10);

      // The raw request log: each request with its path, status and code, paged by cursor.
      const log = await system.admin.get(`/api/v1/analytics/records?from=${from}&api_id=${apiId}&limit=5`);
      assert.equal(log.status, 200, JSON.stringify(log.body));
      assert.equal(log.body.data.length, 5);
      const rest = await system.admin.get(
        `/api/v1/analytics/records?from=${from}&api_id=${apiId}&limit=5&cursor=${log.body.next_cursor}`,
      );
      assert.equal(rest.body.next_cursor, null);
      const entries = [...log.body.data, ...rest.body.data];
      assert.deepEqual(entries.map((e: any) => `${e.method} ${e.path} ${e.status} ${e.code ?? ''}`.trim()).sort(), [
        'GET /usage-api/forbidden 403 RESOURCE_FORBIDDEN',
        'GET /usage-api/forbidden 403 RESOURCE_FORBIDDEN',
        'GET /usage-api/ok 200',
        'GET /usage-api/ok 401 KEY_MISSING',
        'GET /usage-api/ok/0 200',
        'GET /usage-api/ok/1 200',
        'GET /usage-api/ok/2 200',
      ]);
      assert.ok(entries.every((e: any) => e.key_id === (e.status === 401 ? '' : keyId)));
      const refused = await system.admin.get(`/api/v1/analytics/records?from=${from}&api_id=${apiId}&status=403`);
      assert.equal(refused.body.data.length, 2);
      const badCursor = await system.admin.get(`/api/v1/analytics/records?from=${from}&cursor=nonsense`);
      assert.equal(badCursor.status, 400);
      assert.equal(badCursor.body.error.details.fields[0].field, 'cursor');

      const badRange = await system.admin.get('/api/v1/analytics/requests?from=yesterday&resolution=hour');
      assert.equal(badRange.status, 400);
      assert.equal(badRange.body.error.code, 'VALIDATION_FAILED');
    });
  });
}
