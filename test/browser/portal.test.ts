import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openBrowser as openChromium, screenshot, type OpenBrowser } from '../helpers/browser.js';
import { SMTPServer } from 'smtp-server';
import { eventually, startSystem, type TestSystem } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';

/**
 * The developer's whole journey in a real browser (Debian chromium through
 * playwright-core): sign-up with custom fields, log-in, catalogue, request a key,
 * copy it, call the gateway, see the call on the dashboard; the manual-approval path;
 * password reset through a real SMTP server; and the journey at 390 px wide.
 */

const PASSWORD = 'browser-pass-1';

interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** A real SMTP server on a free port that keeps every message it receives. */
async function startSmtp(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = chunks.join('');
        const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
        const subject = /^Subject: (.*)$/im.exec(head)?.[1] ?? '';
        let body = rest.join('\n\n');
        if (/quoted-printable/i.test(raw))
          body = body
            .replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), subject, text: body });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function openBrowser(viewport: { width: number; height: number }): Promise<OpenBrowser> {
  return openChromium({ viewport });
}

const shot = screenshot;

describe('developer portal in chromium', () => {
  let system: TestSystem;
  let upstream: Upstream;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let autoSlug: string;
  let manualSlug: string;

  before(async () => {
    smtp = await startSmtp();
    upstream = await startUpstream();
    system = await startSystem('sqlite', { smtp_url: `smtp://127.0.0.1:${smtp.port}` });
    const api = await system.admin.post('/api/v1/apis', {
      name: 'Weather',
      listen_path: '/weather',
      target_url: upstream.url,
    });
    assert.equal(api.status, 201);
    const policy = await system.admin.post('/api/v1/policies', {
      name: 'Free',
      rate: 100,
      per: 60,
      quota_max: 10000,
      quota_renewal_rate: 2_592_000,
      access_rights: [{ api_id: api.body.id }],
    });
    assert.equal(policy.status, 201);
    await system.admin.patch('/api/v1/settings', {
      signup_fields: [
        { name: 'name', label: 'Full name', type: 'text', required: true },
        { name: 'company', label: 'Company', type: 'text', required: false },
        { name: 'role', label: 'Role', type: 'select', required: true, options: ['backend', 'frontend', 'data'] },
        { name: 'terms', label: 'I accept the terms of use', type: 'checkbox', required: true },
      ],
    });
    const auto = await system.admin.post('/api/v1/catalogue', {
      name: 'Weather Free',
      short_description: 'Forecasts for any city',
      long_description:
        '## Getting started\n\nCall `GET /weather/forecast?city=Paris` with your key.\n\n| Field | Meaning |\n|---|---|\n| temp | degrees C |',
      policy_id: policy.body.id,
      approval: 'auto',
      tags: ['weather'],
      key_request_fields: [{ name: 'use_case', label: 'What will you build?', type: 'textarea', required: true }],
    });
    assert.equal(auto.status, 201);
    autoSlug = auto.body.slug;
    const docs = await system.admin.request(
      'PUT',
      `/api/v1/catalogue/${auto.body.id}/documentation`,
      '# Weather API guide\n\nEvery call needs your key.\n\n## GET /forecast\n\nReturns the forecast for `city`.',
      { 'content-type': 'text/markdown' },
    );
    assert.ok(docs.status === 200 || docs.status === 201, JSON.stringify(docs.body));
    const manual = await system.admin.post('/api/v1/catalogue', {
      name: 'Weather Pro',
      short_description: 'Reviewed access',
      long_description: 'Pro plan, approved by hand.',
      policy_id: policy.body.id,
      approval: 'manual',
      tags: ['weather', 'pro'],
    });
    assert.equal(manual.status, 201);
    manualSlug = manual.body.slug;
  });

  after(async () => {
    await system?.stop();
    await upstream?.close();
    await smtp?.close();
  });

  async function signUpAndLogIn(page: Page, email: string, tag: string, narrow: boolean) {
    const portal = system.running.urls.portal;
    await page.goto(`${portal}/`);
    await shot(page, `${tag}-01-home`);
    if (narrow) await page.click('.navbar-toggler');
    await page.getByRole('link', { name: 'Sign up' }).click();
    // Server-side validation first: errors beside the fields, input kept.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Company').fill('Acme Labs');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#signup-password-error').waitFor();
    assert.equal(await page.getByLabel('Company').inputValue(), 'Acme Labs');
    assert.match((await page.locator('#f-fields-name-error').textContent()) ?? '', /Full name is required/);
    await shot(page, `${tag}-02-signup-errors`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Full name').fill('Grace Hopper');
    await page.getByLabel('Role').selectOption('backend');
    await page.getByLabel('I accept the terms of use').check();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/login/);
    await page.getByRole('status').filter({ hasText: 'Your account is ready' }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/dashboard/);
    await shot(page, `${tag}-03-dashboard-empty`);
  }

  async function journey(tag: string, viewport: { width: number; height: number }) {
    const { page, context, close } = await openBrowser(viewport);
    const narrow = viewport.width < 768;
    try {
      const email = `${tag}@example.com`;
      await signUpAndLogIn(page, email, tag, narrow);
      assert.ok(
        smtp.mails.some((m) => m.to === email && /Welcome/.test(m.subject)),
        'welcome email',
      );

      // Find the entry by searching the catalogue, read its documentation.
      await page.goto(`${system.running.urls.portal}/catalogue`);
      await page.getByLabel('Search by name or tag').fill('free');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/q=free/);
      assert.equal(await page.locator('.card-title').count(), 1);
      await shot(page, `${tag}-04-catalogue-search`);
      await page.getByRole('link', { name: 'Weather Free' }).click();
      await page.waitForURL(new RegExp(`/catalogue/${autoSlug}$`));
      // The entry links to its documentation page (issue 5); the developer reads it.
      await page.locator('#docs-link').click();
      await page.waitForURL(new RegExp(`/catalogue/${autoSlug}/docs$`));
      await page.getByRole('heading', { name: 'GET /forecast' }).waitFor();
      await shot(page, `${tag}-05-docs`);
      await page.goBack();
      assert.match(
        (await page.locator('#entry-levels').textContent()) ?? '',
        /100 requests per minute[\s\S]*10,000 requests per month/,
      );
      await shot(page, `${tag}-05-entry`);

      // Request a key (entry's custom field + key name); auto-approved: shown once.
      await page.getByRole('link', { name: 'Request access' }).click();
      await page.getByLabel('Key name').fill('laptop');
      await page.getByRole('button', { name: 'Request key' }).click();
      await page.locator('#f-fields-use_case-error').waitFor();
      await page.getByLabel('What will you build?').fill('A <b>weather</b> widget');
      await page.getByRole('button', { name: 'Request key' }).click();
      await page.getByRole('heading', { name: 'Your new key' }).waitFor();
      const secret = await page.locator('#key-secret').inputValue();
      assert.match(secret, /^gh_[0-9A-Za-z]{32,}$/);
      const curl = (await page.locator('#curl-command').textContent()) ?? '';
      assert.ok(curl.includes(secret) && curl.includes(`${system.gatewayUrl}/weather/`), curl);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: system.running.urls.portal });
      await page.locator('#copy-secret').click();
      await page.locator('#copy-secret[data-copied="true"]').waitFor();
      // A string expression: the test runs under Node's types, without the DOM library.
      const copied = await page.evaluate<string>('navigator.clipboard.readText()');
      assert.equal(copied, secret, 'the copy button put the key on the clipboard');
      await shot(page, `${tag}-06-key-secret`);

      // Call the gateway with the copied key; the real upstream answers.
      const called = await fetch(`${system.gatewayUrl}/weather/forecast?city=Paris`, {
        headers: { authorization: `Bearer ${copied}` },
      });
      assert.equal(called.status, 200);
      await called.text();
      const failed = await fetch(`${system.gatewayUrl}/weather/forecast`, {
        headers: { authorization: 'Bearer gh_not_a_real_key_000000000000000000' },
      });
      assert.equal(failed.status, 401);
      await failed.text();
      assert.ok(!smtp.mails.some((m) => m.text.includes(secret)), 'no email carries the key');

      // The call shows on the dashboard (analytics flush every 100 ms in tests).
      const seen = await eventually(
        async () => {
          await page.goto(`${system.running.urls.portal}/dashboard`);
          return ((await page.locator('#total-hits').textContent()) ?? '').trim() === '1';
        },
        5_000,
        250,
      );
      assert.ok(seen, 'the call appears on the dashboard');
      await page.locator('html[data-charts-ready="true"]').waitFor();
      assert.equal(((await page.locator('#total-successes').textContent()) ?? '').trim(), '1');
      assert.notEqual(((await page.locator('#latency-p95').textContent()) ?? '').trim(), '–');
      assert.match((await page.locator('#limits-title').locator('..').textContent()) ?? '', /1 used, 9,?999 remaining/);
      await page.selectOption('#dash-range', '7d');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/range=7d/);
      await page.locator('html[data-charts-ready="true"]').waitFor();
      await shot(page, `${tag}-07-dashboard`);

      // My keys: details, then revoke with confirmation; the gateway refuses the key.
      if (narrow) await page.click('.navbar-toggler');
      await page.getByRole('link', { name: 'My keys' }).click();
      await page.waitForURL(/\/keys$/);
      const card = page.locator('.card', { hasText: 'laptop' });
      assert.match(
        (await card.textContent()) ?? '',
        /laptop[\s\S]*active[\s\S]*Weather Free[\s\S]*100 requests per minute/,
      );
      await shot(page, `${tag}-08-keys`);
      page.once('dialog', (dialog) => void dialog.accept());
      await card.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('status').filter({ hasText: 'was revoked' }).waitFor();
      const refused = await eventually(
        async () => {
          const res = await fetch(`${system.gatewayUrl}/weather/forecast`, {
            headers: { authorization: `Bearer ${secret}` },
          });
          await res.text();
          return res.status === 403;
        },
        2_000,
        100,
      );
      assert.ok(refused, 'revoked key refused by the gateway');
      await shot(page, `${tag}-09-revoked`);
    } finally {
      await close();
    }
  }

  test('a new developer signs up, finds an entry, gets a key, calls the gateway and sees it on the dashboard', async () => {
    await journey('desktop', { width: 1280, height: 900 });
  });

  test('the same journey on a 390-px-wide screen', async () => {
    await journey('mobile', { width: 390, height: 844 });
    const { page, close } = await openBrowser({ width: 390, height: 844 });
    try {
      await page.goto(`${system.running.urls.portal}/catalogue`);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
    } finally {
      await close();
    }
  });

  test('manual approval: pending, approved by an admin, emailed, then revealed once', async () => {
    const { page, close } = await openBrowser({ width: 1280, height: 900 });
    try {
      const email = 'manual@example.com';
      await signUpAndLogIn(page, email, 'manual', false);
      await page.goto(`${system.running.urls.portal}/catalogue/${manualSlug}`);
      await page.getByRole('link', { name: 'Request access' }).click();
      await page.getByLabel('Key name').fill('production');
      await page.getByRole('button', { name: 'Request key' }).click();
      await page.getByRole('heading', { name: 'Request sent' }).waitFor();
      await page.goto(`${system.running.urls.portal}/keys`);
      assert.match((await page.locator('table').textContent()) ?? '', /Weather Pro[\s\S]*production[\s\S]*pending/);
      await shot(page, 'manual-01-pending');

      const pending = await system.admin.get('/api/v1/key-requests?status=pending');
      const request = pending.body.data.find((r: any) => r.key_name === 'production');
      assert.ok(request);
      const approved = await system.admin.post(`/api/v1/key-requests/${request.id}/approve`, {});
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.ok(
        await eventually(async () => smtp.mails.some((m) => m.to === email && /approved/.test(m.subject)), 3_000),
      );
      const mail = smtp.mails.find((m) => m.to === email && /approved/.test(m.subject))!;
      assert.match(mail.text, /\/keys/);
      assert.doesNotMatch(mail.text, /gh_[0-9A-Za-z]{32,}/);

      await page.reload();
      const card = page.locator('.card', { hasText: 'production' });
      assert.match((await card.textContent()) ?? '', /not revealed yet/);
      await card.getByRole('button', { name: 'Reveal key' }).click();
      await page.getByRole('heading', { name: 'Your key' }).waitFor();
      const secret = await page.locator('#key-secret').inputValue();
      assert.match(secret, /^gh_/);
      await shot(page, 'manual-02-revealed');
      const called = await fetch(`${system.gatewayUrl}/weather/ping`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(called.status, 200);
      await called.text();
      await page.goto(`${system.running.urls.portal}/keys`);
      const after = page.locator('.card', { hasText: 'production' });
      assert.equal(await after.getByRole('button', { name: 'Reveal key' }).count(), 0, 'revealed once only');
      assert.equal(await after.getByRole('button', { name: 'Roll secret' }).count(), 1);
    } finally {
      await close();
    }
  });

  test('every form control on every page has a label, and log-in works with the keyboard alone', async () => {
    const unlabelled = `Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
      .map((el) => el.outerHTML.slice(0, 120))`;
    const { page, close } = await openBrowser({ width: 390, height: 844 });
    try {
      const portal = system.running.urls.portal;
      const email = 'keyboard@example.com';
      const created = await system.portal.post('/api/v1/developers', {
        email,
        password: PASSWORD,
        fields: { name: 'Keys Only', role: 'data', terms: true },
      });
      assert.equal(created.status, 201);
      for (const path of ['/', '/signup', '/login', '/forgot-password', '/catalogue', `/catalogue/${autoSlug}`]) {
        await page.goto(`${portal}${path}`);
        assert.deepEqual(await page.evaluate<string[]>(unlabelled), [], path);
      }

      // Keyboard only: Tab from the email field to the password, Enter submits.
      await page.goto(`${portal}/login`);
      await page.getByLabel('Email').focus();
      await page.keyboard.type(email);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate<string>('document.activeElement.id'), 'login-password');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/dashboard/);

      for (const path of [
        '/dashboard',
        '/keys',
        '/profile',
        `/catalogue/${autoSlug}/request`,
        `/catalogue/${autoSlug}/docs`,
      ]) {
        await page.goto(`${portal}${path}`);
        assert.deepEqual(await page.evaluate<string[]>(unlabelled), [], path);
      }
    } finally {
      await close();
    }
  });

  test('password reset through a real SMTP server', async () => {
    const { page, close } = await openBrowser({ width: 1280, height: 900 });
    try {
      const email = 'forgetful@example.com';
      const created = await system.portal.post('/api/v1/developers', {
        email,
        password: PASSWORD,
        fields: { name: 'Forgetful', role: 'data', terms: true },
      });
      assert.equal(created.status, 201);
      await page.goto(`${system.running.urls.portal}/login`);
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      assert.ok(await eventually(async () => smtp.mails.some((m) => m.to === email && /Reset/.test(m.subject)), 3_000));
      const mail = smtp.mails.find((m) => m.to === email && /Reset/.test(m.subject))!;
      const link = /(http:\/\/\S+\/reset-password\?token=\S+)/.exec(mail.text)?.[1];
      assert.ok(link, mail.text);
      await page.goto(link);
      await page.getByLabel('New password', { exact: true }).fill('a-new-password-9');
      await page.getByLabel('Repeat the new password').fill('a-new-password-9');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.waitForURL(/\/login/);
      await page.getByLabel('Password').fill('a-new-password-9');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/dashboard/);
      await shot(page, 'reset-01-logged-in');
      // The link works once.
      await page.goto(link);
      await page.getByRole('heading', { name: 'Link not valid' }).waitFor();
    } finally {
      await close();
    }
  });
});
