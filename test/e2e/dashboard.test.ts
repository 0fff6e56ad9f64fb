import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieClient } from '../helpers/cookie-client.js';
import { dialects } from '../helpers/db.js';
import { ADMIN, eventually, signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The admin dashboard's pages and forms over real HTTP, the way a browser posts them
 * (session cookie, CSRF token, urlencoded forms, redirects with a flash), for what the
 * browser test does not walk through: own account (password, personal tokens), admin
 * users, the API delete guard, policy usage, the inbox in bulk, developers, keys,
 * portal settings, pages, webhooks and the audit filter. Each result is checked
 * through the REST API or the gateway, not only in the HTML.
 */

type Form = Record<string, string | string[]>;

function decode(html: string): string {
  return html
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Text inside the element carrying `data-testid`, tags dropped. */
function testId(html: string, id: string): string | null {
  // The element's own closing tag (these elements do not nest their own kind).
  const match = new RegExp(`<(\\w+)[^>]*data-testid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return match ? decode((match[2] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')).trim() : null;
}

/** A browser-like session on the admin dashboard: cookies, CSRF token of the last page. */
class AdminSession extends CookieClient {
  csrf = '';

  async page(path: string): Promise<{ status: number; html: string }> {
    const res = await this.fetch(path);
    const html = await res.text();
    this.csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? this.csrf;
    return { status: res.status, html };
  }

  /** Posts a form; a redirect is followed once so the flash message can be read. */
  async post(
    path: string,
    form: Form = {},
  ): Promise<{ status: number; location: string | null; html: string; flash: string | null }> {
    const body = new URLSearchParams();
    body.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    const res = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    const location = res.headers.get('location');
    if (res.status === 302 || res.status === 303) {
      await res.text();
      const next = await this.page(location ?? '/');
      return { status: res.status, location, html: next.html, flash: testId(next.html, 'flash') };
    }
    const html = await res.text();
    this.csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ?? this.csrf;
    return { status: res.status, location, html, flash: testId(html, 'flash') };
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page('/login');
    const res = await this.post('/login', { email, password, next: '/' });
    assert.ok(res.status === 302 || res.status === 303, `sign-in failed: ${res.status}`);
    assert.equal(res.location, '/');
  }
}

async function gateway(system: TestSystem, path: string, key: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${system.gatewayUrl}${path}`, { headers: { 'x-api-key': key } });
  const text = await res.text();
  return { status: res.status, code: text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined };
}

for (const dialect of dialects()) {
  describe(`admin dashboard pages and forms on ${dialect}`, () => {
    let system: TestSystem;
    let upstream: Upstream;
    let receiver: WebhookReceiver;
    let owner: AdminSession;
    let apiId: string;
    let policyId: string;
    let sparePolicyId: string;
    let entryId: string;

    before(async () => {
      upstream = await startUpstream();
      receiver = await startWebhookReceiver();
      system = await startSystem(dialect, { webhook_retry_base_ms: 100, webhook_max_attempts: 2 });
      const api = await system.admin.post('/api/v1/apis', {
        name: 'Orders',
        listen_path: '/orders',
        target_url: upstream.url,
      });
      apiId = api.body.id;
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Orders Basic',
        quota_max: 5,
        quota_renewal_rate: 3600,
        access_rights: [{ api_id: apiId }],
      });
      policyId = policy.body.id;
      sparePolicyId = (await system.admin.post('/api/v1/policies', { name: 'Spare', access_rights: [] })).body.id;
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Orders',
        policy_id: policyId,
        approval: 'manual',
        key_request_fields: [{ name: 'use_case', label: 'Use case', type: 'text', required: false }],
      });
      entryId = entry.body.id;
      owner = new AdminSession(system.running.urls.admin);
      await owner.signIn(ADMIN.email, ADMIN.password);
    });

    after(async () => {
      await system?.stop();
      await upstream?.close();
      await receiver?.close();
    });

    test('own account: a personal API token is shown once, works on the API, is listed by prefix and revoked', async () => {
      await owner.page('/account');
      const created = await owner.post('/account/tokens', { name: 'deploy script', expires_in_days: '30' });
      assert.equal(created.status, 200);
      const token = /data-testid="new-token"[\s\S]*?<div[^>]*>(gha_[^<\s]+)<\/div>/.exec(created.html)?.[1];
      assert.ok(token, 'the token is shown in the creating response');
      const script: Client = system.admin.withToken(token);
      assert.equal((await script.get('/api/v1/apis')).status, 200);
      const again = await owner.page('/account');
      assert.ok(!again.html.includes(token), 'never shown again');
      assert.ok(again.html.includes(`${token.slice(0, 10)}…`), 'listed by its prefix');
      const tokenId = /action="\/account\/tokens\/([^/"]+)\/revoke"/.exec(again.html)?.[1];
      assert.ok(tokenId);
      const revoked = await owner.post(`/account/tokens/${tokenId}/revoke`);
      assert.match(revoked.flash ?? '', /Token revoked/);
      assert.equal((await script.get('/api/v1/apis')).status, 401, 'a revoked token stops at once');
      const audit = await system.admin.get(`/api/v1/audit-events?object_id=${decodeURIComponent(tokenId)}`);
      assert.deepEqual(audit.body.data.map((e: any) => e.action).sort(), [
        'admin_token.created',
        'admin_token.revoked',
      ]);
      assert.ok(!JSON.stringify(audit.body).includes(token), 'the audit log has no token');
    });

    test('admin users: the owner creates an admin, who manages APIs but not admins; a password change ends other sessions', async () => {
      await owner.page('/admins');
      const bad = await owner.post('/admins', { email: 'not-an-email', password: 'x', role: 'admin' });
      assert.equal(bad.status, 400, 'validation errors re-render the form');
      assert.match(bad.html, /value="not-an-email"/, 'input kept');
      const made = await owner.post('/admins', {
        email: 'ada@example.com',
        name: 'Ada',
        password: 'ada-password-1',
        role: 'admin',
      });
      assert.match(made.flash ?? '', /Admin ada@example\.com created/);
      const ada = new AdminSession(system.running.urls.admin);
      await ada.signIn('ada@example.com', 'ada-password-1');
      const second = new AdminSession(system.running.urls.admin);
      await second.signIn('ada@example.com', 'ada-password-1');
      assert.equal((await ada.page('/admins')).status, 403, 'admins are managed by owners only');
      assert.equal(
        (await ada.post('/admins', { email: 'x@example.com', password: 'password-123', role: 'owner' })).status,
        403,
      );
      assert.equal((await ada.page('/apis/new')).status, 200, 'an admin may change APIs');

      await ada.page('/account');
      const mismatch = await ada.post('/account/password', {
        current_password: 'ada-password-1',
        password: 'ada-password-2',
        password_confirm: 'ada-password-3',
      });
      assert.equal(mismatch.status, 400);
      const wrong = await ada.post('/account/password', {
        current_password: 'not-it',
        password: 'ada-password-2',
        password_confirm: 'ada-password-2',
      });
      assert.equal(wrong.status, 400);
      const changed = await ada.post('/account/password', {
        current_password: 'ada-password-1',
        password: 'ada-password-2',
        password_confirm: 'ada-password-2',
      });
      assert.match(changed.flash ?? '', /Password changed/);
      assert.equal((await ada.page('/apis')).status, 200, 'this browser stays signed in');
      assert.equal((await second.page('/apis')).status, 302, 'the other session ended');
      const login = await system.admin
        .withToken('')
        .post('/api/v1/auth/tokens', { email: 'ada@example.com', password: 'ada-password-2' });
      assert.equal(login.status, 201, 'the new password works');
    });

    test('an API referenced by a policy is not deleted, with a clear message', async () => {
      await owner.page(`/apis/${apiId}`);
      const refused = await owner.post(`/apis/${apiId}/delete`);
      assert.match(refused.flash ?? '', /^Not deleted: .*polic/i);
      assert.equal((await system.admin.get(`/api/v1/apis/${apiId}`)).status, 200);
      assert.match(refused.html, /Orders Basic/, 'the API page names the policy that uses it');
    });

    test('the policy page shows the live keys and catalogue entries that use it', async () => {
      const dev = await signUpDeveloper(system, 'policy-user@example.com');
      const me = await dev.get('/api/v1/me');
      const used = await system.admin.post('/api/v1/keys', {
        developer_id: me.body.id,
        name: 'one',
        policy_ids: [policyId],
      });
      const other = await system.admin.post('/api/v1/keys', {
        developer_id: me.body.id,
        name: 'two',
        policy_ids: [sparePolicyId],
      });
      const page = await owner.page(`/policies/${policyId}`);
      assert.equal(testId(page.html, 'policy-key-count'), '1');
      assert.ok(page.html.includes(`href="/catalogue/${entryId}"`), 'links the entry');
      const link = /href="([^"]+)" data-testid="policy-keys-link"/.exec(page.html)?.[1];
      assert.ok(link, 'the count links to the keys');
      const keys = await owner.page(decode(link));
      assert.match(testId(keys.html, 'keys-policy-filter') ?? '', /Orders Basic/);
      assert.ok(keys.html.includes(`/keys/${used.body.id}`), 'the key with the policy is listed');
      assert.ok(!keys.html.includes(`/keys/${other.body.id}`), 'a key without it is not');
      const rest = await system.admin.get(`/api/v1/keys?policy_id=${policyId}`);
      assert.deepEqual(
        rest.body.data.map((k: any) => k.id),
        [used.body.id],
      );
    });

    test('key requests inbox: pending first with profile and answers; approve and reject in bulk, a reason required', async () => {
      const devs: Client[] = [];
      const ids: string[] = [];
      for (const name of ['bulk-a', 'bulk-b', 'bulk-c']) {
        const dev = await signUpDeveloper(system, `${name}@example.com`, { name: `Dev ${name}`, company: 'Acme' });
        const req = await dev.post('/api/v1/key-requests', {
          catalogue_id: entryId,
          key_name: 'main',
          fields: { use_case: `shop for ${name}` },
        });
        assert.equal(req.body.status, 'pending');
        devs.push(dev);
        ids.push(req.body.id);
      }
      const inbox = await owner.page('/key-requests');
      assert.equal(testId(inbox.html, 'pending-badge'), '3');
      for (const id of ids) assert.ok(inbox.html.includes(`data-request-id="${id}"`));
      assert.match(inbox.html, /shop for bulk-a/);
      assert.match(inbox.html, /Acme/);
      assert.match(inbox.html, /Use case/, 'answers under the field label');

      const noReason = await owner.post('/key-requests/bulk', { ids: [ids[2]!], action: 'reject' });
      assert.equal(noReason.status, 400);
      const approved = await owner.post('/key-requests/bulk', { ids: ids.slice(0, 2), action: 'approve' });
      assert.match(approved.flash ?? '', /^2 request\(s\) approved\.$/);
      const rejected = await owner.post('/key-requests/bulk', {
        ids: [ids[2]!, ids[0]!],
        action: 'reject',
        reason: 'Tell us more',
      });
      assert.match(
        rejected.flash ?? '',
        /1 request\(s\) rejected\. Not done: /,
        'an already approved one is not rejected',
      );
      const states = await Promise.all(ids.map((id) => system.admin.get(`/api/v1/key-requests/${id}`)));
      assert.deepEqual(
        states.map((r) => r.body.status),
        ['approved', 'approved', 'rejected'],
      );
      assert.equal(states[2]!.body.reason, 'Tell us more');
      assert.equal(testId((await owner.page('/key-requests')).html, 'pending-badge'), null, 'no badge when none wait');
      assert.equal((await devs[0]!.get('/api/v1/keys')).body.data.length, 1, 'approval created the key');
    });

    test('developers: search by a profile field; deactivating stops their key within a second; delete needs the email', async () => {
      const dev = await signUpDeveloper(system, 'searchable@example.com', { name: 'Grace', company: 'Initech' });
      const me = (await dev.get('/api/v1/me')).body;
      const issued = await system.admin.post('/api/v1/keys', {
        developer_id: me.id,
        name: 'k',
        policy_ids: [policyId],
      });
      const secret: string = issued.body.secret;
      assert.ok(await eventually(async () => (await gateway(system, '/orders/x', secret)).status === 200));

      const found = await owner.page('/developers?q=initech');
      assert.ok(found.html.includes('searchable@example.com'), 'found by the company field');
      assert.ok(!found.html.includes('bulk-a@example.com'), 'others are not listed');
      const byEmail = await owner.page('/developers?q=searchable%40example.com');
      assert.ok(byEmail.html.includes(`/developers/${me.id}`));

      const profile = await owner.page(`/developers/${me.id}`);
      assert.match(profile.html, /Initech/);
      assert.ok(profile.html.includes(`/keys/${issued.body.id}`), 'the profile lists the keys');
      assert.ok(!profile.html.includes(secret));

      const off = await owner.post(`/developers/${me.id}/status`, { status: 'inactive' });
      assert.match(off.flash ?? '', /deactivated/);
      const at = Date.now();
      assert.ok(await eventually(async () => (await gateway(system, '/orders/x', secret)).status === 403, 1000));
      assert.ok(Date.now() - at < 1000);
      assert.equal((await gateway(system, '/orders/x', secret)).code, 'KEY_INACTIVE');
      assert.equal(testId(off.html, 'developer-status'), 'inactive');
      await owner.post(`/developers/${me.id}/status`, { status: 'active' });
      assert.ok(await eventually(async () => (await gateway(system, '/orders/x', secret)).status === 200, 1000));

      const unconfirmed = await owner.post(`/developers/${me.id}/delete`, { confirm_email: 'someone@example.com' });
      assert.equal(unconfirmed.status, 400);
      assert.equal((await system.admin.get(`/api/v1/developers/${me.id}`)).status, 200, 'not deleted');
      const deleted = await owner.post(`/developers/${me.id}/delete`, { confirm_email: 'Searchable@example.com' });
      assert.match(deleted.flash ?? '', /deleted/);
      assert.equal((await system.admin.get(`/api/v1/developers/${me.id}`)).status, 404);
      assert.ok(await eventually(async () => (await gateway(system, '/orders/x', secret)).status === 401, 1000));
    });

    test('keys: found by developer, policies, expiry and status changed, quota reset, revoked', async () => {
      const dev = await signUpDeveloper(system, 'keyholder@example.com');
      const me = (await dev.get('/api/v1/me')).body;
      const issued = await system.admin.post('/api/v1/keys', {
        developer_id: me.id,
        name: 'ops',
        policy_ids: [policyId],
      });
      const keyId: string = issued.body.id;
      const secret: string = issued.body.secret;
      const list = await owner.page('/keys?developer=keyholder%40example.com');
      assert.ok(list.html.includes(`/keys/${keyId}`));
      const byPrefix = await owner.page(`/keys?prefix=${secret.slice(0, 8)}`);
      assert.ok(byPrefix.html.includes(`/keys/${keyId}`));

      for (let i = 0; i < 2; i++)
        assert.ok(await eventually(async () => (await gateway(system, '/orders/q', secret)).status === 200));
      let page = await owner.page(`/keys/${keyId}`);
      assert.equal(testId(page.html, 'quota-remaining'), '3');
      const reset = await owner.post(`/keys/${keyId}/reset-quota`);
      assert.match(reset.flash ?? '', /Quota reset/);
      assert.equal(testId(reset.html, 'quota-remaining'), '5');

      const expiry = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
      const saved = await owner.post(`/keys/${keyId}`, {
        name: 'ops',
        policy_ids: [policyId, sparePolicyId],
        expires_at: expiry,
        status: 'inactive',
      });
      assert.match(saved.flash ?? '', /Key saved/, `${saved.status} ${testId(saved.html, 'form-error')}`);
      const key = (await system.admin.get(`/api/v1/keys/${keyId}`)).body;
      assert.deepEqual([...key.policy_ids].sort(), [policyId, sparePolicyId].sort());
      assert.equal(key.expires_at, `${expiry}:00.000Z`);
      assert.equal(key.status, 'inactive');
      assert.ok(await eventually(async () => (await gateway(system, '/orders/q', secret)).code === 'KEY_INACTIVE'));

      page = await owner.page(`/keys/${keyId}`);
      const bad = await owner.post(`/keys/${keyId}`, { name: 'ops', policy_ids: [policyId], expires_at: 'soon' });
      assert.equal(bad.status, 400);
      const revoked = await owner.post(`/keys/${keyId}/revoke`);
      assert.equal(testId(revoked.html, 'key-status'), 'revoked');
      assert.equal((await system.admin.get(`/api/v1/keys/${keyId}`)).body.status, 'revoked');
      assert.ok(!page.html.includes(secret) && !revoked.html.includes(secret), 'the key page never shows the secret');
    });

    test('portal settings: signup and key-request field editors, default approval and menus are saved; a bad line is shown', async () => {
      await owner.page('/settings');
      const form = {
        site_name: 'Acme APIs',
        theme: 'default',
        custom_css: '.navbar { background: teal; }',
        signup_enabled: 'on',
        default_approval: 'manual',
        notify_admins_on_request: 'on',
        signup_fields: 'name | Full name | text | required\nteam | Team | select | required | red, blue',
        default_key_request_fields: 'use_case | What will you build? | textarea | required',
        menus: 'APIs | /catalogue | main\nStatus | https://status.example.com | footer',
      };
      const bad = await owner.post('/settings', { ...form, signup_fields: 'team | Team | colour | required' });
      assert.equal(bad.status, 400);
      assert.match(decode(bad.html), /team \| Team \| colour \| required/, 'input kept');
      assert.notEqual((await system.admin.get('/api/v1/settings')).body.site_name, 'Acme APIs', 'nothing saved');
      const saved = await owner.post('/settings', form);
      assert.match(saved.flash ?? '', /Portal settings saved/);
      const settings = (await system.admin.get('/api/v1/settings')).body;
      assert.equal(settings.site_name, 'Acme APIs');
      assert.equal(settings.default_approval, 'manual');
      assert.equal(settings.email_verification, false);
      assert.deepEqual(settings.signup_fields, [
        { name: 'name', label: 'Full name', type: 'text', required: true },
        { name: 'team', label: 'Team', type: 'select', required: true, options: ['red', 'blue'] },
      ]);
      assert.deepEqual(settings.default_key_request_fields, [
        { name: 'use_case', label: 'What will you build?', type: 'textarea', required: true },
      ]);
      assert.deepEqual(settings.menus, [
        { label: 'APIs', url: '/catalogue', menu: 'main' },
        { label: 'Status', url: 'https://status.example.com', menu: 'footer' },
      ]);
      // The portal enforces the new signup fields at once.
      const refused = await system.portal.post('/api/v1/developers', {
        email: 'no-team@example.com',
        password: 'dev-password-1',
        fields: { name: 'N' },
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.details.fields[0].field, 'fields.team');
      // New catalogue entries start with the default key-request form, in the dashboard and the API.
      const newEntry = await owner.page('/catalogue/new');
      assert.match(decode(newEntry.html), /use_case \| What will you build\? \| textarea \| required/);
      const inherited = await system.admin.post('/api/v1/catalogue', { name: 'Inherits', policy_id: policyId });
      assert.equal(inherited.body.approval, 'manual', 'the default approval applies');
      assert.deepEqual(
        inherited.body.key_request_fields.map((f: any) => f.name),
        ['use_case'],
      );
      const own = await system.admin.post('/api/v1/catalogue', {
        name: 'Own form',
        policy_id: policyId,
        key_request_fields: [],
      });
      assert.deepEqual(own.body.key_request_fields, [], 'an entry may bring its own (empty) form');
      const badDefault = await system.admin.patch('/api/v1/settings', {
        default_key_request_fields: [{ name: 'x', label: 'X', type: 'select', required: true }],
      });
      assert.equal(badDefault.status, 400, 'a select needs options');
      await system.admin.patch('/api/v1/settings', {
        signup_fields: [{ name: 'name', label: 'Full name', type: 'text', required: true }],
        default_key_request_fields: [],
        default_approval: 'auto',
      });
    });

    test('pages: created with sanitised Markdown preview, published in the portal, deleted', async () => {
      await owner.page('/pages/new');
      const preview = await owner.fetch('/preview/markdown', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': owner.csrf },
        body: new URLSearchParams({ markdown: '# Terms\n\n**Be nice.**<script>alert(1)</script>' }).toString(),
      });
      const html = await preview.text();
      assert.match(html, /<strong>Be nice\.<\/strong>/);
      assert.doesNotMatch(html, /<script/);
      const created = await owner.post('/pages', {
        title: 'Terms of use',
        slug: 'terms',
        template: 'page',
        body: '# Terms\n\n**Be nice.**',
        menu_position: '2',
        published: 'on',
      });
      assert.match(created.flash ?? '', /Page "Terms of use" created|Page &#34;Terms of use&#34; created/);
      const portalPage = await fetch(`${system.running.urls.portal}/terms`);
      assert.equal(portalPage.status, 200);
      assert.match(await portalPage.text(), /<strong>Be nice\.<\/strong>/);
      const pageId = /action="\/pages\/([^/"]+)\/delete"/.exec(created.html)?.[1];
      assert.ok(pageId);
      await owner.post(`/pages/${pageId}/delete`);
      assert.equal((await fetch(`${system.running.urls.portal}/terms`)).status, 404);
    });

    test('webhooks: created in the dashboard with its secret once; the delivery log shows attempts and redelivers', async () => {
      receiver.respond = () => 500;
      await owner.page('/webhooks');
      const created = await owner.post('/webhooks', {
        url: receiver.url,
        description: 'ops',
        events: ['developer.created', 'key.revoked'],
      });
      assert.equal(created.status, 200);
      const secret = /(whsec_[0-9A-Za-z_-]+)/.exec(testId(created.html, 'webhook-secret') ?? '')?.[1];
      assert.ok(secret, 'the signing secret is shown once');
      const hook = (await system.admin.get('/api/v1/webhooks')).body.data.find((h: any) => h.url === receiver.url);
      assert.deepEqual([...hook.events].sort(), ['developer.created', 'key.revoked']);
      const page = await owner.page(`/webhooks/${hook.id}`);
      assert.ok(!page.html.includes(secret), 'not shown again');

      await signUpDeveloper(system, 'hooked-ui@example.com');
      assert.ok(
        await eventually(async () => {
          const log = await system.admin.get(`/api/v1/webhooks/${hook.id}/deliveries`);
          return log.body.data[0]?.status === 'failed';
        }, 5000),
      );
      const log = await owner.page(`/webhooks/${hook.id}?status=failed`);
      const table = testId(log.html, 'deliveries') ?? '';
      assert.match(table, /developer\.created/);
      assert.match(table, /failed/);
      assert.match(table, /500/, 'the last answer');
      const deliveryId = /action="\/webhook-deliveries\/([^/"]+)\/retry"/.exec(log.html)?.[1];
      assert.ok(deliveryId);
      receiver.respond = () => 200;
      const retried = await owner.post(`/webhook-deliveries/${deliveryId}/retry`);
      assert.match(retried.flash ?? '', /queued again/);
      assert.ok(await eventually(async () => receiver.received.some((r) => r.status === 200), 3000));
      assert.ok(
        await eventually(
          async () => testId((await owner.page(`/webhooks/${hook.id}`)).html, 'deliveries')!.includes('succeeded'),
          3000,
        ),
      );
    });

    test('audit log: filtered by action and object; no route changes an entry', async () => {
      const page = await owner.page(`/audit?object_id=${encodeURIComponent(apiId)}`);
      const table = testId(page.html, 'audit-table') ?? '';
      assert.match(table, /api\.created/);
      assert.doesNotMatch(table, /policy\.created/, 'only events about that object');
      const byAction = testId((await owner.page('/audit?action=key_request.approved')).html, 'audit-table') ?? '';
      assert.match(byAction, /key_request\.approved/);
      assert.match(byAction, /owner@example\.com/, 'who did it');
      assert.doesNotMatch(byAction, /key_request\.rejected/);
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await owner.fetch('/audit', { method, headers: { 'x-csrf-token': owner.csrf } });
        await res.text();
        assert.ok([404, 405].includes(res.status), `${method} /audit → ${res.status}`);
      }
    });
  });
}
