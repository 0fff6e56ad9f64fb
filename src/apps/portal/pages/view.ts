import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Liquid } from 'liquidjs';
import type { PagesService, PortalSettings, SettingsService } from '../../../modules/content/index.js';
import type { ChangeBus } from '../../../platform/kv/index.js';
import { createViews, type WebOptions } from '../../../platform/http/index.js';

/**
 * Rendering for the HTML portal: theme folders, the layout's view-model (documented
 * at the top of themes/default/layouts/base.liquid), flash messages and the security
 * headers every page carries.
 */

export interface SiteView {
  name: string;
  logo_url: string | null;
  css_url: string | null;
  signup_enabled: boolean;
  menus: { main: { label: string; url: string; active?: boolean }[]; footer: { label: string; url: string }[] };
}

export interface Flash {
  kind: 'success' | 'info' | 'warning' | 'danger';
  message: string;
}

const FLASH_COOKIE = 'gh_flash';

export interface PortalViews {
  /** Renders `template` (a theme template name, e.g. `catalogue`) inside the layout. */
  render(
    request: FastifyRequest,
    reply: FastifyReply,
    template: string,
    data?: Record<string, unknown>,
    status?: number,
  ): Promise<FastifyReply>;
  /** The current portal settings (cached, refreshed when settings or pages change). */
  settings(): Promise<PortalSettings>;
  /** Theme folders, active theme first, then `themes/default`. */
  themeRoots(): Promise<string[]>;
  /** True when the active theme (or the default) has `<name>.liquid`. */
  hasTemplate(name: string): Promise<boolean>;
  /** Sets a one-shot message shown on the next rendered page. */
  flash(reply: FastifyReply, flash: Flash): void;
  /** The custom CSS from settings (served at /site/custom.css). */
  customCss(): Promise<string>;
}

export interface ViewDeps {
  settings: SettingsService;
  pages: PagesService;
  bus: ChangeBus;
  /** Folder that holds the theme folders (`themes/`). */
  themesDir: string;
  web: WebOptions;
  /** Origins the page may connect to besides itself (the gateway, for try-it consoles). */
  connectOrigins: string[];
}

/** Theme folders for a theme name; unknown names fall back to the default theme. */
export function themeRootsFor(themesDir: string, theme: string): string[] {
  const base = resolve(themesDir);
  const fallback = join(base, 'default');
  const chosen = resolve(base, theme);
  // The settings schema restricts the name, but never leave the themes folder anyway.
  if (theme === 'default' || !chosen.startsWith(base + sep) || !existsSync(chosen)) return [fallback];
  return [chosen, fallback];
}

function hashText(text: string): string {
  let h = 5381;
  for (let i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
  return h.toString(36);
}

export function createPortalViews(deps: ViewDeps): PortalViews {
  const engines = new Map<string, Liquid>();
  let cached: Promise<{ settings: PortalSettings; menuPages: { label: string; url: string }[] }> | null = null;
  deps.bus.subscribe((event) => {
    if (event.topic === 'settings' || event.topic === 'pages') cached = null;
  });

  function load() {
    cached ??= Promise.all([deps.settings.get(), deps.pages.menu()])
      .then(([settings, menuPages]) => ({ settings, menuPages }))
      .catch((error: unknown) => {
        cached = null;
        throw error;
      });
    return cached;
  }

  async function engine(): Promise<{ liquid: Liquid; roots: string[] }> {
    const { settings } = await load();
    const roots = themeRootsFor(deps.themesDir, settings.theme);
    const key = roots.join('\0');
    let liquid = engines.get(key);
    if (!liquid) {
      liquid = createViews(roots);
      engines.set(key, liquid);
    }
    return { liquid, roots };
  }

  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // Bootstrap and Chart.js set style attributes; no script can be injected through styles.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' https: data:",
    "font-src 'self' data:",
    `connect-src 'self' ${deps.connectOrigins.join(' ')}`.trim(),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

  function readFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
    const raw = request.cookies[FLASH_COOKIE];
    if (!raw) return null;
    void reply.clearCookie(FLASH_COOKIE, { path: '/' });
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid || !unsigned.value) return null;
    try {
      const parsed = JSON.parse(unsigned.value) as Flash;
      return ['success', 'info', 'warning', 'danger'].includes(parsed.kind) && typeof parsed.message === 'string'
        ? parsed
        : null;
    } catch {
      return null;
    }
  }

  return {
    settings: async () => (await load()).settings,
    themeRoots: async () => (await engine()).roots,
    async hasTemplate(name) {
      const { roots } = await engine();
      return /^[a-z0-9][a-z0-9_-]*$/.test(name) && roots.some((r) => existsSync(join(r, `${name}.liquid`)));
    },
    customCss: async () => (await load()).settings.custom_css,

    flash(reply, flash) {
      void reply.setCookie(FLASH_COOKIE, JSON.stringify(flash), {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        signed: true,
        maxAge: 120,
      });
    },

    async render(request, reply, template, data = {}, status = 200) {
      const { settings, menuPages } = await load();
      const { liquid } = await engine();
      const path = request.url.split('?')[0] ?? '/';
      const main = [...settings.menus.filter((m) => (m.menu ?? 'main') === 'main'), ...menuPages].map((m) => ({
        label: m.label,
        url: m.url,
        active: m.url === path || (m.url !== '/' && path.startsWith(`${m.url}/`)),
      }));
      const developer = request.developer;
      const name = developer?.fields.name;
      const site: SiteView = {
        name: settings.site_name,
        logo_url: settings.logo_url,
        css_url: settings.custom_css.trim() ? `/site/custom.css?v=${hashText(settings.custom_css)}` : null,
        signup_enabled: settings.signup_enabled,
        menus: {
          main,
          footer: settings.menus.filter((m) => m.menu === 'footer').map((m) => ({ label: m.label, url: m.url })),
        },
      };
      const html = (await liquid.renderFile(template, {
        ...data,
        site,
        developer: developer && {
          id: developer.id,
          email: developer.email,
          name: typeof name === 'string' ? name : '',
        },
        csrf_token: request.csrfToken,
        path,
        flash: readFlash(request, reply),
      })) as string;
      return reply
        .status(status)
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'same-origin')
        .header('cache-control', 'no-store')
        .send(html);
    },
  };
}
