import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieClient } from '../helpers/cookie-client.js';
import { dialects } from '../helpers/db.js';
import { signUpDeveloper, startSystem, type Client, type TestSystem } from '../helpers/system.js';

/**
 * Documentation from upload to a real call: the demo seed's OpenAPI document, the
 * developer API's rendering (servers on the gateway, gateway key scheme), a key from
 * the catalogue, and a call to the operation the docs describe through the gateway
 * to the sample upstream. Plus visibility, sanitising and the docs page's key helpers.
 */

/** A browser-like session on the portal: cookies and the CSRF token of the last page. */
class PortalBrowser extends CookieClient {
  csrf = '';

  async page(path: string): Promise<{ status: number; html: string }> {
    const res = await this.fetch(path);
    const html = await res.text();
    this.csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? /data-csrf="([^"]+)"/.exec(html)?.[1] ?? this.csrf;
    return { status: res.status, html };
  }

  async logIn(email: string, password: string): Promise<void> {
    await this.page('/login');
    const res = await this.fetch('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: this.csrf, email, password }).toString(),
    });
    assert.equal(res.status, 303, `log-in failed: ${res.status}`);
  }
}

for (const dialect of dialects()) {
  describe(`documentation in the portal, end to end on ${dialect}`, () => {
    let system: TestSystem;
    let dev: Client;
    let entry: any;

    before(async () => {
      system = await startSystem(dialect, { demo: true, sample_upstream_port: 0 });
      dev = await signUpDeveloper(system, 'reader@example.com');
      const list = await system.portal.get('/api/v1/catalogue');
      entry = list.body.data.find((e: any) => e.slug === 'pet-store-free');
      assert.ok(entry, 'the demo entry exists');
    });

    after(async () => {
      await system?.stop();
    });

    test('the demo seed ships OpenAPI docs for the sample API; the developer API renders them for the gateway', async () => {
      assert.equal(entry.documentation.format, 'openapi');
      const docs = await system.portal.get(`/api/v1/catalogue/${entry.id}/documentation`);
      assert.equal(docs.status, 200, JSON.stringify(docs.body));
      assert.equal(docs.body.format, 'openapi');
      assert.match(docs.body.content_hash, /^[0-9a-f]{64}$/);
      const api = docs.body.openapi;
      assert.deepEqual(Object.keys(api.paths).sort(), ['/pets', '/pets/{id}']);
      assert.deepEqual(
        api.servers.map((s: any) => s.url),
        [`${system.gatewayUrl}/petstore`],
      );
      assert.deepEqual(api.components.securitySchemes, {
        gatehouse_key: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'Your Gatehouse API key, from the portal (My keys).',
        },
      });
      assert.deepEqual(api.security, [{ gatehouse_key: [] }]);
      // by slug too
      assert.equal((await system.portal.get(`/api/v1/catalogue/${entry.slug}/documentation`)).status, 200);
    });

    test('a key from the catalogue calls the documented operations through the gateway and gets the upstream answers', async () => {
      const requested = await dev.post('/api/v1/key-requests', {
        catalogue_id: entry.id,
        key_name: 'docs',
        fields: {},
      });
      assert.equal(requested.status, 201, JSON.stringify(requested.body));
      const secret = requested.body.key.secret;
      const api = (await dev.get(`/api/v1/catalogue/${entry.id}/documentation`)).body.openapi;
      const server = api.servers[0].url;
      const header = api.components.securitySchemes.gatehouse_key.name;
      const list = await fetch(`${server}/pets?status=available`, { headers: { [header]: secret } });
      assert.equal(list.status, 200);
      assert.deepEqual(
        ((await list.json()) as any[]).map((p: any) => p.name),
        ['Rex', 'Tom'],
      );
      const one = await fetch(`${server}/pets/1`, { headers: { [header]: secret } });
      assert.equal(one.status, 200);
      assert.equal(((await one.json()) as any).name, 'Rex');
      const anonymous = await fetch(`${server}/pets`);
      assert.equal(anonymous.status, 401);
    });

    test('documentation follows the entry visibility: members-only needs a signed-in developer, hidden never shows', async () => {
      const policyId = (await system.admin.get(`/api/v1/catalogue/${entry.id}`)).body.policy_id;
      const members = await system.admin.post('/api/v1/catalogue', {
        name: 'Members docs',
        policy_id: policyId,
        visibility: 'members',
      });
      const hidden = await system.admin.post('/api/v1/catalogue', {
        name: 'Hidden docs',
        policy_id: policyId,
        visibility: 'hidden',
      });
      for (const id of [members.body.id, hidden.body.id]) {
        const put = await system.admin.request('PUT', `/api/v1/catalogue/${id}/documentation`, '# Internal guide', {
          'content-type': 'text/markdown',
        });
        assert.equal(put.status, 201, JSON.stringify(put.body));
      }
      assert.equal((await system.portal.get(`/api/v1/catalogue/${members.body.id}/documentation`)).status, 404);
      const asMember = await dev.get(`/api/v1/catalogue/${members.body.id}/documentation`);
      assert.equal(asMember.status, 200);
      assert.equal(asMember.body.format, 'markdown');
      assert.match(asMember.body.html, /<h1>Internal guide<\/h1>/);
      assert.equal((await dev.get(`/api/v1/catalogue/${hidden.body.id}/documentation`)).status, 404);
      const page = await fetch(`${system.running.urls.portal}/catalogue/${members.body.slug}/docs`);
      assert.equal(page.status, 404);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    });

    test('Markdown docs render as a sanitised portal page', async () => {
      const policyId = (await system.admin.get(`/api/v1/catalogue/${entry.id}`)).body.policy_id;
      const md = await system.admin.post('/api/v1/catalogue', { name: 'Guide', policy_id: policyId });
      const body =
        '# Getting started\n\nCall `GET /pets`.\n\n<script>window.pwned = 1</script>\n\n<img src="x" onerror="window.pwned = 2">\n\n[docs](javascript:alert(1))\n';
      assert.equal(
        (
          await system.admin.request('PUT', `/api/v1/catalogue/${md.body.id}/documentation`, body, {
            'content-type': 'text/markdown',
          })
        ).status,
        201,
      );
      const res = await fetch(`${system.running.urls.portal}/catalogue/${md.body.slug}/docs`);
      assert.equal(res.status, 200);
      const html = await res.text();
      const article = html.slice(html.indexOf('id="docs-markdown"'), html.indexOf('</article>'));
      assert.match(article, /<h1>Getting started<\/h1>/);
      assert.match(article, /<code>GET \/pets<\/code>/);
      assert.doesNotMatch(article, /<script|onerror|javascript:/i);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      // The entry page links to the documentation.
      const entryPage = await (await fetch(`${system.running.urls.portal}/catalogue/${md.body.slug}`)).text();
      assert.match(entryPage, new RegExp(`href="/catalogue/${md.body.slug}/docs"`));
    });

    test('the console document is served with an ETag; unchanged documentation answers 304', async () => {
      const url = `${system.running.urls.portal}/catalogue/${entry.slug}/docs/openapi.json`;
      const first = await fetch(url);
      assert.equal(first.status, 200);
      const etag = first.headers.get('etag');
      assert.ok(etag);
      assert.equal(((await first.json()) as any).servers[0].url, `${system.gatewayUrl}/petstore`);
      const again = await fetch(url, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    });

    test('docs page: signed out it says how to get a key; signed in it lists the keys for this entry; roll-and-use needs CSRF and ownership', async () => {
      const visitor = new PortalBrowser(system.running.urls.portal);
      const signedOut = await visitor.page(`/catalogue/${entry.slug}/docs`);
      assert.equal(signedOut.status, 200);
      assert.match(signedOut.html, /id="docs-get-key"/);
      assert.match(signedOut.html, /To try these calls you need an API key/);
      assert.doesNotMatch(signedOut.html, /docs-key-select/);

      const browser = new PortalBrowser(system.running.urls.portal);
      await browser.logIn('reader@example.com', 'dev-password-1');
      const signedIn = await browser.page(`/catalogue/${entry.slug}/docs`);
      assert.equal(signedIn.status, 200);
      const keys = (await dev.get('/api/v1/keys')).body.data.filter((k: any) => k.catalogue_id === entry.id);
      assert.equal(keys.length, 1);
      assert.match(
        signedIn.html,
        new RegExp(`<option value="${keys[0].id}"[^>]*>docs \\(${keys[0].prefix}…${keys[0].last4}\\)</option>`),
      );
      assert.doesNotMatch(signedIn.html, /gh_[0-9A-Za-z]{32,}/, 'no secret on the page');

      const rollPath = `/catalogue/${entry.slug}/docs/keys/${keys[0].id}/roll`;
      const noCsrf = await browser.fetch(rollPath, { method: 'POST' });
      assert.equal(noCsrf.status, 403);
      assert.equal(((await noCsrf.json()) as any).error.code, 'FORBIDDEN');
      const rolled = await browser.fetch(rollPath, { method: 'POST', headers: { 'x-csrf-token': browser.csrf } });
      assert.equal(rolled.status, 200);
      const body = (await rolled.json()) as any;
      assert.equal(body.key_id, keys[0].id);
      assert.match(body.secret, /^gh_/);
      const call = await fetch(`${system.gatewayUrl}/petstore/pets`, { headers: { 'x-api-key': body.secret } });
      assert.equal(call.status, 200);

      const stranger = new PortalBrowser(system.running.urls.portal);
      await signUpDeveloper(system, 'stranger@example.com');
      await stranger.logIn('stranger@example.com', 'dev-password-1');
      await stranger.page(`/catalogue/${entry.slug}/docs`);
      const foreign = await stranger.fetch(rollPath, { method: 'POST', headers: { 'x-csrf-token': stranger.csrf } });
      assert.equal(foreign.status, 404);
    });
  });
}
