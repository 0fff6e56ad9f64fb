import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/db.js';
import { eventually, signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

async function gateway(system: TestSystem, path: string, key: string) {
  const res = await fetch(`${system.gatewayUrl}${path}`, { headers: { 'x-api-key': key } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { code?: string }) : null };
}

for (const dialect of dialects()) {
  describe(`admin API: roles, secrets, deactivation, throttling, exports on ${dialect}`, () => {
    let system: TestSystem;
    let upstream: Upstream;
    let viewer: Client;
    let apiId: string;
    let policyId: string;
    let entryId: string;
    let developerId: string;
    let keyId: string;
    let keySecret: string;

    before(async () => {
      upstream = await startUpstream();
      system = await startSystem(dialect);
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Orders',
        listen_path: '/orders',
        target_url: upstream.url,
      });
      apiId = api.body.id;
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Basic',
        rate: 1000,
        per: 1,
        access_rights: [{ api_id: apiId }],
      });
      policyId = policy.body.id;
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders',
        policy_id: policyId,
        approval: 'auto',
      });
      entryId = entry.body.id;
      const dev = await signUpDeveloper(system, 'deactivate-me@example.com');
      const request = await dev.post('/api/v1/key-requests', { catalogue_id: entryId, key_name: 'prod' });
      assert.equal(request.status, 201, JSON.stringify(request.body));
      keyId = request.body.key.id;
      keySecret = request.body.key.secret;
      developerId = request.body.developer_id;
      const created = await system.admin.post('/api/v1/admins', {
        email: 'viewer@example.com',
        password: 'viewer-password-1',
        role: 'viewer',
      });
      assert.equal(created.status, 201);
      const login = await system.admin
        .withToken('')
        .post('/api/v1/auth/tokens', { email: 'viewer@example.com', password: 'viewer-password-1' });
      viewer = system.admin.withToken(login.body.token);
    });

    after(async () => {
      await system?.stop();
      await upstream?.close();
    });

    test('a viewer reads everything but changes nothing', async () => {
      for (const path of [
        '/api/v1/apis',
        '/api/v1/policies',
        '/api/v1/catalogue',
        '/api/v1/developers',
        '/api/v1/keys',
        '/api/v1/key-requests',
        '/api/v1/settings',
        '/api/v1/audit-events',
        '/api/v1/webhooks',
        `/api/v1/keys/${keyId}`,
        `/api/v1/developers/${developerId}/keys`,
      ]) {
        assert.equal((await viewer.get(path)).status, 200, `GET ${path}`);
      }
      const attempts: [string, string, unknown][] = [
        ['POST', '/api/v1/apis', { name: 'X', listen_path: '/x', target_url: upstream.url }],
        ['PATCH', `/api/v1/apis/${apiId}`, { active: false }],
        ['DELETE', `/api/v1/apis/${apiId}`, undefined],
        ['POST', '/api/v1/policies', { name: 'P', access_rights: [] }],
        ['PATCH', `/api/v1/policies/${policyId}`, { rate: 1 }],
        ['DELETE', `/api/v1/policies/${policyId}`, undefined],
        ['POST', '/api/v1/catalogue', { name: 'C', policy_id: policyId }],
        ['PATCH', `/api/v1/catalogue/${entryId}`, { visibility: 'hidden' }],
        ['DELETE', `/api/v1/catalogue/${entryId}`, undefined],
        ['PATCH', `/api/v1/developers/${developerId}`, { status: 'inactive' }],
        ['DELETE', `/api/v1/developers/${developerId}`, undefined],
        ['POST', '/api/v1/keys', { developer_id: developerId, name: 'k', policy_ids: [policyId] }],
        ['PATCH', `/api/v1/keys/${keyId}`, { status: 'inactive' }],
        ['DELETE', `/api/v1/keys/${keyId}`, undefined],
        ['POST', `/api/v1/keys/${keyId}/reset-quota`, {}],
        ['PATCH', '/api/v1/settings', { site_name: 'Hacked' }],
        ['POST', '/api/v1/admins', { email: 'x@example.com', password: 'password-123', role: 'owner' }],
        ['POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', events: ['key.created'] }],
      ];
      for (const [method, path, body] of attempts) {
        const res = await viewer.request(method, path, body);
        assert.equal(res.status, 403, `${method} ${path} → ${res.status}`);
        assert.equal(res.body.error.code, 'FORBIDDEN');
      }
      // Nothing changed.
      assert.equal((await system.admin.get(`/api/v1/apis/${apiId}`)).body.active, true);
      assert.equal((await system.admin.get(`/api/v1/keys/${keyId}`)).body.status, 'active');
      assert.equal((await system.admin.get('/api/v1/settings')).body.site_name, 'Gatehouse Developer Portal');
    });

    test('the role is checked before the body: no 400 tells an outsider or a viewer how to shape a write', async () => {
      const anonymous = system.admin.withToken('');
      const cases: [string, string, unknown][] = [
        ['POST', '/api/v1/apis', { colour: 'red' }],
        ['PATCH', `/api/v1/policies/${policyId}`, { rate: 'lots' }],
        ['POST', '/api/v1/keys', {}],
        ['POST', '/api/v1/admins', { role: 'emperor' }],
      ];
      for (const [method, path, body] of cases) {
        const asAnonymous = await anonymous.request(method, path, body);
        assert.equal(asAnonymous.status, 401, `anonymous ${method} ${path}`);
        assert.equal(asAnonymous.body.error.code, 'UNAUTHENTICATED');
        const asViewer = await viewer.request(method, path, body);
        assert.equal(asViewer.status, 403, `viewer ${method} ${path}`);
        assert.equal(asViewer.body.error.code, 'FORBIDDEN');
      }
      // An admin with the same body gets the validation error.
      assert.equal((await system.admin.post('/api/v1/apis', { colour: 'red' })).status, 400);
    });

    test('no response a viewer can get carries a key secret', async () => {
      for (const path of [
        '/api/v1/keys',
        `/api/v1/keys/${keyId}`,
        `/api/v1/developers/${developerId}/keys`,
        '/api/v1/key-requests',
        '/api/v1/audit-events?limit=200',
        '/api/v1/webhooks',
      ]) {
        const res = await viewer.get(path);
        assert.ok(!JSON.stringify(res.body).includes(keySecret), `${path} leaks the secret`);
        assert.ok(!/"secret"/.test(JSON.stringify(res.body)), `${path} has a secret field`);
      }
    });

    test('deactivating a developer makes the gateway refuse their key within a second; reactivating restores it', async () => {
      assert.equal((await gateway(system, '/orders/a', keySecret)).status, 200);
      const off = await system.admin.patch(`/api/v1/developers/${developerId}`, { status: 'inactive' });
      assert.equal(off.status, 200);
      const started = Date.now();
      assert.ok(
        await eventually(async () => (await gateway(system, '/orders/a', keySecret)).status === 403, 1000),
        'refused within a second',
      );
      const refused = await gateway(system, '/orders/a', keySecret);
      assert.equal(refused.body?.code, 'KEY_INACTIVE');
      assert.ok(Date.now() - started < 1000);
      await system.admin.patch(`/api/v1/developers/${developerId}`, { status: 'active' });
      assert.ok(
        await eventually(async () => (await gateway(system, '/orders/a', keySecret)).status === 200, 1000),
        'works again within a second',
      );
    });

    test('the calls appear in analytics and in the CSV export', async () => {
      const from = new Date(Date.now() - 3_600_000).toISOString();
      assert.ok(
        await eventually(
          async () =>
            (await system.admin.get(`/api/v1/analytics/requests?from=${from}&resolution=minute&key_id=${keyId}`)).body
              .totals?.hits >= 2,
          3000,
        ),
        'analytics counted the calls',
      );
      const res = await fetch(
        `${system.running.urls.admin}/api/v1/analytics/requests.csv?from=${encodeURIComponent(from)}&resolution=minute&group_by=key`,
        { headers: { authorization: `Bearer ${viewer.token}` } },
      );
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      const csv = await res.text();
      const [header, ...rows] = csv.trim().split('\r\n');
      assert.equal(header, 'bucket_start,key,hits,successes,errors,latency_avg_ms,latency_p95_ms,bytes_in,bytes_out');
      assert.ok(
        rows.some((r) => r.split(',')[1] === keyId),
        'a row for the key',
      );
      const noAuth = await fetch(
        `${system.running.urls.admin}/api/v1/analytics/requests.csv?from=${encodeURIComponent(from)}`,
      );
      assert.equal(noAuth.status, 401);
    });

    test('the OpenAPI document lists the webhook and export routes and none of the dashboard pages', async () => {
      const doc = await system.admin.get('/api/v1/openapi.json');
      for (const path of [
        '/webhooks',
        '/webhooks/{id}/deliveries',
        '/webhook-deliveries/{id}/retry',
        '/analytics/requests.csv',
      ])
        assert.ok(doc.body.paths[path], path);
      for (const path of ['/login', '/apis/new', '/analytics.csv', '/key-requests/bulk'])
        assert.equal(doc.body.paths[path], undefined, path);
      assert.ok(doc.body.paths['/apis'].post.requestBody, 'the REST /apis is not shadowed by the dashboard page');
    });

    test('audit events cannot be changed or deleted', async () => {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await system.admin.request(method, '/api/v1/audit-events', method === 'DELETE' ? undefined : {});
        assert.equal(res.status, 405, method);
      }
      const actions = (await system.admin.get('/api/v1/audit-events?limit=200')).body.data.map((e: any) => e.action);
      assert.ok(actions.includes('developer.updated'));
    });

    test('admins get an email when a key request waits for approval, unless switched off', async () => {
      const manual = await system.admin.post('/api/v1/catalogue', {
        name: 'Reviewed <Orders>',
        policy_id: policyId,
        approval: 'manual',
      });
      const dev = await signUpDeveloper(system, 'waits@example.com');
      const request = await dev.post('/api/v1/key-requests', { catalogue_id: manual.body.id, key_name: 'staging' });
      assert.equal(request.body.status, 'pending');
      const sent = () =>
        system
          .logs()
          .split('\n')
          .filter((l) => l.includes('Key request waiting for approval'));
      assert.ok(await eventually(async () => sent().length >= 1, 2000), 'a notification was sent');
      const mail = JSON.parse(sent()[0]!) as { mail: { to: string; subject: string; text: string } };
      assert.equal(mail.mail.to, 'owner@example.com');
      assert.equal(mail.mail.subject, 'Key request waiting for approval: Reviewed <Orders>');
      assert.match(mail.mail.text, /waits@example\.com asked for access to Reviewed <Orders> \(key "staging"\)/);
      assert.ok(!sent().some((l) => l.includes('viewer@example.com')), 'viewers are not notified');

      await system.admin.patch('/api/v1/settings', { notify_admins_on_request: false });
      const before = sent().length;
      const other = await signUpDeveloper(system, 'quiet@example.com');
      await other.post('/api/v1/key-requests', { catalogue_id: manual.body.id, key_name: 'staging' });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sent().length, before, 'no email when switched off');
    });

    test('admin sign-in is throttled per account, and a good password does not get through the lock', async () => {
      const anon = system.admin.withToken('');
      await system.admin.post('/api/v1/admins', {
        email: 'throttled@example.com',
        password: 'right-password-1',
        role: 'admin',
      });
      for (let i = 0; i < 5; i++) {
        const res = await anon.post('/api/v1/auth/tokens', { email: 'throttled@example.com', password: `wrong-${i}` });
        assert.equal(res.status, 401, `attempt ${i + 1}`);
      }
      const locked = await anon.post('/api/v1/auth/tokens', {
        email: 'throttled@example.com',
        password: 'right-password-1',
      });
      assert.equal(locked.status, 429);
      assert.equal(locked.body.error.code, 'TOO_MANY_REQUESTS');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      // Other accounts are not locked by it.
      const other = await anon.post('/api/v1/auth/tokens', {
        email: 'viewer@example.com',
        password: 'viewer-password-1',
      });
      assert.equal(other.status, 201);
    });
  });
}
