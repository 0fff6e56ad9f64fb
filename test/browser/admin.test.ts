import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openBrowser as openChromium, screenshot, type OpenBrowser } from '../helpers/browser.js';
import { ADMIN, eventually, signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/**
 * The API owner's workflow in a real browser (Debian chromium through playwright-core),
 * from the demo seed of a fresh system: sign in, create and enable an API, create a policy, publish a
 * catalogue entry with manual approval, upload its documentation, approve a request
 * that came from the portal, revoke the key, and see the calls in analytics. Then a
 * viewer: sees no secrets and cannot change anything, even by posting forms directly.
 */

const SPEC = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Parcels API', version: '1.0.0' },
  paths: {
    '/parcels/{id}': {
      get: {
        summary: 'Track a parcel',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The parcel' } },
      },
    },
  },
});

async function openBrowser(): Promise<OpenBrowser> {
  const browser = await openChromium();
  // Confirmation dialogs (revoke, delete) are accepted.
  browser.page.on('dialog', (dialog) => void dialog.accept());
  return browser;
}

async function shot(page: Page, name: string): Promise<void> {
  await screenshot(page, `admin-${name}`);
}

async function signIn(page: Page, base: string, email: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=%2F$/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

/** A link in the main navigation bar. */
async function nav(page: Page, name: string | RegExp): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name, exact: typeof name === 'string' })
    .click();
}

async function flashText(page: Page): Promise<string> {
  return (await page.getByTestId('flash').textContent()) ?? '';
}

describe('admin dashboard in chromium', () => {
  let system: TestSystem;
  let upstream: Upstream;
  let base: string;
  let apiId = '';
  let keyId = '';
  let keySecret = '';

  before(async () => {
    upstream = await startUpstream();
    // From the seed, as after `npm start`: the demo API, policy and entry are there.
    system = await startSystem('sqlite', { demo: true, sample_upstream_port: 0 });
    base = system.running.urls.admin;
  });

  after(async () => {
    await system?.stop();
    await upstream?.close();
  });

  test('the owner workflow from a fresh system', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, base, ADMIN.email, ADMIN.password);
      const cookies = await browser.context.cookies();
      const session = cookies.find((c) => c.name === 'gh_admin');
      assert.ok(session?.httpOnly, 'session cookie is HttpOnly');
      assert.equal(session?.sameSite, 'Lax');
      await shot(page, '01-dashboard');
      await nav(page, 'APIs');
      assert.ok(
        await page.getByRole('link', { name: 'Sample Pet Store' }).isVisible(),
        'the seeded demo API is listed',
      );
      await nav(page, 'Catalogue');
      assert.ok(await page.getByRole('link', { name: 'Pet Store (Free)' }).isVisible(), 'the seeded entry is listed');

      // 1. Create an API (disabled), then enable it.
      await nav(page, 'APIs');
      await page.getByRole('link', { name: 'New API' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Parcels');
      await page.getByLabel('Listen path', { exact: true }).fill('bad path');
      await page.getByLabel('Upstream (target URL)').fill(upstream.url);
      await page.getByRole('button', { name: 'Create API' }).click();
      // Server-side validation: the error beside the field, input kept.
      assert.match((await page.locator('#listen_path ~ .invalid-feedback').textContent()) ?? '', /must start with \//);
      assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Parcels');
      await page.getByLabel('Listen path', { exact: true }).fill('/parcels');
      await page.getByRole('button', { name: 'Create API' }).click();
      assert.match(await flashText(page), /created \(disabled\)/);
      apiId = decodeURIComponent(page.url().split('/apis/')[1] ?? '');
      assert.match(apiId, /^api_/);
      assert.equal(await page.getByTestId('api-status').textContent(), 'disabled');
      await page.getByRole('button', { name: 'Enable' }).click();
      assert.equal(await page.getByTestId('api-status').textContent(), 'enabled');
      assert.equal((await system.admin.get(`/api/v1/apis/${apiId}`)).body.active, true);
      // The test call shows what the gateway answers (no key yet: 401 KEY_MISSING).
      await page.getByLabel('Path after').fill('parcels/1');
      await page.getByRole('button', { name: 'Send' }).click();
      assert.equal(await page.getByTestId('test-status').textContent(), '401');
      assert.match((await page.getByTestId('test-result').textContent()) ?? '', /KEY_MISSING/);
      await shot(page, '02-api');

      // 2. A policy granting the API.
      await nav(page, 'Policies');
      await page.getByRole('link', { name: 'New policy' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Parcels Standard');
      await page.getByLabel('Rate limit: requests').fill('50');
      await page.getByLabel('per seconds').first().fill('60');
      await page.getByLabel('Quota: requests').fill('1000');
      await page.locator(`#access_${apiId}`).check();
      await page.locator(`#urls_${apiId}`).fill('GET ^/parcels/.*$');
      await page.getByRole('button', { name: 'Create policy' }).click();
      assert.match(await flashText(page), /Policy "Parcels Standard" created/);
      const policies = await system.admin.get('/api/v1/policies');
      const policy = policies.body.data.find((p: any) => p.name === 'Parcels Standard');
      assert.deepEqual(policy.access_rights, [
        { api_id: apiId, allowed_urls: [{ path: '^/parcels/.*$', methods: ['GET'] }] },
      ]);
      assert.equal(policy.rate, 50);
      assert.equal(policy.quota_max, 1000);

      // 3. A catalogue entry with manual approval, created hidden, then published.
      await nav(page, 'Catalogue');
      await page.getByRole('link', { name: 'New entry' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Parcels');
      await page.getByLabel('Policy', { exact: true }).selectOption({ label: 'Parcels Standard' });
      await page.getByLabel('Short description').fill('Track parcels <b>anywhere</b>');
      await page
        .getByLabel('Long description (Markdown)')
        .fill('# Parcels\n\nUse **GET /parcels/{id}**.<script>alert(1)</script>');
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.locator('#preview-long strong').waitFor();
      assert.equal(await page.locator('#preview-long script').count(), 0, 'the preview is sanitised');
      await page.getByLabel('Key requests', { exact: true }).selectOption('manual');
      await page.getByLabel('Visibility', { exact: true }).selectOption('hidden');
      await page.getByLabel('Key-request form fields').fill('use_case | What will you build? | textarea | required');
      await page.getByRole('button', { name: 'Create entry' }).click();
      assert.match(await flashText(page), /created \(hidden\)/);
      assert.equal(await page.getByTestId('entry-visibility').textContent(), 'unpublished');
      await page.getByRole('button', { name: 'Publish' }).click();
      assert.match((await page.getByTestId('entry-visibility').textContent()) ?? '', /published \(public\)/);
      const entryId = decodeURIComponent(page.url().split('/catalogue/')[1] ?? '');
      const entry = (await system.admin.get(`/api/v1/catalogue/${entryId}`)).body;
      assert.equal(entry.approval, 'manual');
      assert.equal(entry.visibility, 'public');
      assert.equal(entry.short_description, 'Track parcels <b>anywhere</b>', 'stored as typed; escaped on output');

      // 4. Documentation: a broken spec shows its problems; a good one is imported.
      await page.getByLabel('…or paste it').fill('{"openapi": "3.0.3", "info": ');
      await page.getByRole('button', { name: 'Upload documentation' }).click();
      assert.match((await page.getByTestId('docs-error').textContent()) ?? '', /not imported/);
      await page.getByLabel('…or paste it').fill(SPEC);
      await page.getByRole('button', { name: 'Upload documentation' }).click();
      assert.match(await flashText(page), /Documentation uploaded/);
      const docs = await system.admin.get(`/api/v1/catalogue/${entryId}/documentation`);
      assert.equal(docs.status, 200);
      await shot(page, '03-entry');

      // 5. A developer requests access through the portal's developer API.
      const developer: Client = await signUpDeveloper(system, 'parcel-dev@example.com', { name: 'Pat <Parcel>' });
      const request = await developer.post('/api/v1/key-requests', {
        catalogue_id: entryId,
        key_name: 'production',
        fields: { use_case: 'Shop <img src=x onerror=alert(1)> tracking' },
      });
      assert.equal(request.status, 201, JSON.stringify(request.body));
      assert.equal(request.body.status, 'pending');
      await page.goto(`${base}/`);
      assert.equal(await page.getByTestId('pending-badge').textContent(), '1');
      await nav(page, /Key requests/);
      const card = page.getByTestId('key-request');
      assert.equal(await card.count(), 1);
      const cardText = (await card.textContent()) ?? '';
      assert.match(cardText, /parcel-dev@example\.com/);
      assert.match(cardText, /Pat <Parcel>/, 'profile shown as text');
      assert.match(cardText, /Shop <img src=x onerror=alert\(1\)> tracking/, 'answers shown as text');
      assert.equal(await page.locator('[data-testid="key-request"] img').count(), 0, 'no HTML injected');
      await shot(page, '04-inbox');
      await card.getByRole('button', { name: 'Approve' }).click();
      assert.match(await flashText(page), /approved/);
      assert.equal(await page.getByTestId('pending-badge').count(), 0);

      // The developer reveals the key and calls the API through the gateway.
      const keys = await developer.get('/api/v1/keys');
      keyId = keys.body.data[0].id;
      const revealed = await developer.post(`/api/v1/keys/${keyId}/roll`);
      keySecret = revealed.body.secret;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${system.gatewayUrl}/parcels/parcels/${i}`, { headers: { 'x-api-key': keySecret } });
        await res.text();
        assert.equal(res.status, 200);
      }
      const forbidden = await fetch(`${system.gatewayUrl}/parcels/other`, { headers: { 'x-api-key': keySecret } });
      await forbidden.text();
      assert.equal(forbidden.status, 403);

      // 6. Find the key by its prefix and revoke it; the gateway refuses it within a second.
      await nav(page, 'Keys');
      await page.getByPlaceholder('Key prefix (gh_…)').fill(keySecret.slice(0, 8));
      await page.getByRole('button', { name: 'Find' }).click();
      await page.getByRole('link', { name: 'production' }).click();
      assert.equal(await page.getByTestId('key-status').textContent(), 'active');
      assert.ok(!(await page.content()).includes(keySecret), 'the key page never shows the secret');
      await page.getByRole('button', { name: 'Revoke key' }).click();
      assert.equal(await page.getByTestId('key-status').textContent(), 'revoked');
      assert.ok(
        await eventually(async () => {
          const res = await fetch(`${system.gatewayUrl}/parcels/parcels/1`, { headers: { 'x-api-key': keySecret } });
          await res.text();
          return res.status === 403;
        }, 1000),
        'revoked key refused within a second',
      );
      await shot(page, '05-key-revoked');

      // 7. The calls in analytics (by key), and the CSV export.
      await eventually(
        async () =>
          (await system.admin.get(`/api/v1/analytics/requests?from=${Date.now() - 3_600_000}&key_id=${keyId}`)).body
            .totals.hits >= 6,
        3000,
      );
      await nav(page, 'Analytics');
      await page.getByLabel('Time range').selectOption('1h');
      await page.getByLabel('Break down by').selectOption('key');
      await page.getByRole('button', { name: 'Apply' }).click();
      const hits = Number(await page.getByTestId('total-hits').textContent());
      assert.ok(hits >= 7, `analytics shows the calls (${hits})`);
      assert.match((await page.getByTestId('top-keys').textContent()) ?? '', /production/);
      assert.match((await page.getByTestId('status-codes').textContent()) ?? '', /200[\s\S]*403|403[\s\S]*200/);
      await page.locator('#chart-hits').waitFor();
      assert.ok(
        await page.evaluate('typeof Chart === "function" && Chart.getChart("chart-hits") !== undefined'),
        'the chart is drawn',
      );
      await shot(page, '06-analytics');
      const download = page.waitForEvent('download');
      await page.getByTestId('csv-link').click();
      const csv = await (await download).createReadStream().then(async (stream) => {
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      });
      assert.match(csv.split('\r\n')[0] ?? '', /^bucket_start,key,hits/);
      assert.ok(csv.includes(keyId));

      // The audit log shows who did it.
      await page.goto(`${base}/audit?action=key.revoked`);
      const audit = (await page.getByTestId('audit-table').textContent()) ?? '';
      assert.match(audit, new RegExp(keyId));
      assert.match(audit, /owner@example\.com/);
    } finally {
      await browser.close();
    }
  });

  test('a viewer sees no secrets and cannot change anything, even by posting forms', async () => {
    await system.admin.post('/api/v1/admins', {
      email: 'look@example.com',
      password: 'viewer-password-1',
      role: 'viewer',
    });
    const hook = await system.admin.post('/api/v1/webhooks', { url: upstream.url, events: ['key.created'] });
    const webhookSecret: string = hook.body.secret;
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, base, 'look@example.com', 'viewer-password-1');
      assert.equal(await page.getByTestId('role').textContent(), 'viewer');
      await page.goto(`${base}/apis/${apiId}`);
      assert.equal(
        await page.getByRole('button', { name: /Disable|Enable|Delete|Save/ }).count(),
        0,
        'no change buttons',
      );
      assert.ok(await page.getByLabel('Name', { exact: true }).isDisabled(), 'form fields are read-only');
      await page.goto(`${base}/webhooks/${hook.body.id}`);
      assert.ok(!(await page.content()).includes(webhookSecret), 'no webhook secret');
      await page.goto(`${base}/keys/${keyId}`);
      assert.ok(!(await page.content()).includes(keySecret), 'no key secret');
      await page.goto(`${base}/admins`);
      assert.match((await page.getByTestId('error-message').textContent()) ?? '', /owner role/);
      await shot(page, '07-viewer');

      // Hidden buttons are not the protection: forged posts with a valid CSRF token are refused on the server.
      await page.goto(`${base}/apis/${apiId}`);
      const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
      for (const [path, form] of [
        [`/apis/${apiId}/toggle`, {}],
        [`/apis/${apiId}/delete`, {}],
        ['/apis', { name: 'Evil', listen_path: '/evil', target_url: upstream.url, active: 'on' }],
        [`/keys/${keyId}/revoke`, {}],
        ['/settings', { site_name: 'Hacked' }],
        ['/webhooks', { url: 'http://127.0.0.1:9/', events: 'key.created' }],
        [`/webhooks/${hook.body.id}/rotate`, {}],
        ['/admins', { email: 'x@example.com', password: 'password-1234', role: 'owner' }],
      ] as const) {
        const res = await page.request.post(`${base}${path}`, {
          form: { _csrf: csrf ?? '', ...form },
          maxRedirects: 0,
        });
        assert.equal(res.status(), 403, `POST ${path}`);
      }
      assert.equal((await system.admin.get(`/api/v1/apis/${apiId}`)).body.active, true);
      assert.equal((await system.admin.get('/api/v1/settings')).body.site_name, 'Gatehouse Developer Portal');

      // And without the CSRF token nothing is accepted, even for the owner's session.
      const noToken = await page.request.post(`${base}/account/tokens`, { form: { name: 'x' }, maxRedirects: 0 });
      assert.equal(noToken.status(), 403);
    } finally {
      await browser.close();
    }
  });

  test('signing out ends the session; a wrong password is refused and throttled', async () => {
    const browser = await openBrowser();
    const { page } = browser;
    try {
      await signIn(page, base, ADMIN.email, ADMIN.password);
      const before = (await browser.context.cookies()).find((c) => c.name === 'gh_admin')?.value;
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login/);
      // The old session token no longer works, even if replayed.
      const replay = await fetch(`${base}/apis`, { headers: { cookie: `gh_admin=${before}` }, redirect: 'manual' });
      assert.equal(replay.status, 302);
      for (let i = 0; i < 5; i++) {
        await page.getByLabel('Email').fill('look@example.com');
        await page.getByLabel('Password').fill(`wrong-${i}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        assert.match((await page.getByTestId('form-error').textContent()) ?? '', /wrong/);
      }
      await page.getByLabel('Email').fill('look@example.com');
      await page.getByLabel('Password').fill('viewer-password-1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      assert.match((await page.getByTestId('form-error').textContent()) ?? '', /Too many failed sign-ins/);
      await shot(page, '08-throttled');
    } finally {
      await browser.close();
    }
  });
});
