import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { verifySignature } from '../../src/modules/webhooks/index.js';
import { dialects } from '../helpers/db.js';
import { eventually, signUpDeveloper, startSystem, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startWebhookReceiver, type ReceivedHook, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const events = (r: WebhookReceiver) =>
  r.received.filter((h) => h.status === 200).map((h) => JSON.parse(h.body) as { id: string; type: string; data: any });

function assertSigned(hook: ReceivedHook, secret: string): void {
  const signature = hook.headers['x-gatehouse-signature'];
  const timestamp = hook.headers['x-gatehouse-timestamp'];
  assert.equal(typeof signature, 'string');
  assert.match(String(signature), /^sha256=[0-9a-f]{64}$/);
  // Computed here as a receiver would, not with the product's own helper.
  const expected = createHmac('sha256', secret)
    .update(`${String(timestamp)}.${hook.body}`)
    .digest('hex');
  assert.equal(signature, `sha256=${expected}`, 'HMAC-SHA256(secret, "<timestamp>.<body>")');
  assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60, 'the timestamp is unix seconds, now');
  assert.ok(
    verifySignature(secret, String(timestamp), hook.body, String(signature)),
    'signature verifies with the secret',
  );
  assert.ok(
    !verifySignature(secret, String(timestamp), `${hook.body} `, String(signature)),
    'a changed body does not verify',
  );
  assert.ok(
    !verifySignature('whsec_wrong', String(timestamp), hook.body, String(signature)),
    'another secret does not verify',
  );
}

for (const dialect of dialects()) {
  describe(`webhooks on ${dialect}`, () => {
    let system: TestSystem;
    let receiver: WebhookReceiver;
    let upstream: Upstream;
    let secret: string;
    let hookId: string;

    before(async () => {
      receiver = await startWebhookReceiver();
      upstream = await startUpstream();
      system = await startSystem(dialect, { webhook_retry_base_ms: 150, webhook_max_attempts: 3 });
      const created = await system.admin.post('/api/v1/webhooks', {
        url: receiver.url,
        description: 'test receiver',
        events: [
          'developer.created',
          'key_request.created',
          'key_request.approved',
          'key_request.rejected',
          'key.created',
          'key.rolled',
          'key.revoked',
          'quota.exhausted',
        ],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.secret, /^whsec_/);
      secret = created.body.secret;
      hookId = created.body.id;
    });

    after(async () => {
      await system?.stop();
      await receiver?.close();
      await upstream?.close();
    });

    test('the secret is only in the creating response', async () => {
      const got = await system.admin.get(`/api/v1/webhooks/${hookId}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.secret, undefined);
      const listed = await system.admin.get('/api/v1/webhooks');
      assert.equal(listed.body.data[0].secret, undefined);
      assert.ok(!JSON.stringify(listed.body).includes(secret));
    });

    test('a failed delivery is retried with backoff and arrives signed, with the same delivery id', async () => {
      // The receiver fails the first attempt of every delivery.
      const seen = new Set<string>();
      receiver.respond = (hook) => {
        const id = String(hook.headers['x-gatehouse-delivery']);
        if (seen.has(id)) return 200;
        seen.add(id);
        return 500;
      };
      await signUpDeveloper(system, 'hooked@example.com');
      assert.ok(
        await eventually(async () => events(receiver).some((e) => e.type === 'developer.created'), 5000),
        'developer.created arrives',
      );
      const attempts = receiver.received.filter((h) => h.headers['x-gatehouse-event'] === 'developer.created');
      assert.equal(attempts.length, 2, 'one failed attempt, one retry');
      assert.deepEqual(
        attempts.map((a) => a.status),
        [500, 200],
      );
      assert.equal(attempts[0]!.headers['x-gatehouse-delivery'], attempts[1]!.headers['x-gatehouse-delivery']);
      assert.equal(attempts[0]!.body, attempts[1]!.body, 'the same event body is sent again');
      assert.ok(attempts[1]!.at - attempts[0]!.at >= 140, `backoff waited (${attempts[1]!.at - attempts[0]!.at} ms)`);
      for (const a of attempts) assertSigned(a, secret);
      const event = events(receiver).find((e) => e.type === 'developer.created')!;
      assert.equal(event.data.email, 'hooked@example.com');
      assert.equal(event.data.password, undefined);
      assert.match(event.id, /^ev_/);

      const log = await system.admin.get(`/api/v1/webhooks/${hookId}/deliveries`);
      const delivery = log.body.data.find((d: any) => d.event === 'developer.created');
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.attempts, 2);
      assert.equal(delivery.last_status_code, 200);
    });

    test('key request, approval, key creation, roll and revocation are told, never with a secret', async () => {
      receiver.respond = () => 200;
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Hooks API',
        listen_path: '/hooks-api',
        target_url: upstream.url,
      });
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'One call',
        quota_max: 1,
        quota_renewal_rate: 3600,
        access_rights: [{ api_id: api.body.id }],
      });
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Hooks',
        policy_id: policy.body.id,
        approval: 'manual',
      });
      const dev = await signUpDeveloper(system, 'requester@example.com');
      const request = await dev.post('/api/v1/key-requests', { catalogue_id: entry.body.id, key_name: 'prod' });
      assert.equal(request.status, 201);
      const approved = await system.admin.post(`/api/v1/key-requests/${request.body.id}/approve`);
      assert.equal(approved.status, 200);
      const keyId = approved.body.key_id;
      const rolled = await dev.post(`/api/v1/keys/${keyId}/roll`);
      assert.equal(rolled.status, 200);
      const keySecret: string = rolled.body.secret;

      // Quota 1: the second call is refused with QUOTA_EXCEEDED, which the worker reports.
      const first = await fetch(`${system.gatewayUrl}/hooks-api/x`, { headers: { 'x-api-key': keySecret } });
      await first.text();
      const second = await fetch(`${system.gatewayUrl}/hooks-api/x`, { headers: { 'x-api-key': keySecret } });
      await second.text();
      assert.equal(second.status, 429);

      const revoked = await system.admin.delete(`/api/v1/keys/${keyId}`);
      assert.equal(revoked.status, 200);
      const wanted = ['key_request.created', 'key_request.approved', 'key.created', 'key.rolled', 'key.revoked'];
      assert.ok(
        await eventually(
          async () =>
            wanted.every((t) =>
              events(receiver).some(
                (e) =>
                  e.type === t && (e.data.key_id === keyId || e.data.id === keyId || e.data.id === request.body.id),
              ),
            ),
          5000,
        ),
        `all of ${wanted.join(', ')} arrive`,
      );
      assert.ok(
        await eventually(
          async () => events(receiver).some((e) => e.type === 'quota.exhausted' && e.data.key_id === keyId),
          9000,
        ),
        'quota.exhausted arrives',
      );
      for (const hook of receiver.received) {
        assert.ok(!hook.body.includes(keySecret), 'no key secret in any webhook body');
        assertSigned(hook, secret);
      }
      const rolledEvent = events(receiver).find((e) => e.type === 'key.rolled')!;
      assert.equal(rolledEvent.data.first_secret, true);
      assert.equal(rolledEvent.data.secret, undefined);
    });

    test('a receiver that keeps failing gets the configured number of attempts, then the delivery is failed', async () => {
      const failing = await startWebhookReceiver();
      failing.respond = () => 503;
      try {
        const hook = await system.admin.post('/api/v1/webhooks', { url: failing.url, events: ['developer.created'] });
        await signUpDeveloper(system, 'nobody-listens@example.com');
        assert.ok(
          await eventually(async () => {
            const log = await system.admin.get(`/api/v1/webhooks/${hook.body.id}/deliveries`);
            return log.body.data[0]?.status === 'failed';
          }, 5000),
          'the delivery ends as failed',
        );
        assert.equal(failing.received.length, 3);
        const log = await system.admin.get(`/api/v1/webhooks/${hook.body.id}/deliveries`);
        assert.equal(log.body.data[0].attempts, 3);
        assert.equal(log.body.data[0].last_status_code, 503);
        // A manual redelivery goes out again.
        failing.respond = () => 200;
        const retry = await system.admin.post(`/api/v1/webhook-deliveries/${log.body.data[0].id}/retry`);
        assert.equal(retry.status, 202);
        assert.ok(await eventually(async () => failing.received.some((r) => r.status === 200), 3000));
      } finally {
        await failing.close();
      }
    });

    test('a ping reaches the receiver; a viewer may read the log but not change webhooks', async () => {
      receiver.respond = () => 200;
      const ping = await system.admin.post(`/api/v1/webhooks/${hookId}/ping`);
      assert.equal(ping.status, 202);
      assert.ok(await eventually(async () => events(receiver).some((e) => e.type === 'ping'), 3000));
      await system.admin.post('/api/v1/admins', {
        email: 'hook-viewer@example.com',
        password: 'viewer-password-1',
        role: 'viewer',
      });
      const login = await system.admin
        .withToken('')
        .post('/api/v1/auth/tokens', { email: 'hook-viewer@example.com', password: 'viewer-password-1' });
      const viewer = system.admin.withToken(login.body.token);
      assert.equal((await viewer.get(`/api/v1/webhooks/${hookId}/deliveries`)).status, 200);
      assert.equal((await viewer.post('/api/v1/webhooks', { url: receiver.url, events: ['key.created'] })).status, 403);
      assert.equal((await viewer.patch(`/api/v1/webhooks/${hookId}`, { rotate_secret: true })).status, 403);
      assert.equal((await viewer.delete(`/api/v1/webhooks/${hookId}`)).status, 403);
      assert.equal((await viewer.post(`/api/v1/webhooks/${hookId}/ping`)).status, 403);
    });
  });
}
