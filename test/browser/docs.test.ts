import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openBrowser as openChromium, screenshot, type OpenBrowser } from '../helpers/browser.js';
import { signUpDeveloper, startSystem, type TestSystem } from '../helpers/system.js';

/**
 * The documentation page in a real browser (Debian chromium through playwright-core):
 * a signed-in developer opens the demo API's docs, puts their key in the console and
 * sends a try-it request through the real gateway to the real (built-in) upstream; the
 * key is pre-filled on the next visit; a signed-out visitor is told how to get a key;
 * script in a spec's descriptions stays inert.
 *
 * Run: node --import tsx --test test/browser/docs.test.ts
 */

const PASSWORD = 'dev-password-1';

async function openBrowser(): Promise<OpenBrowser & { errors: string[] }> {
  const browser = await openChromium({ timeoutMs: 15_000 });
  const page = browser.page;
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(message.text());
  });
  // Failed loads, by URL (the console message does not say which). A try-it call that the
  // API answers with an error is not one: its status is checked where expected.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().includes('/petstore/'))
      errors.push(`${response.status()} ${response.url()}`);
  });
  return { ...browser, errors };
}

const shot = screenshot;

async function logIn(page: Page, portal: string, email: string): Promise<void> {
  await page.goto(`${portal}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([
    page.waitForURL((url) => !url.pathname.startsWith('/login')),
    page.locator('main form button[type="submit"]').first().click(),
  ]);
}

/** Opens an operation in Swagger UI, executes it, and returns the status and body it shows. */
async function execute(
  page: Page,
  operationId: string,
  fill: Record<string, string> = {},
): Promise<{ status: string; body: string; url: string }> {
  const block = page.locator(`#operations-pets-${operationId}`);
  if (!(await block.locator('.opblock-body').isVisible())) await block.locator('.opblock-summary').first().click();
  for (const [name, value] of Object.entries(fill)) {
    await block.locator(`tr[data-param-name="${name}"]`).waitFor();
    const select = block.locator(`tr[data-param-name="${name}"] select`);
    if ((await select.count()) > 0) await select.selectOption(value);
    else await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
  }
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table tr.response .response-col_status').first();
  await status.waitFor();
  return {
    status: (await status.innerText()).trim().split('\n')[0]!.trim(),
    body: await block.locator('.live-responses-table tr.response .response-col_description pre').first().innerText(),
    url: (await block.locator('.request-url pre').first().innerText()).trim(),
  };
}

describe('API documentation in chromium', () => {
  let system: TestSystem;
  let portal: string;
  let secret: string;
  let keyId: string;

  before(async () => {
    // The demo seed: sample upstream, API at /petstore/, auto-approved entry with OpenAPI docs.
    system = await startSystem('sqlite', { demo: true, sample_upstream_port: 0 });
    portal = system.running.urls.portal;
    const dev = await signUpDeveloper(system, 'try-it@example.com');
    const entry = (await system.portal.get('/api/v1/catalogue')).body.data.find(
      (e: any) => e.slug === 'pet-store-free',
    );
    const created = await dev.post('/api/v1/key-requests', { catalogue_id: entry.id, key_name: 'laptop', fields: {} });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    secret = created.body.key.secret;
    keyId = created.body.key.id;
    // A second key, so the developer has to choose.
    const settings = await system.admin.patch(`/api/v1/catalogue/${entry.id}`, { allow_multiple_keys: true });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    assert.equal(
      (await dev.post('/api/v1/key-requests', { catalogue_id: entry.id, key_name: 'ci', fields: {} })).status,
      201,
    );
  });

  after(async () => {
    await system?.stop();
  });

  test('a signed-in developer tries GET /pets through the real gateway with their key and sees the upstream 200', async () => {
    const browser = await openBrowser();
    try {
      const { page } = browser;
      await logIn(page, portal, 'try-it@example.com');
      await page.goto(`${portal}/catalogue/pet-store-free`);
      await page.locator('#docs-link').click();
      await page.waitForURL(`${portal}/catalogue/pet-store-free/docs`);
      await page.locator('#operations-pets-listPets').waitFor();

      // Two keys: choose the one whose secret we hold, paste it (checked against prefix/last4).
      const options = await page.locator('#docs-key-select option').allInnerTexts();
      assert.equal(options.length, 2);
      await page.selectOption('#docs-key-select', keyId);
      await page.fill('#docs-key-secret', `${secret.slice(0, -1)}x`);
      await page.click('#docs-key-use');
      await assert.doesNotReject(page.locator('#docs-key-status.text-danger').waitFor());
      await page.fill('#docs-key-secret', secret);
      await page.click('#docs-key-use');
      await page.locator('#docs-key-status.text-success').waitFor();
      assert.match(await page.locator('#docs-key-status').innerText(), /laptop/);
      await shot(page, 'docs-signed-in');

      const list = await execute(page, 'listPets');
      assert.equal(list.status, '200');
      assert.equal(list.url, `${system.gatewayUrl}/petstore/pets`);
      assert.match(list.body, /"Rex"/);
      assert.match(list.body, /"Nemo"/);
      await shot(page, 'docs-try-it-200');

      // Next visit in the same tab: the key is pre-filled, nothing to paste.
      await page.reload();
      await page.locator('#docs-key-status.text-success').waitFor();
      const one = await execute(page, 'getPet', { id: '2' });
      assert.equal(one.status, '200');
      assert.equal(one.url, `${system.gatewayUrl}/petstore/pets/2`);
      assert.match(one.body, /"Tom"/);
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  });

  test('the other key has no secret in this browser: roll it here, and the console uses the new secret at once', async () => {
    const browser = await openBrowser();
    try {
      const { page } = browser;
      await logIn(page, portal, 'try-it@example.com');
      await page.goto(`${portal}/catalogue/pet-store-free/docs`);
      await page.locator('#operations-pets-listPets').waitFor();
      const other = await page.locator('#docs-key-select option', { hasNotText: 'laptop' }).getAttribute('value');
      await page.selectOption('#docs-key-select', other);
      assert.doesNotMatch(await page.locator('#docs-key-status').innerText(), /sends key/);
      await page.click('#docs-key-roll');
      await page.locator('#docs-key-status.text-success').waitFor();
      const rolled = await page.inputValue('#docs-key-new-secret');
      assert.match(rolled, /^gh_/);
      const list = await execute(page, 'listPets', { status: 'sold' });
      assert.equal(list.status, '200');
      assert.match(list.body, /"Nemo"/);
      assert.doesNotMatch(list.body, /"Rex"/);
      // The rolled secret works outside the browser too.
      assert.equal(
        (await fetch(`${system.gatewayUrl}/petstore/pets`, { headers: { 'x-api-key': rolled } })).status,
        200,
      );
    } finally {
      await browser.close();
    }
  });

  test('a key just issued in the portal pre-authorises the console in that tab, without pasting', async () => {
    await signUpDeveloper(system, 'fresh-key@example.com');
    const browser = await openBrowser();
    try {
      const { page } = browser;
      await logIn(page, portal, 'fresh-key@example.com');
      await page.goto(`${portal}/catalogue/pet-store-free`);
      await page.getByRole('link', { name: 'Request access' }).click();
      await page.getByLabel('Key name').fill('from-portal');
      await page.getByRole('button', { name: 'Request key' }).click();
      await page.getByRole('heading', { name: 'Your new key' }).waitFor();
      const issued = await page.locator('#key-secret').inputValue();
      assert.match(issued, /^gh_/);
      await page.locator('#try-in-docs').click();
      await page.waitForURL(`${portal}/catalogue/pet-store-free/docs`);
      await page.locator('#docs-key-status.text-success').waitFor();
      assert.match(await page.locator('#docs-key-status').innerText(), /from-portal/);
      assert.equal(await page.inputValue('#docs-key-secret'), '', 'nothing was pasted');
      const list = await execute(page, 'listPets');
      assert.equal(list.status, '200');
      assert.equal(list.url, `${system.gatewayUrl}/petstore/pets`);
      assert.match(list.body, /"Rex"/);
      await shot(page, 'docs-prefilled-from-portal');
      // A secret this tab holds that no longer matches the key (rolled elsewhere) is not used.
      const keys = (await system.admin.get('/api/v1/keys')).body.data.filter((k: any) => k.name === 'from-portal');
      assert.equal(keys.length, 1);
      const dev = await system.portal.post('/api/v1/auth/tokens', {
        email: 'fresh-key@example.com',
        password: PASSWORD,
      });
      const rolled = await system.portal.withToken(dev.body.token).post(`/api/v1/keys/${keys[0].id}/roll`, {});
      assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
      await page.reload();
      await page.locator('#operations-pets-listPets').waitFor();
      await page.locator('#docs-key-status.text-body-secondary').waitFor();
      assert.match(await page.locator('#docs-key-status').innerText(), /Paste the secret/);
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  });

  test('a signed-out visitor reads the docs and is told how to get a key', async () => {
    const browser = await openBrowser();
    try {
      const { page } = browser;
      await page.goto(`${portal}/catalogue/pet-store-free/docs`);
      await page.locator('#operations-pets-listPets').waitFor();
      const hint = page.locator('#docs-get-key');
      assert.match(await hint.innerText(), /To try these calls you need an API key/);
      assert.equal(
        await hint.getByRole('link', { name: 'Log in' }).getAttribute('href'),
        '/login?next=%2Fcatalogue%2Fpet-store-free%2Fdocs',
      );
      assert.equal(
        await hint.getByRole('link', { name: /request access/ }).getAttribute('href'),
        '/catalogue/pet-store-free',
      );
      assert.equal(await page.locator('#docs-key-select').count(), 0);
      // Without a key the gateway answers 401, and the console shows it (CORS on errors too).
      const call = await execute(page, 'listPets');
      assert.equal(call.status, '401');
      assert.match(call.body, /KEY_MISSING/);
      await page.setViewportSize({ width: 390, height: 844 });
      await shot(page, 'docs-signed-out-phone');
    } finally {
      await browser.close();
    }
  });

  test('script in a specification’s descriptions is rendered inert', async () => {
    const policyId = (await system.admin.get('/api/v1/policies')).body.data[0].id;
    const entry = await system.admin.post('/api/v1/catalogue', {
      name: 'Hostile docs',
      slug: 'hostile-docs',
      policy_id: policyId,
    });
    const spec = {
      openapi: '3.0.3',
      info: {
        title: 'Hostile <script>window.__pwned = "title"</script>',
        version: '1',
        description:
          'Hi <script>window.__pwned = "info"</script><img src="x" onerror="window.__pwned = \'img\'"> [x](javascript:window.__pwned=1)',
      },
      paths: {
        '/pets': {
          get: {
            tags: ['pets'],
            operationId: 'listPets',
            summary: '<img src=x onerror="window.__pwned = \'summary\'">',
            description: '<script>window.__pwned = "op"</script><iframe src="javascript:parent.__pwned=1"></iframe>',
            parameters: [
              {
                name: 'q',
                in: 'query',
                description: '<svg onload="window.__pwned = \'svg\'"></svg>',
                schema: { type: 'string' },
              },
            ],
            responses: { 200: { description: '<b onmouseover="window.__pwned = 1">ok</b>' } },
          },
        },
      },
    };
    const put = await system.admin.request(
      'PUT',
      `/api/v1/catalogue/${entry.body.id}/documentation`,
      JSON.stringify(spec),
      { 'content-type': 'application/json' },
    );
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const browser = await openBrowser();
    try {
      const { page } = browser;
      await page.goto(`${portal}/catalogue/hostile-docs/docs`);
      await page.locator('#operations-pets-listPets').waitFor();
      await page.locator('#operations-pets-listPets .opblock-summary').first().click();
      await page.locator('#operations-pets-listPets .opblock-body').waitFor();
      await page.locator('#operations-pets-listPets .opblock-summary').hover();
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate('window.__pwned'), undefined);
      assert.equal(
        await page
          .locator('#swagger-ui script, #swagger-ui iframe, #swagger-ui [onerror], #swagger-ui [onload]')
          .count(),
        0,
      );
      await shot(page, 'docs-hostile-inert');
    } finally {
      await browser.close();
    }
  });
});
