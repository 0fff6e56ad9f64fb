import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects } from '../helpers/db.js';
import { ADMIN, eventually, signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/** Calls the gateway with a key in X-API-Key and returns status and JSON body. */
async function callGateway(system: TestSystem, path: string, key?: string) {
  const res = await fetch(`${system.gatewayUrl}${path}`, { headers: key ? { 'x-api-key': key } : {} });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body };
}

for (const dialect of dialects()) {
  describe(`both portal workflows end to end on ${dialect}`, () => {
    let system: TestSystem;
    let upstream: Upstream;
    let apiId: string;
    let policyId: string;
    const secrets: string[] = [];

    before(async () => {
      upstream = await startUpstream();
      system = await startSystem(dialect);
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Orders',
        listen_path: '/orders',
        target_url: upstream.url,
      });
      assert.equal(api.status, 201, JSON.stringify(api.body));
      apiId = api.body.id;
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Basic',
        rate: 1000,
        per: 1,
        access_rights: [{ api_id: apiId }],
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      policyId = policy.body.id;
      const settings = await system.admin.patch('/api/v1/settings', {
        signup_fields: [
          { name: 'name', label: 'Full name', type: 'text', required: true },
          { name: 'role', label: 'Role', type: 'select', required: true, options: ['backend', 'frontend'] },
          { name: 'terms', label: 'I accept the terms', type: 'checkbox', required: true },
        ],
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
    });

    after(async () => {
      await system?.stop();
      await upstream?.close();
    });

    test('the admin API creates an API with the listen path normalised and audit recorded', async () => {
      const got = await system.admin.get(`/api/v1/apis/${apiId}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.listen_path, '/orders/');
      assert.equal(got.body.strip_listen_path, true);
      assert.equal(got.body.auth, 'key');
      const audit = await system.admin.get(`/api/v1/audit-events?object_id=${apiId}`);
      assert.deepEqual(
        audit.body.data.map((e: any) => e.action),
        ['api.created'],
      );
      assert.equal(audit.body.data[0].actor.type, 'admin');
    });

    test('sign-up validates the custom profile fields and refuses a second account with the same email', async () => {
      const bad = await system.portal.post('/api/v1/developers', {
        email: 'x@example.com',
        password: 'dev-password-1',
        fields: { role: 'designer' },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
      const fields = bad.body.error.details.fields.map((f: any) => f.field).sort();
      assert.deepEqual(fields, ['fields.name', 'fields.role', 'fields.terms']);
      const ok = await system.portal.post('/api/v1/developers', {
        email: 'Alice@Example.com',
        password: 'dev-password-1',
        fields: { name: 'Alice', role: 'backend', terms: true, extra: 'dropped' },
      });
      assert.equal(ok.status, 201);
      assert.deepEqual(ok.body.fields, { name: 'Alice', role: 'backend', terms: true });
      assert.equal(ok.body.password, undefined);
      const again = await system.portal.post('/api/v1/developers', {
        email: 'alice@example.COM',
        password: 'dev-password-2',
        fields: { name: 'A', role: 'backend', terms: true },
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'EMAIL_TAKEN');
      const list = await system.admin.get('/api/v1/developers?email=alice');
      assert.equal(list.body.data.length, 1);
    });

    test('auto approval: request → key secret once → gateway admits → revoke → refused within a second', async () => {
      // A second API outside the policy, and a third the policy grants only in part.
      const other = await system.admin.post('/api/v1/apis', {
        name: 'Other',
        listen_path: '/other/',
        target_url: upstream.url,
      });
      const restrictedApi = await system.admin.post('/api/v1/apis', {
        name: 'Restricted',
        listen_path: '/restricted/',
        target_url: upstream.url,
      });
      assert.equal(other.status, 201);
      const freePolicy = await system.admin.post('/api/v1/policies', {
        name: 'Free',
        access_rights: [
          { api_id: apiId },
          { api_id: restrictedApi.body.id, allowed_urls: [{ path: '/public/.*', methods: ['GET'] }] },
        ],
      });
      assert.equal(freePolicy.status, 201, JSON.stringify(freePolicy.body));
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders Free',
        policy_id: freePolicy.body.id,
        approval: 'auto',
        key_request_fields: [{ name: 'use_case', label: 'Use case', type: 'textarea', required: true }],
      });
      assert.equal(entry.status, 201, JSON.stringify(entry.body));
      const dev = await signUpDeveloper(system, 'auto@example.com', { name: 'Auto', role: 'backend', terms: true });

      const view = await system.portal.get(`/api/v1/catalogue/${entry.body.id}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.policy.rate_text, 'unlimited');
      assert.deepEqual(view.body.apis.map((a: any) => a.listen_path).sort(), ['/orders/', '/restricted/']);
      assert.match(view.body.apis[0].gateway_url, /^http:\/\/127\.0\.0\.1:\d+\/orders\/$/);

      const missing = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id, key_name: 'prod' });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.details.fields[0].field, 'fields.use_case');

      const req = await dev.post('/api/v1/key-requests', {
        catalogue_id: entry.body.id,
        key_name: 'prod',
        fields: { use_case: 'shop' },
      });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      assert.equal(req.body.status, 'approved');
      const secret: string = req.body.key.secret;
      secrets.push(secret);
      assert.match(secret, /^gh_[0-9A-Za-z]{40}$/);
      assert.equal(req.body.key.prefix, secret.slice(0, 8));

      // Without a key, with a wrong key, outside the policy, outside allowed_urls.
      const missingKey = await callGateway(system, '/orders/list');
      assert.deepEqual([missingKey.status, missingKey.body.code], [401, 'KEY_MISSING']);
      const wrongKey = await callGateway(system, '/orders/list', `gh_${'x'.repeat(40)}`);
      assert.deepEqual([wrongKey.status, wrongKey.body.code], [401, 'KEY_INVALID']);
      assert.ok(await eventually(async () => (await callGateway(system, '/other/thing', secret)).status === 403));
      const outside = await callGateway(system, '/other/thing', secret);
      assert.equal(outside.body.code, 'API_FORBIDDEN');
      const restricted = await callGateway(system, '/restricted/admin', secret);
      assert.deepEqual([restricted.status, restricted.body.code], [403, 'RESOURCE_FORBIDDEN']);
      const restrictedPost = await fetch(`${system.gatewayUrl}/restricted/public/x`, {
        method: 'POST',
        headers: { 'x-api-key': secret },
      });
      assert.equal(restrictedPost.status, 403);
      assert.equal(((await restrictedPost.json()) as any).code, 'RESOURCE_FORBIDDEN');
      assert.equal((await callGateway(system, '/restricted/public/x', secret)).status, 200);

      const keys = await dev.get('/api/v1/keys');
      assert.equal(keys.body.data.length, 1);
      assert.equal(keys.body.data[0].secret, undefined);
      assert.ok(!JSON.stringify(keys.body).includes(secret));

      assert.ok(await eventually(async () => (await callGateway(system, '/orders/list?x=1', secret)).status === 200));
      const ok = await callGateway(system, '/orders/list?x=1', secret);
      assert.equal(ok.body.url, '/list?x=1');
      assert.equal(ok.body.headers['x-api-key'], undefined, 'the key is not passed upstream');

      const revoked = await dev.delete(`/api/v1/keys/${req.body.key.id}`);
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.status, 'revoked');
      const started = Date.now();
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/list', secret)).status === 403, 1000));
      assert.ok(Date.now() - started < 1000);
      assert.equal((await callGateway(system, '/orders/list', secret)).body.code, 'KEY_INACTIVE');

      // The slot is free again after revocation: a new request is accepted.
      const again = await dev.post('/api/v1/key-requests', {
        catalogue_id: entry.body.id,
        key_name: 'prod',
        fields: { use_case: 'shop' },
      });
      assert.equal(again.status, 201);
      secrets.push(again.body.key.secret);
    });

    test('manual approval: pending → admin approves → developer reveals once → rolls → old secret refused', async () => {
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders Pro',
        policy_id: policyId,
        approval: 'manual',
        visibility: 'members',
      });
      assert.equal(entry.status, 201);
      // Members-only entries are hidden from anonymous visitors.
      assert.equal((await system.portal.get(`/api/v1/catalogue/${entry.body.id}`)).status, 404);
      const dev = await signUpDeveloper(system, 'manual@example.com', {
        name: 'Manual',
        role: 'frontend',
        terms: true,
      });
      assert.equal((await dev.get(`/api/v1/catalogue/${entry.body.id}`)).status, 200);

      const req = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id, key_name: 'main' });
      assert.equal(req.status, 201);
      assert.equal(req.body.status, 'pending');
      assert.equal(req.body.key, undefined);

      const pending = await system.admin.get('/api/v1/key-requests?status=pending');
      assert.ok(pending.body.data.some((r: any) => r.id === req.body.id));

      const approved = await system.admin.post(`/api/v1/key-requests/${req.body.id}/approve`);
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.status, 'approved');
      assert.equal(approved.body.key.secret, undefined, 'an approved key has no secret until revealed');
      assert.equal(approved.body.key.has_secret, false);
      const twice = await system.admin.post(`/api/v1/key-requests/${req.body.id}/approve`);
      assert.equal(twice.status, 409);
      assert.equal(twice.body.error.code, 'INVALID_STATE');

      const keyId = approved.body.key_id;
      const reveal = await dev.post(`/api/v1/keys/${keyId}/roll`);
      assert.equal(reveal.status, 200);
      const first: string = reveal.body.secret;
      secrets.push(first);
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/a', first)).status === 200));

      const roll = await dev.post(`/api/v1/keys/${keyId}/roll`);
      const second: string = roll.body.secret;
      secrets.push(second);
      assert.notEqual(first, second);
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/a', first)).status === 401, 1000));
      assert.equal((await callGateway(system, '/orders/a', first)).body.code, 'KEY_INVALID');
      assert.equal((await callGateway(system, '/orders/a', second)).status, 200);

      // The admin revokes it: refused within a second.
      const adminRevoke = await system.admin.delete(`/api/v1/keys/${keyId}`);
      assert.equal(adminRevoke.status, 200);
      const revokedAt = Date.now();
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/a', second)).status === 403, 1000));
      assert.ok(Date.now() - revokedAt < 1000);

      // Another developer cannot see or roll this key.
      const other = await signUpDeveloper(system, 'other@example.com', { name: 'Other', role: 'backend', terms: true });
      assert.equal((await other.post(`/api/v1/keys/${keyId}/roll`)).status, 404);
      assert.equal((await other.get(`/api/v1/keys/${keyId}`)).status, 404);
    });

    test('rejection frees the slot and records the reason', async () => {
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders Gold',
        policy_id: policyId,
        approval: 'manual',
      });
      const dev = await signUpDeveloper(system, 'rejected@example.com', { name: 'R', role: 'backend', terms: true });
      const req = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id });
      const noReason = await system.admin.post(`/api/v1/key-requests/${req.body.id}/reject`, {});
      assert.equal(noReason.status, 400);
      const rejected = await system.admin.post(`/api/v1/key-requests/${req.body.id}/reject`, {
        reason: 'Tell us more',
      });
      assert.equal(rejected.body.status, 'rejected');
      assert.equal(rejected.body.reason, 'Tell us more');
      const again = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id });
      assert.equal(again.status, 201);
      assert.equal(again.body.status, 'pending');
    });

    test('a double-submitted request yields one request and one key', async () => {
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders Double',
        policy_id: policyId,
        approval: 'auto',
      });
      const dev = await signUpDeveloper(system, 'double@example.com', { name: 'D', role: 'backend', terms: true });
      const body = { catalogue_id: entry.body.id, key_name: 'k' };
      const results = await Promise.all(Array.from({ length: 5 }, () => dev.post('/api/v1/key-requests', body)));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409]);
      const conflict = results.find((r) => r.status === 409)!;
      assert.equal(conflict.body.error.code, 'KEY_LIMIT_REACHED');
      const created = results.find((r) => r.status === 201)!;
      secrets.push(created.body.key.secret);
      const keys = await dev.get('/api/v1/keys');
      assert.equal(keys.body.data.length, 1);
      const requests = await dev.get('/api/v1/key-requests');
      assert.equal(requests.body.data.length, 1);

      // An entry that allows several keys takes one per distinct name.
      const multi = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders Multi',
        policy_id: policyId,
        approval: 'auto',
        allow_multiple_keys: true,
      });
      const a = await dev.post('/api/v1/key-requests', { catalogue_id: multi.body.id, key_name: 'staging' });
      const b = await dev.post('/api/v1/key-requests', { catalogue_id: multi.body.id, key_name: 'production' });
      const c = await dev.post('/api/v1/key-requests', { catalogue_id: multi.body.id, key_name: 'Production' });
      assert.deepEqual([a.status, b.status, c.status], [201, 201, 409]);
      secrets.push(a.body.key.secret, b.body.key.secret);
    });

    test('admin issues, patches and revokes keys; deactivating a developer stops their keys', async () => {
      const dev = await signUpDeveloper(system, 'issued@example.com', { name: 'I', role: 'backend', terms: true });
      const me = await dev.get('/api/v1/me');
      const issued = await system.admin.post('/api/v1/keys', {
        developer_id: me.body.id,
        name: 'ops',
        policy_ids: [policyId],
      });
      assert.equal(issued.status, 201);
      const secret: string = issued.body.secret;
      secrets.push(secret);
      const fetched = await system.admin.get(`/api/v1/keys/${issued.body.id}`);
      assert.equal(fetched.body.secret, undefined);
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/', secret)).status === 200));

      const expired = await system.admin.patch(`/api/v1/keys/${issued.body.id}`, {
        expires_at: new Date(Date.now() - 1000).toISOString(),
      });
      assert.equal(expired.status, 200);
      assert.ok(
        await eventually(async () => (await callGateway(system, '/orders/', secret)).body.code === 'KEY_EXPIRED'),
      );
      await system.admin.patch(`/api/v1/keys/${issued.body.id}`, { expires_at: null });
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/', secret)).status === 200));

      const deactivated = await system.admin.patch(`/api/v1/developers/${me.body.id}`, { status: 'inactive' });
      assert.equal(deactivated.body.status, 'inactive');
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/', secret)).status === 403, 1000));
      assert.equal((await dev.get('/api/v1/me')).status, 401, 'the developer token stops working too');
      await system.admin.patch(`/api/v1/developers/${me.body.id}`, { status: 'active' });
      assert.ok(await eventually(async () => (await callGateway(system, '/orders/', secret)).status === 200, 1000));

      const limits = await system.admin.get(`/api/v1/keys/${issued.body.id}/limits`);
      assert.equal(limits.status, 200);
      assert.equal(limits.body.rate_limit.limit, 1000);

      const revoked = await system.admin.delete(`/api/v1/keys/${issued.body.id}`);
      assert.equal(revoked.body.status, 'revoked');
      const patchRevoked = await system.admin.patch(`/api/v1/keys/${issued.body.id}`, { status: 'active' });
      assert.equal(patchRevoked.status, 409);
    });

    test('bad input gets a clear error and writes nothing', async () => {
      const before = (await system.admin.get('/api/v1/apis')).body.data.length;
      const malformed = await system.admin.request('POST', '/api/v1/apis', '{"name": "x",', {
        'content-type': 'application/json',
      });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'MALFORMED_JSON');
      const missing = await system.admin.post('/api/v1/apis', { name: 'No path' });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body.error.details.fields.map((f: any) => f.field).sort(), [
        'listen_path',
        'target_url',
      ]);
      const badUrl = await system.admin.post('/api/v1/apis', {
        name: 'Bad',
        listen_path: '/bad/../x',
        target_url: 'ftp://x',
      });
      assert.equal(badUrl.status, 400);
      assert.deepEqual(badUrl.body.error.details.fields.map((f: any) => f.field).sort(), ['listen_path', 'target_url']);
      const unknownField = await system.admin.post('/api/v1/apis', {
        name: 'U',
        listen_path: '/u',
        target_url: 'http://127.0.0.1:1',
        colour: 'red',
      });
      assert.equal(unknownField.status, 400);
      assert.equal(unknownField.body.error.details.fields[0].field, 'colour');
      const duplicate = await system.admin.post('/api/v1/apis', {
        name: 'Dup',
        listen_path: '/orders/',
        target_url: 'http://127.0.0.1:1',
      });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error.code, 'LISTEN_PATH_TAKEN');
      const huge = await system.admin.post('/api/v1/apis', {
        name: 'x'.repeat(2 * 1024 * 1024),
        listen_path: '/h',
        target_url: 'http://127.0.0.1:1',
      });
      assert.equal(huge.status, 413);
      assert.equal(huge.body.error.code, 'PAYLOAD_TOO_LARGE');
      const unknownId = await system.admin.get('/api/v1/apis/api_nope');
      assert.equal(unknownId.status, 404);
      assert.equal(unknownId.body.error.code, 'NOT_FOUND');
      const badPolicy = await system.admin.post('/api/v1/policies', {
        name: 'P',
        access_rights: [{ api_id: 'api_nope', allowed_urls: [{ path: '(', methods: ['GET'] }] }],
      });
      assert.equal(badPolicy.status, 400);
      assert.deepEqual(badPolicy.body.error.details.fields.map((f: any) => f.field).sort(), [
        'access_rights.0.allowed_urls.0.path',
        'access_rights.0.api_id',
      ]);
      assert.equal((await system.admin.get('/api/v1/apis')).body.data.length, before);

      const inUse = await system.admin.delete(`/api/v1/apis/${apiId}`);
      assert.equal(inUse.status, 409);
      assert.equal(inUse.body.error.code, 'IN_USE');
      assert.ok(inUse.body.error.details.policy_ids.includes(policyId));
    });

    test('concurrent edits: a stale version is refused with 409', async () => {
      const current = await system.admin.get(`/api/v1/policies/${policyId}`);
      const v = current.body.version;
      const first = await system.admin.patch(`/api/v1/policies/${policyId}`, { name: 'Basic v2', version: v });
      assert.equal(first.status, 200);
      assert.equal(first.body.version, v + 1);
      const stale = await system.admin.patch(`/api/v1/policies/${policyId}`, { name: 'Basic v3', version: v });
      assert.equal(stale.status, 409);
      assert.equal(stale.body.error.code, 'CONFLICT');
      assert.equal((await system.admin.get(`/api/v1/policies/${policyId}`)).body.name, 'Basic v2');
    });

    test('authentication and roles are enforced on the server', async () => {
      const anonymous = await system.admin.withToken('nope').get('/api/v1/apis');
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'UNAUTHENTICATED');
      // The developer API checks the caller before the body: no field errors for strangers.
      for (const [method, path, body] of [
        ['post', '/api/v1/key-requests', { catalogue_id: 42, surprise: true }],
        ['patch', '/api/v1/me', { fields: 'nope' }],
        ['get', '/api/v1/usage?from=yesterday', undefined],
      ] as const) {
        const res =
          method === 'get'
            ? await system.portal.get(path)
            : method === 'post'
              ? await system.portal.post(path, body)
              : await system.portal.patch(path, body);
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(res.body.error.code, 'UNAUTHENTICATED');
      }
      const wrong = await system.admin
        .withToken('')
        .post('/api/v1/auth/tokens', { email: 'owner@example.com', password: 'wrong-password' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'INVALID_CREDENTIALS');
      const viewer = await system.admin.post('/api/v1/admins', {
        email: 'viewer@example.com',
        password: 'viewer-password',
        role: 'viewer',
      });
      assert.equal(viewer.status, 201);
      const login = await system.admin
        .withToken('')
        .post('/api/v1/auth/tokens', { email: 'viewer@example.com', password: 'viewer-password' });
      const asViewer: Client = system.admin.withToken(login.body.token);
      assert.equal((await asViewer.get('/api/v1/apis')).status, 200);
      const write = await asViewer.post('/api/v1/apis', {
        name: 'V',
        listen_path: '/v',
        target_url: 'http://127.0.0.1:1',
      });
      assert.equal(write.status, 403);
      assert.equal(write.body.error.code, 'FORBIDDEN');
      assert.equal((await asViewer.get('/api/v1/admins')).status, 403);
      const devs = await asViewer.get('/api/v1/developers');
      assert.equal(devs.status, 200);
      assert.ok(devs.body.data.every((d: any) => d.password_hash === undefined && d.password === undefined));
      assert.equal((await system.portal.get('/api/v1/keys')).status, 401);
    });

    test('the admin API publishes an OpenAPI 3.1 document', async () => {
      const doc = await system.admin.get('/api/v1/openapi.json');
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.1.0');
      assert.equal(doc.body.servers[0].url, '/api/v1');
      for (const path of [
        '/apis',
        '/policies/{id}',
        '/catalogue',
        '/key-requests/{id}/approve',
        '/keys/{id}/reset-quota',
        '/audit-events',
      ]) {
        assert.ok(doc.body.paths[path], `${path} documented`);
      }
      assert.ok(doc.body.paths['/apis'].post.requestBody.content['application/json'].schema.properties.listen_path);
    });

    test('no key secret ever reaches the logs', () => {
      assert.ok(secrets.length >= 5);
      const logs = system.logs();
      for (const secret of secrets) assert.ok(!logs.includes(secret), 'secret found in logs');
      for (const password of [ADMIN.password, 'dev-password-1', 'viewer-password'])
        assert.ok(!logs.includes(password), 'a password found in logs');
    });

    test('no key secret, password or bearer token is stored in clear in any table', async () => {
      const { db } = system.running.database;
      const tables = [
        'admin_users',
        'admin_tokens',
        'developers',
        'developer_tokens',
        'keys',
        'key_requests',
        'audit_events',
        'analytics_records',
        'analytics_record_chunks',
        'webhook_deliveries',
        'meta',
      ] as const;
      let dump = '';
      for (const table of tables) dump += JSON.stringify(await db.selectFrom(table).selectAll().execute());
      const login = await system.portal.post('/api/v1/auth/tokens', {
        email: 'manual@example.com',
        password: 'dev-password-1',
      });
      const developerToken: string = login.body.token;
      dump += JSON.stringify(await db.selectFrom('developer_tokens').selectAll().execute());
      const clear = [
        ...secrets,
        ADMIN.password,
        'dev-password-1',
        'viewer-password',
        system.admin.token!,
        developerToken,
      ];
      for (const value of clear) assert.ok(!dump.includes(value), `stored in clear: ${value.slice(0, 6)}…`);
      const keys = await db
        .selectFrom('keys')
        .select(['hash', 'prefix', 'last4'])
        .where('hash', 'is not', null)
        .execute();
      assert.ok(keys.length >= 5);
      for (const k of keys) assert.match(String(k.hash), /^[0-9a-f]{64}$/, 'keys keep only a SHA-256');
      const users = await db.selectFrom('developers').select('password_hash').execute();
      for (const u of users) assert.doesNotMatch(u.password_hash, /^dev-password/);
    });
  });
}
