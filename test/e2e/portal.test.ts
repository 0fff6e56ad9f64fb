import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CookieClient } from '../helpers/cookie-client.js';
import { dialects } from '../helpers/db.js';
import { eventually, startSystem, type TestSystem } from '../helpers/system.js';

/** A browser-like HTML client: keeps cookies, reads the CSRF token from each form page. */
class Browser extends CookieClient {
  async get(path: string): Promise<{ status: number; html: string; location: string | null; headers: Headers }> {
    const res = await this.fetch(path);
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  /** Posts a form the way a browser does; `csrf: false` leaves the token out. */
  async post(path: string, fields: Record<string, string>, opts: { csrf?: boolean | string; from?: string } = {}) {
    const body = new URLSearchParams(fields);
    if (opts.csrf !== false) {
      const token = typeof opts.csrf === 'string' ? opts.csrf : await this.csrf(opts.from ?? path);
      body.set('_csrf', token);
    }
    const res = await this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  async csrf(fromPath: string): Promise<string> {
    const page = await this.get(fromPath);
    const match = /name="_csrf" value="([^"]+)"/.exec(page.html);
    assert.ok(match, `no CSRF token on ${fromPath} (${page.status})`);
    return match[1]!;
  }
}

const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>"'><svg onload=alert(2)>`;

function assertInert(html: string, where: string): void {
  assert.ok(!/<script>alert/i.test(html), `${where}: a script tag came through`);
  assert.ok(!/<img[^>]*onerror/i.test(html), `${where}: an onerror handler came through`);
  assert.ok(!/<svg[^>]*onload/i.test(html), `${where}: an onload handler came through`);
  assert.ok(!/href="javascript:/i.test(html), `${where}: a javascript: link came through`);
}

for (const dialect of dialects()) {
  describe(`developer portal HTML on ${dialect}`, () => {
    let system: TestSystem;
    let portal: string;
    let policyId: string;

    before(async () => {
      system = await startSystem(dialect);
      portal = system.running.urls.portal;
      const upstreamApi = await system.admin.post('/api/v1/apis', {
        name: 'Echo',
        listen_path: '/echo',
        target_url: 'http://127.0.0.1:9',
      });
      assert.equal(upstreamApi.status, 201);
      const policy = await system.admin.post('/api/v1/policies', {
        name: 'Free',
        rate: 100,
        per: 60,
        quota_max: 10000,
        quota_renewal_rate: 2_592_000,
        access_rights: [{ api_id: upstreamApi.body.id }],
      });
      assert.equal(policy.status, 201);
      policyId = policy.body.id;
      const settings = await system.admin.patch('/api/v1/settings', {
        signup_fields: [
          { name: 'name', label: 'Full name', type: 'text', required: true },
          { name: 'company', label: 'Company', type: 'text', required: false },
          { name: 'role', label: 'Role', type: 'select', required: true, options: ['backend', 'frontend'] },
          { name: 'terms', label: 'I accept the terms', type: 'checkbox', required: true },
        ],
      });
      assert.equal(settings.status, 200);
    });

    after(async () => {
      await system?.stop();
    });

    async function signUp(browser: Browser, email: string, fields: Record<string, string> = {}) {
      return browser.post('/signup', {
        email,
        password: 'portal-pass-1',
        'fields.name': 'Ada',
        'fields.role': 'backend',
        'fields.terms': 'on',
        ...fields,
      });
    }

    async function logIn(browser: Browser, email: string, password = 'portal-pass-1') {
      return browser.post('/login', { email, password }, { from: '/forgot-password' });
    }

    test('sign-up validates beside each field, keeps the input, then creates the account', async () => {
      const browser = new Browser(portal);
      const bad = await browser.post('/signup', {
        email: 'not-an-email',
        password: 'short',
        'fields.company': 'Kept Co',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.html, /id="signup-email-error">Enter a valid email address/);
      assert.match(bad.html, /id="signup-password-error">Use at least 8 characters/);
      assert.match(bad.html, /value="Kept Co"/);
      const missing = await browser.post('/signup', {
        email: 'fields@example.com',
        password: 'portal-pass-1',
        'fields.company': 'Kept Co',
      });
      assert.equal(missing.status, 400);
      assert.match(missing.html, /id="f-fields-name-error">Full name is required/);
      assert.match(missing.html, /id="f-fields-terms-error">I accept the terms must be checked/);
      assert.match(missing.html, /value="fields@example.com"/);
      const ok = await signUp(browser, 'fields@example.com');
      assert.equal(ok.status, 303);
      assert.match(ok.location ?? '', /^\/login/);
      const logged = await logIn(browser, 'fields@example.com');
      assert.equal(logged.status, 303);
      assert.equal(logged.location, '/dashboard');
      const session = browser.cookies.get('gh_portal');
      assert.ok(session);
      const dash = await browser.get('/dashboard');
      assert.equal(dash.status, 200);
      assert.match(dash.html, /Log out/);
    });

    test('the session cookie is HttpOnly and SameSite=Lax, and logging in again rotates it', async () => {
      const browser = new Browser(portal);
      await signUp(browser, 'rotate@example.com');
      const token = await browser.csrf('/login');
      const first = await fetch(`${portal}/login`, {
        method: 'POST',
        headers: {
          cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ email: 'rotate@example.com', password: 'portal-pass-1', _csrf: token }).toString(),
        redirect: 'manual',
      });
      const cookie = first.headers.getSetCookie().find((c) => c.startsWith('gh_portal='));
      assert.ok(cookie);
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Lax/i);
      assert.doesNotMatch(cookie, /Secure/i, 'not Secure over plain HTTP');
      const old = cookie.split(';')[0]!.split('=').slice(1).join('=');
      browser.cookies.set('gh_portal', old);
      await logIn(browser, 'rotate@example.com');
      const rotated = browser.cookies.get('gh_portal');
      assert.ok(rotated && rotated !== old);
      // The old session no longer works.
      const stale = new Browser(portal);
      stale.cookies.set('gh_portal', old);
      assert.equal((await stale.get('/keys')).status, 303);
    });

    test('a second sign-up with the same email gets a clear message and creates nothing', async () => {
      const browser = new Browser(portal);
      assert.equal((await signUp(browser, 'Twice@Example.com')).status, 303);
      const before = await system.admin.get('/api/v1/developers?email=twice@example.com');
      assert.equal(before.body.data.length, 1);
      const again = await signUp(new Browser(portal), 'twice@example.com', { 'fields.name': 'Someone else' });
      assert.equal(again.status, 409);
      assert.match(again.html, /An account with this email already exists/);
      const afterwards = await system.admin.get('/api/v1/developers?email=twice@example.com');
      assert.equal(afterwards.body.data.length, 1);
      assert.equal(afterwards.body.data[0].fields.name, 'Ada');
    });

    test('posts without a valid CSRF token are refused with 403', async () => {
      const browser = new Browser(portal);
      await browser.get('/login');
      const none = await browser.post('/login', { email: 'x@example.com', password: 'whatever-1' }, { csrf: false });
      assert.equal(none.status, 403);
      assert.match(none.html, /did not come from this site/);
      const forged = await browser.post(
        '/signup',
        { email: 'forged@example.com', password: 'portal-pass-1' },
        { csrf: 'forged-token' },
      );
      assert.equal(forged.status, 403);
      const otherBrowsersToken = await new Browser(portal).csrf('/signup');
      const replayed = await browser.post(
        '/signup',
        { email: 'forged@example.com', password: 'portal-pass-1' },
        { csrf: otherBrowsersToken },
      );
      assert.equal(replayed.status, 403);
      assert.equal((await system.admin.get('/api/v1/developers?email=forged@example.com')).body.data.length, 0);
      // Signed in, a CSRF-less revoke does nothing either.
      await signUp(browser, 'csrf@example.com');
      await logIn(browser, 'csrf@example.com');
      assert.equal((await browser.post('/logout', {}, { csrf: false })).status, 403);
      assert.equal((await browser.get('/keys')).status, 200);
    });

    test('XSS payloads in profile fields render inert', async () => {
      const browser = new Browser(portal);
      assert.equal(
        (await signUp(browser, 'xss@example.com', { 'fields.name': XSS, 'fields.company': XSS })).status,
        303,
      );
      await logIn(browser, 'xss@example.com');
      for (const path of ['/profile', '/dashboard', '/keys', '/catalogue']) {
        const page = await browser.get(path);
        assert.equal(page.status, 200, path);
        assertInert(page.html, path);
      }
      const profile = await browser.get('/profile');
      assert.match(
        profile.html,
        /value="&lt;script&gt;alert\(&#34;x&#34;\)&lt;\/script&gt;&lt;img src=x onerror=alert\(1\)&gt;&#34;&#39;&gt;/,
        'escaped in the form value',
      );
      const csp = profile.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      // Editing the profile with a payload keeps it inert too.
      const saved = await browser.post('/profile', {
        'fields.name': `${XSS} again`,
        'fields.role': 'frontend',
        'fields.terms': 'on',
      });
      assert.equal(saved.status, 303);
      assertInert((await browser.get('/profile')).html, 'profile after edit');
    });

    test('XSS payloads in page Markdown render inert; pages show at /<slug>, in menus, and as the homepage', async () => {
      const body = `# Welcome\n\n${XSS}\n\n[click me](javascript:alert(3)) <a href="javascript:alert(4)">x</a>\n\n<iframe src="https://evil.example"></iframe>\n\n**bold** and [docs](https://example.com/docs)`;
      const created = await system.admin.post('/api/v1/pages', {
        slug: 'about',
        title: 'About <b>us</b>',
        body,
        published: true,
        menu_position: 1,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const draft = await system.admin.post('/api/v1/pages', {
        slug: 'draft-page',
        title: 'Draft',
        body: 'secret plans',
      });
      assert.equal(draft.status, 201);
      const reserved = await system.admin.post('/api/v1/pages', { slug: 'login', title: 'Nope' });
      assert.equal(reserved.status, 400);
      const browser = new Browser(portal);
      const page = await browser.get('/about');
      assert.equal(page.status, 200);
      assertInert(page.html, '/about');
      assert.ok(!page.html.includes('<iframe'), 'iframe removed');
      assert.match(page.html, /<h1>Welcome<\/h1>/);
      assert.match(page.html, /<strong>bold<\/strong>/);
      assert.match(page.html, /About &lt;b&gt;us&lt;\/b&gt;/);
      assert.match(
        (await browser.get('/catalogue')).html,
        /<a class="nav-link" href="\/about">About &lt;b&gt;us&lt;\/b&gt;<\/a>/,
        'in the main menu',
      );
      assert.match(
        page.html,
        /<a class="nav-link active" href="\/about" aria-current="page">/,
        'marked as the current page',
      );
      assert.equal((await browser.get('/draft-page')).status, 404);
      assert.equal((await browser.get('/no-such-page')).status, 404);
      // Homepage flag.
      const defaultHome = await browser.get('/');
      assert.match(defaultHome.html, /Browse the APIs/);
      const home = await system.admin.post('/api/v1/pages', {
        slug: 'welcome',
        title: 'Welcome home',
        body: 'Hello **developers**',
        published: true,
        is_homepage: true,
      });
      assert.equal(home.status, 201);
      const custom = await browser.get('/');
      assert.match(custom.html, /Hello <strong>developers<\/strong>/);
      const list = await system.admin.get('/api/v1/pages');
      assert.equal(list.body.data.length, 3);
      assert.equal((await system.admin.delete(`/api/v1/pages/${home.body.id}`)).status, 204);
      assert.match((await browser.get('/')).html, /Browse the APIs/);
    });

    test('XSS payloads in catalogue descriptions render inert; search by name and tag; policy in plain words', async () => {
      const entry = await system.admin.post('/api/v1/catalogue', {
        name: 'Weather <script>alert(5)</script>',
        short_description: XSS,
        long_description: `## Forecasts\n\n${XSS}\n\n[bad](javascript:alert(6))`,
        policy_id: policyId,
        tags: ['weather', 'geo'],
      });
      assert.equal(entry.status, 201, JSON.stringify(entry.body));
      await system.admin.post('/api/v1/catalogue', {
        name: 'Payments',
        short_description: 'Move money',
        policy_id: policyId,
        tags: ['finance'],
      });
      await system.admin.post('/api/v1/catalogue', {
        name: 'Members only',
        policy_id: policyId,
        visibility: 'members',
      });
      const browser = new Browser(portal);
      const list = await browser.get('/catalogue');
      assertInert(list.html, '/catalogue');
      assert.match(list.html, /Payments/);
      assert.doesNotMatch(list.html, /Members only/);
      const byName = await browser.get('/catalogue?q=pay');
      assert.match(byName.html, /Payments/);
      assert.doesNotMatch(byName.html, /Weather/);
      const byTag = await browser.get('/catalogue?tag=weather');
      assert.match(byTag.html, /Weather/);
      assert.doesNotMatch(byTag.html, /Payments/);
      const byTagSearch = await browser.get('/catalogue?q=geo');
      assert.match(byTagSearch.html, /Weather/);
      const page = await browser.get(`/catalogue/${entry.body.slug}`);
      assert.equal(page.status, 200);
      assertInert(page.html, 'entry page');
      assert.match(page.html, /<h2>Forecasts<\/h2>/);
      assert.match(page.html, /100 requests per minute/);
      assert.match(page.html, /10,000 requests per month/);
      assert.match(page.html, /Log in to request access/);
      await signUp(browser, 'member@example.com');
      await logIn(browser, 'member@example.com');
      assert.match((await browser.get('/catalogue')).html, /Members only/);
    });

    test('log-in is throttled per account and per IP with a 429 page', async () => {
      const browser = new Browser(portal);
      await signUp(browser, 'throttle@example.com');
      for (let i = 0; i < 5; i++)
        assert.equal((await logIn(browser, 'throttle@example.com', 'wrong-password')).status, 401);
      const locked = await logIn(browser, 'throttle@example.com');
      assert.equal(locked.status, 429, 'locked even with the right password');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.match(locked.html, /Too many failed log-ins/);
      // The developer JSON API shares the count: it is no way around the lock.
      const api = await system.portal.post('/api/v1/auth/tokens', {
        email: 'throttle@example.com',
        password: 'portal-pass-1',
      });
      assert.equal(api.status, 429);
      assert.equal(api.body.error.code, 'TOO_MANY_REQUESTS');
      assert.ok(Number(api.headers.get('retry-after')) > 0);
      // Another account from another browser is not locked by this one (per-account count).
      const other = new Browser(portal);
      await signUp(other, 'throttle-other@example.com');
      assert.equal((await logIn(other, 'throttle-other@example.com')).status, 303);
    });

    test('menus from the portal settings show in the navigation and footer; script URLs are refused', async () => {
      const saved = await system.admin.patch('/api/v1/settings', {
        menus: [
          { label: 'APIs', url: '/catalogue', menu: 'main' },
          { label: 'Blog <new>', url: '/blog', menu: 'main' },
          { label: 'Status', url: 'https://status.example.com/?a=1&b=2', menu: 'footer' },
        ],
      });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      try {
        const html = (await new Browser(portal).get('/catalogue')).html;
        assert.match(html, /<a class="nav-link" href="\/blog">Blog &lt;new&gt;<\/a>/);
        assert.match(html, /<a class="link-secondary" href="https:\/\/status.example.com\/\?a=1&amp;b=2">Status<\/a>/);
        const bad = await system.admin.patch('/api/v1/settings', {
          menus: [{ label: 'x', url: 'javascript:alert(1)', menu: 'main' }],
        });
        assert.equal(bad.status, 400);
        assert.doesNotMatch((await new Browser(portal).get('/catalogue')).html, /javascript:/);
      } finally {
        await system.admin.patch('/api/v1/settings', { menus: [{ label: 'APIs', url: '/catalogue', menu: 'main' }] });
      }
    });

    test('sign-up can be switched off; custom CSS and a theme override apply', async () => {
      const themeName = `test-theme-${Date.now().toString(36)}`;
      const themeDir = join(process.cwd(), 'themes', themeName);
      mkdirSync(join(themeDir, 'assets'), { recursive: true });
      writeFileSync(
        join(themeDir, 'signup-closed.liquid'),
        '{% layout \'base\' %}{% block content %}<p id="custom-closed">Come back soon, {{ site.name }}</p>{% endblock %}',
      );
      writeFileSync(join(themeDir, 'assets', 'portal.css'), 'body { color: rebeccapurple; }');
      try {
        const off = await system.admin.patch('/api/v1/settings', {
          signup_enabled: false,
          custom_css: 'body { background: #fafafa; } /* </style><script>alert(7)</script> */',
          theme: themeName,
          site_name: 'Acme <Dev>',
        });
        assert.equal(off.status, 200, JSON.stringify(off.body));
        const browser = new Browser(portal);
        const closed = await browser.get('/signup');
        assert.match(closed.html, /id="custom-closed">Come back soon, Acme &lt;Dev&gt;/);
        const cssLink = /href="(\/site\/custom\.css\?v=[^"]+)"/.exec(closed.html);
        assert.ok(cssLink, 'custom CSS linked');
        assertInert(closed.html, 'page with custom css');
        const css = await browser.get(cssLink[1]!);
        assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
        assert.match(css.html, /background: #fafafa/);
        assert.match((await browser.get('/assets/theme/portal.css')).html, /rebeccapurple/);
        assert.match(
          (await browser.get('/assets/theme/portal.js')).html,
          /data-copy-target/,
          'default theme asset still served',
        );
        assert.equal((await browser.get('/assets/theme/../../package.json')).status, 404);
        const refused = await browser.post(
          '/signup',
          { email: 'closed@example.com', password: 'portal-pass-1' },
          { from: '/login' },
        );
        assert.equal(refused.status, 403);
        assert.equal((await system.admin.get('/api/v1/developers?email=closed@example.com')).body.data.length, 0);
      } finally {
        await system.admin.patch('/api/v1/settings', {
          signup_enabled: true,
          custom_css: '',
          theme: 'default',
          site_name: 'Gatehouse Developer Portal',
        });
        rmSync(themeDir, { recursive: true, force: true });
      }
    });

    test('password reset: a single-use link from the email (log transport) sets a new password', async () => {
      const browser = new Browser(portal);
      await signUp(browser, 'reset@example.com');
      const asked = await browser.post('/forgot-password', { email: 'reset@example.com' });
      assert.equal(asked.status, 200);
      const unknown = await browser.post('/forgot-password', { email: 'nobody@example.com' });
      assert.equal(unknown.status, 200, 'same answer for unknown addresses');
      const logged = system
        .logs()
        .split('\n')
        .filter((l) => l.includes('"template":"password-reset"'));
      assert.equal(logged.length, 1);
      const url = /(\/reset-password\?token=[\w%-]+)/.exec(JSON.parse(logged[0]!).mail.text as string)?.[1];
      assert.ok(url);
      assert.equal((await browser.get(url)).status, 200);
      const token = decodeURIComponent(url.split('token=')[1]!);
      const done = await browser.post(
        '/reset-password',
        { token, password: 'brand-new-pass', password_confirm: 'brand-new-pass' },
        { from: url },
      );
      assert.equal(done.status, 303);
      assert.equal((await logIn(browser, 'reset@example.com', 'brand-new-pass')).status, 303);
      const again = await browser.post(
        '/reset-password',
        { token, password: 'another-pass-2', password_confirm: 'another-pass-2' },
        { from: '/forgot-password' },
      );
      assert.equal(again.status, 400, 'the link works once');
      assert.match(again.html, /invalid, was already used or has expired/);
      assert.equal((await browser.get(url)).status, 400);
      // A link that has expired is refused too, and does not change the password.
      await browser.post('/forgot-password', { email: 'reset@example.com' });
      const second = system
        .logs()
        .split('\n')
        .filter((l) => l.includes('"template":"password-reset"'));
      assert.equal(second.length, 2);
      const late = /(\/reset-password\?token=[\w%-]+)/.exec(JSON.parse(second[1]!).mail.text as string)?.[1];
      assert.ok(late && late !== url);
      await system.running.database.db
        .updateTable('developer_account_tokens')
        .set({ expires_at: Date.now() - 1 })
        .where('used_at', 'is', null)
        .where('purpose', '=', 'password_reset')
        .execute();
      assert.equal((await browser.get(late)).status, 400);
      const expired = await browser.post(
        '/reset-password',
        {
          token: decodeURIComponent(late.split('token=')[1]!),
          password: 'too-late-pass',
          password_confirm: 'too-late-pass',
        },
        { from: '/forgot-password' },
      );
      assert.equal(expired.status, 400);
      assert.equal((await logIn(new Browser(portal), 'reset@example.com', 'too-late-pass')).status, 401);
    });

    test('email verification: pending until the emailed link is opened, then a welcome email', async () => {
      await system.admin.patch('/api/v1/settings', { email_verification: true });
      try {
        const browser = new Browser(portal);
        const created = await signUp(browser, 'verify@example.com');
        assert.equal(created.status, 200);
        assert.match(created.html, /Check your email/);
        const denied = await logIn(browser, 'verify@example.com');
        assert.equal(denied.status, 403);
        assert.match(denied.html, /Confirm your email address first/);
        const line = system
          .logs()
          .split('\n')
          .find((l) => l.includes('"template":"verify-email"') && l.includes('verify@example.com'));
        const url = /(\/verify-email\?token=[\w%-]+)/.exec(JSON.parse(line!).mail.text as string)?.[1];
        assert.ok(url);
        const verified = await browser.get(url);
        assert.equal(verified.status, 303);
        assert.equal((await logIn(browser, 'verify@example.com')).status, 303);
        assert.ok(
          system
            .logs()
            .split('\n')
            .some((l) => l.includes('"template":"welcome"') && l.includes('verify@example.com')),
        );
        assert.equal((await browser.get(url)).status, 400, 'single use');
      } finally {
        await system.admin.patch('/api/v1/settings', { email_verification: false });
      }
    });

    test('no email carries a key secret, and the profile password change keeps this session only', async () => {
      const browser = new Browser(portal);
      await signUp(browser, 'pw@example.com');
      await logIn(browser, 'pw@example.com');
      const other = new Browser(portal);
      await logIn(other, 'pw@example.com');
      const wrong = await browser.post(
        '/profile/password',
        { current_password: 'nope-nope', password: 'next-pass-123', password_confirm: 'next-pass-123' },
        { from: '/profile' },
      );
      assert.equal(wrong.status, 400);
      assert.match(wrong.html, /Your current password is wrong/);
      const changed = await browser.post(
        '/profile/password',
        { current_password: 'portal-pass-1', password: 'next-pass-123', password_confirm: 'next-pass-123' },
        { from: '/profile' },
      );
      assert.equal(changed.status, 303);
      assert.equal((await browser.get('/profile')).status, 200, 'this session continues');
      assert.equal((await other.get('/profile')).status, 303, 'other sessions ended');
      assert.doesNotMatch(system.logs(), /gh_[0-9A-Za-z]{32,}/);
    });

    test('keys through the HTML forms: request with the entry fields, roll, per-key dashboard with recent errors, rejection emailed', async () => {
      const auto = await system.admin.post('/api/v1/catalogue', {
        name: 'Echo auto',
        policy_id: policyId,
        approval: 'auto',
        key_request_fields: [{ name: 'use_case', label: 'Use case', type: 'text', required: true }],
      });
      assert.equal(auto.status, 201, JSON.stringify(auto.body));
      const browser = new Browser(portal);
      await signUp(browser, 'keys@example.com');
      await logIn(browser, 'keys@example.com');
      const requestPath = `/catalogue/${auto.body.slug}/request`;
      const missing = await browser.post(requestPath, { key_name: 'cli' });
      assert.equal(missing.status, 400);
      assert.match(missing.html, /id="f-fields-use_case-error">Use case is required/);
      assert.match(missing.html, /value="cli"/, 'the key name is kept');
      const shown = await browser.post(requestPath, { key_name: 'cli', 'fields.use_case': 'status page' });
      assert.equal(shown.status, 200);
      const first = /id="key-secret" value="(gh_[0-9A-Za-z]+)"/.exec(shown.html)?.[1];
      assert.ok(first, 'the secret is shown once');
      assert.ok(
        shown.html.includes(
          `id="curl-command">curl -H &#39;Authorization: Bearer ${first}&#39; ${system.gatewayUrl}/echo/<`,
        ),
        'a ready curl command against the gateway',
      );
      const developer = (await system.admin.get('/api/v1/developers?email=keys@example.com')).body.data[0];
      const keys = await system.admin.get(`/api/v1/keys?developer_id=${developer.id}`);
      const key = keys.body.data.find((k: any) => k.name === 'cli');
      assert.ok(key, JSON.stringify(keys.body));
      // The page hands the secret to this tab's docs console (sessionStorage, in portal.js), not to the server.
      assert.match(shown.html, new RegExp(`id="key-secret" value="${first}" data-remember-key="${key.id}"`));
      assert.doesNotMatch(shown.html, /id="try-in-docs"/, 'no console link: this entry has no OpenAPI docs');
      const requests = await system.admin.get(`/api/v1/key-requests?status=approved`);
      assert.deepEqual(requests.body.data.find((r: any) => r.key_id === key.id)?.fields, { use_case: 'status page' });

      // The upstream of this API is down: the call is the developer's error, shown per key.
      const call = await fetch(`${system.gatewayUrl}/echo/orders?id=7`, { headers: { 'x-api-key': first } });
      assert.equal(call.status, 502);
      await call.text();
      await system.running.analytics.flush();
      const dash = await browser.get(`/dashboard?key=${key.id}&range=24h`);
      assert.equal(dash.status, 200);
      assert.match(dash.html, new RegExp(`<option value="${key.id}" selected>cli</option>`));
      assert.match(dash.html, /id="total-hits">1</);
      assert.match(dash.html, /id="total-errors">1</);
      assert.match(dash.html, /<code>GET \/echo\/orders<\/code><\/td><td>502 UPSTREAM_UNAVAILABLE</);
      assert.match(dash.html, /Rate limit: 100 requests per minute/);
      assert.match(dash.html, /Quota: 10,000 requests per month — 1 used, 9,999 remaining, renews \d{4}-/);
      assert.match(dash.html, /data-chart="\{&#34;labels&#34;/, 'chart data for Chart.js, escaped in the attribute');

      // My keys: roll asks for confirmation and shows a new secret once; the old one stops working.
      const list = await browser.get('/keys');
      assert.match(list.html, new RegExp(`action="/keys/${key.id}/roll" data-confirm=`));
      assert.match(list.html, new RegExp(`action="/keys/${key.id}/revoke" data-confirm=`));
      // Created and last used (the gateway writes last-used times in batches every few seconds).
      assert.match(list.html, /Created<\/dt><dd class="col-7">\d{4}-\d\d-\d\d \d\d:\d\d</);
      assert.match(list.html, /Last used<\/dt><dd class="col-7">(\d{4}-\d\d-\d\d \d\d:\d\d|never)</);
      const rolled = await browser.post(`/keys/${key.id}/roll`, {}, { from: '/keys' });
      assert.equal(rolled.status, 200);
      const second = /id="key-secret" value="(gh_[0-9A-Za-z]+)"/.exec(rolled.html)?.[1];
      assert.ok(second && second !== first);
      assert.match(rolled.html, /The previous secret of this key no longer works/);
      assert.equal((await browser.post(`/keys/${key.id}/roll`, {}, { csrf: false })).status, 403);
      const oldRefused = await eventually(
        async () => {
          const res = await fetch(`${system.gatewayUrl}/echo/x`, { headers: { 'x-api-key': first } });
          await res.text();
          return res.status === 401;
        },
        2_000,
        50,
      );
      assert.ok(oldRefused, 'the rolled-out secret is refused within a second or so');
      const fresh = await fetch(`${system.gatewayUrl}/echo/x`, { headers: { 'x-api-key': second } });
      assert.equal(fresh.status, 502, 'the new secret gets through to the (down) upstream');
      await fresh.text();

      // Manual approval, rejected by an admin: the developer is emailed the reason, never a key.
      const manual = await system.admin.post('/api/v1/catalogue', {
        name: 'Echo reviewed',
        policy_id: policyId,
        approval: 'manual',
      });
      const sent = await browser.post(`/catalogue/${manual.body.slug}/request`, { key_name: 'prod' });
      assert.equal(sent.status, 200);
      assert.match(sent.html, /Request sent/);
      const pending = await system.admin.get('/api/v1/key-requests?status=pending');
      const mine = pending.body.data.find((r: any) => r.catalogue_id === manual.body.id);
      assert.ok(mine);
      const rejected = await system.admin.post(`/api/v1/key-requests/${mine.id}/reject`, { reason: 'Tell us <more>' });
      assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
      const mailed = () =>
        system
          .logs()
          .split('\n')
          .filter((l) => l.includes('"template":"key-request-rejected"') && l.includes('keys@example.com'));
      assert.ok(await eventually(async () => mailed().length === 1, 2_000));
      const mail = JSON.parse(mailed()[0]!).mail as { subject: string; text: string };
      assert.match(mail.subject, /Echo reviewed was declined/);
      assert.match(mail.text, /Reason given: Tell us <more>/, 'plain text, not HTML-escaped');
      assert.match(
        (await browser.get('/keys')).html,
        /Echo reviewed<\/td><td>prod<\/td><td><span class="badge text-bg-danger">rejected/,
      );
      for (const secret of [first, second]) assert.ok(!system.logs().includes(secret), 'no secret in any log or mail');
    });
  });

  describe(`developer portal behind an HTTPS proxy on ${dialect}`, () => {
    let system: TestSystem;
    let portal: string;

    before(async () => {
      system = await startSystem(dialect, { trust_proxy: true });
      portal = system.running.urls.portal;
    });

    after(async () => {
      await system?.stop();
    });

    const viaProxy = (ip: string) => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': 'https' });

    test('behind HTTPS the session and CSRF cookies are Secure as well as HttpOnly and SameSite', async () => {
      const browser = new Browser(portal, viaProxy('198.51.100.1'));
      const created = await browser.post('/signup', {
        email: 'secure@example.com',
        password: 'portal-pass-1',
        'fields.name': 'Sec',
      });
      assert.equal(created.status, 303, created.html.slice(0, 300));
      const token = await browser.csrf('/login');
      const res = await fetch(`${portal}/login`, {
        method: 'POST',
        headers: {
          ...viaProxy('198.51.100.1'),
          cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ email: 'secure@example.com', password: 'portal-pass-1', _csrf: token }).toString(),
        redirect: 'manual',
      });
      assert.equal(res.status, 303);
      const cookies = res.headers.getSetCookie();
      const session = cookies.find((c) => c.startsWith('gh_portal='));
      assert.ok(session, cookies.join(' | '));
      assert.match(session, /; Secure/i);
      assert.match(session, /HttpOnly/i);
      assert.match(session, /SameSite=Lax/i);
      for (const cookie of cookies) assert.match(cookie, /; Secure/i, cookie);
    });

    test('log-in is throttled per IP: one address guessing across many accounts is locked, others are not', async () => {
      const browser = new Browser(portal, viaProxy('203.0.113.7'));
      assert.equal(
        (await browser.post('/signup', { email: 'victim@example.com', password: 'portal-pass-1', 'fields.name': 'V' }))
          .status,
        303,
      );
      // 20 failures from one address, each on a different account (no account reaches its own limit).
      for (let i = 0; i < 20; i++) {
        const failed = await browser.post(
          '/login',
          { email: `guess${i}@example.com`, password: 'wrong-password' },
          { from: '/forgot-password' },
        );
        assert.equal(failed.status, 401, `attempt ${i + 1}`);
      }
      const locked = await browser.post(
        '/login',
        { email: 'victim@example.com', password: 'portal-pass-1' },
        { from: '/forgot-password' },
      );
      assert.equal(locked.status, 429, 'that address is locked, even with a right password');
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      const api = await fetch(`${portal}/api/v1/auth/tokens`, {
        method: 'POST',
        headers: { ...viaProxy('203.0.113.7'), 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'victim@example.com', password: 'portal-pass-1' }),
      });
      assert.equal(api.status, 429, 'the developer API shares the per-IP count');
      await api.text();
      const elsewhere = new Browser(portal, viaProxy('203.0.113.8'));
      const ok = await elsewhere.post(
        '/login',
        { email: 'victim@example.com', password: 'portal-pass-1' },
        { from: '/forgot-password' },
      );
      assert.equal(ok.status, 303, 'the account itself is not locked: another address logs in');
    });
  });
}
