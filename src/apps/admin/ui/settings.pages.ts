import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  PageCreateBody,
  PagePatchBody,
  SettingsPatchBody,
  type PageResponse,
  type PortalSettings,
} from '../../../modules/content/index.js';
import { validationError } from '../../../shared/errors.js';
import { actorOf } from '../context.js';
import { fieldsToText, textToFields } from './fields-editor.js';
import {
  checkbox,
  checked,
  flash,
  int,
  optionalText,
  problemsOf,
  render,
  text,
  uiRole,
  type FormBody,
  type UiDeps,
} from './support.js';

type Menu = PortalSettings['menus'][number];

function menusToText(menus: Menu[]): string {
  return menus.map((m) => `${m.label} | ${m.url} | ${m.menu ?? 'main'}`).join('\n');
}

function textToMenus(linesOf: string[]): Menu[] {
  return linesOf.map((l, i) => {
    const [label = '', url = '', menu = 'main'] = l.split('|').map((p) => p.trim());
    if (!label || !url) throw validationError([{ field: `menus.${i}`, message: 'needs "label | url"' }]);
    return { label, url, menu: menu === 'footer' ? 'footer' : 'main' };
  });
}

/** Portal settings (with the custom-fields editor) and CMS pages. */
export function registerSettingsPages(app: FastifyInstance, deps: UiDeps): void {
  const { s, pages } = deps;
  const read = { preHandler: uiRole('viewer') };
  const write = { preHandler: uiRole('admin') };

  function settingsValues(body: FormBody) {
    return {
      site_name: text(body, 'site_name'),
      logo_url: optionalText(body, 'logo_url') ?? null,
      theme: text(body, 'theme') || 'default',
      custom_css: typeof body.custom_css === 'string' ? body.custom_css : '',
      signup_enabled: checkbox(body, 'signup_enabled'),
      email_verification: checkbox(body, 'email_verification'),
      default_approval: text(body, 'default_approval'),
      notify_admins_on_request: checkbox(body, 'notify_admins_on_request'),
      signup_fields_text: text(body, 'signup_fields'),
      default_key_request_fields_text: text(body, 'default_key_request_fields'),
      menus_text: text(body, 'menus'),
    };
  }

  async function settingsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    values: Record<string, unknown> | null,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const settings = await s.settings.get();
    const shown = values ?? {
      ...settings,
      signup_fields_text: fieldsToText(settings.signup_fields),
      default_key_request_fields_text: fieldsToText(settings.default_key_request_fields),
      menus_text: menusToText(settings.menus),
    };
    return render(
      deps,
      request,
      reply,
      'settings',
      { title: 'Portal settings', values: shown, errors: {}, ...extra },
      status,
    );
  }

  app.get('/settings', read, async (request, reply) => settingsPage(request, reply, null));
  app.post<{ Body: FormBody }>('/settings', write, async (request, reply) => {
    const values = settingsValues(request.body);
    try {
      const {
        signup_fields_text: fieldsText,
        default_key_request_fields_text: requestFieldsText,
        menus_text: menusText,
        ...rest
      } = values;
      const patch = checked<SettingsPatchBody>(request, SettingsPatchBody, {
        ...rest,
        signup_fields: textToFields(fieldsText, 'signup_fields'),
        default_key_request_fields: textToFields(requestFieldsText, 'default_key_request_fields'),
        menus: textToMenus(
          menusText
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter(Boolean),
        ),
      });
      await s.settings.update(actorOf(request), patch);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return settingsPage(request, reply, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
    flash(reply, 'success', 'Portal settings saved.');
    return reply.redirect('/settings');
  });

  // ── CMS pages ────────────────────────────────────────────────────────────────────
  function pageValues(body: FormBody) {
    const menu = int(body, 'menu_position');
    return {
      slug: text(body, 'slug'),
      title: text(body, 'title'),
      body: typeof body.body === 'string' ? body.body : '',
      template: text(body, 'template') || 'page',
      published: checkbox(body, 'published'),
      is_homepage: checkbox(body, 'is_homepage'),
      menu_position: menu === undefined ? null : menu,
    };
  }

  async function pageForm(
    request: FastifyRequest,
    reply: FastifyReply,
    page: PageResponse | null,
    values: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    return render(
      deps,
      request,
      reply,
      'page-form',
      { title: page ? `Page ${page.title}` : 'New page', page, values, errors: {}, ...extra },
      status,
    );
  }

  app.get('/pages', read, async (request, reply) => {
    const list = await pages.list({ limit: 200 });
    return render(deps, request, reply, 'pages', { title: 'Pages', pages: list.data });
  });
  app.get('/pages/new', write, async (request, reply) =>
    pageForm(request, reply, null, { template: 'page', published: false, body: '' }),
  );
  app.post<{ Body: FormBody }>('/pages', write, async (request, reply) => {
    const values = pageValues(request.body);
    try {
      const created = await pages.create(actorOf(request), checked<PageCreateBody>(request, PageCreateBody, values));
      flash(reply, 'success', `Page "${created.title}" created.`);
      return reply.redirect(`/pages/${encodeURIComponent(created.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return pageForm(request, reply, null, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
  });
  app.get<{ Params: { id: string } }>('/pages/:id', read, async (request, reply) => {
    const page = await pages.get(request.params.id);
    return pageForm(request, reply, page, page);
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/pages/:id', write, async (request, reply) => {
    const page = await pages.get(request.params.id);
    const values = pageValues(request.body);
    try {
      await pages.update(actorOf(request), page.id, checked<PagePatchBody>(request, PagePatchBody, values));
    } catch (error) {
      const p = problemsOf(error);
      if (p) return pageForm(request, reply, page, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
    flash(reply, 'success', 'Page saved.');
    return reply.redirect(`/pages/${encodeURIComponent(page.id)}`);
  });
  app.post<{ Params: { id: string } }>('/pages/:id/delete', write, async (request, reply) => {
    await pages.remove(actorOf(request), request.params.id);
    flash(reply, 'success', 'Page deleted.');
    return reply.redirect('/pages');
  });
}
