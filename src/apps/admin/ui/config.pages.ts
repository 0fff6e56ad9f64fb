import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiCreateBody, ApiPatchBody, type ApiResponse } from '../../../modules/apis/index.js';
import { CatalogueCreateBody, CataloguePatchBody, type CatalogueResponse } from '../../../modules/catalogue/index.js';
import { renderMarkdown } from '../../../modules/content/index.js';
import { PolicyCreateBody, PolicyPatchBody, type PolicyResponse } from '../../../modules/policies/index.js';
import { appError, isAppError } from '../../../shared/errors.js';
import { actorOf } from '../context.js';
import { fieldsToText, textToFields } from './fields-editor.js';
import {
  all,
  checkbox,
  checked,
  flash,
  int,
  lines,
  optionalText,
  problemsOf,
  render,
  text,
  uiRole,
  type FormBody,
  type UiDeps,
} from './support.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

type Req = FastifyRequest;
type Rep = FastifyReply;

/** `GET,POST ^/pets/\d+$` per line → allowed_urls (methods `*` or none = any). */
function parseAllowedUrls(linesOf: string[]): { path: string; methods: string[] }[] {
  return linesOf.map((l) => {
    const match = /^([A-Za-z,*]+)\s+(\S.*)$/.exec(l);
    if (!match) return { path: l, methods: [] };
    const methods = (match[1] ?? '')
      .toUpperCase()
      .split(',')
      .filter((m) => m !== '' && m !== '*');
    return { path: (match[2] ?? '').trim(), methods };
  });
}

function allowedUrlsText(urls: { path: string; methods: string[] }[]): string {
  return urls.map((u) => `${u.methods.length > 0 ? u.methods.join(',') : '*'} ${u.path}`).join('\n');
}

export function registerConfigPages(app: FastifyInstance, deps: UiDeps): void {
  const { s } = deps;
  const read = { preHandler: uiRole('viewer') };
  const write = { preHandler: uiRole('admin') };

  // ── APIs ────────────────────────────────────────────────────────────────────────
  function apiValues(body: FormBody) {
    return {
      name: text(body, 'name'),
      listen_path: text(body, 'listen_path'),
      target_url: text(body, 'target_url'),
      strip_listen_path: checkbox(body, 'strip_listen_path'),
      auth: text(body, 'auth') || 'key',
      key_query_param: optionalText(body, 'key_query_param') ?? null,
      rate: int(body, 'rate') ?? 0,
      per: int(body, 'per') ?? 1,
      upstream_timeout_ms: int(body, 'upstream_timeout_ms') ?? 30_000,
      active: checkbox(body, 'active'),
    };
  }

  async function apiForm(
    request: Req,
    reply: Rep,
    api: ApiResponse | null,
    values: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const usage = api
      ? await s.policies
          .list({ limit: 200 })
          .then((p) => p.data.filter((pol) => pol.access_rights.some((r) => r.api_id === api.id)))
      : [];
    return render(
      deps,
      request,
      reply,
      'api-form',
      {
        title: api ? `API ${api.name}` : 'New API',
        api,
        values,
        errors: {},
        used_by: usage,
        gateway_url: deps.gatewayUrl,
        methods: METHODS,
        ...extra,
      },
      status,
    );
  }

  app.get<{ Querystring: { cursor?: string } }>('/apis', read, async (request, reply) => {
    const page = await s.apis.list({ limit: 50, cursor: request.query.cursor });
    return render(deps, request, reply, 'apis', { title: 'APIs', apis: page.data, next_cursor: page.next_cursor });
  });
  app.get('/apis/new', write, async (request, reply) =>
    apiForm(request, reply, null, {
      strip_listen_path: true,
      auth: 'key',
      rate: 0,
      per: 1,
      upstream_timeout_ms: 30_000,
      active: false,
      key_query_param: '',
    }),
  );
  app.post<{ Body: FormBody }>('/apis', write, async (request, reply) => {
    const values = apiValues(request.body);
    try {
      const created = await s.apis.create(actorOf(request), checked<ApiCreateBody>(request, ApiCreateBody, values));
      flash(reply, 'success', `API "${created.name}" created${created.active ? ' and enabled' : ' (disabled)'}.`);
      return reply.redirect(`/apis/${encodeURIComponent(created.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return apiForm(request, reply, null, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
  });
  app.get<{ Params: { id: string } }>('/apis/:id', read, async (request, reply) => {
    const api = await s.apis.get(request.params.id);
    return apiForm(request, reply, api, { ...api, key_query_param: api.key_query_param ?? '' });
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/apis/:id', write, async (request, reply) => {
    const api = await s.apis.get(request.params.id);
    const values = apiValues(request.body);
    try {
      const updated = await s.apis.update(
        actorOf(request),
        api.id,
        checked<ApiPatchBody>(request, ApiPatchBody, { ...values, version: int(request.body, 'version') }),
      );
      flash(reply, 'success', `API "${updated.name}" saved.`);
      return reply.redirect(`/apis/${encodeURIComponent(api.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p)
        return apiForm(
          request,
          reply,
          api,
          values,
          { errors: p.fields, error: p.message },
          isAppError(error) ? error.status : 400,
        );
      throw error;
    }
  });
  app.post<{ Params: { id: string } }>('/apis/:id/toggle', write, async (request, reply) => {
    const api = await s.apis.get(request.params.id);
    await s.apis.update(actorOf(request), api.id, { active: !api.active });
    flash(reply, 'success', `API "${api.name}" ${api.active ? 'disabled' : 'enabled'}.`);
    return reply.redirect(`/apis/${encodeURIComponent(api.id)}`);
  });
  app.post<{ Params: { id: string } }>('/apis/:id/delete', write, async (request, reply) => {
    const api = await s.apis.get(request.params.id);
    try {
      await s.apis.remove(actorOf(request), api.id);
    } catch (error) {
      if (isAppError(error) && error.code === 'IN_USE') {
        flash(reply, 'danger', `Not deleted: ${error.message}.`);
        return reply.redirect(`/apis/${encodeURIComponent(api.id)}`);
      }
      throw error;
    }
    flash(reply, 'success', `API "${api.name}" deleted.`);
    return reply.redirect('/apis');
  });

  // "Test call": what the gateway answers for this API, called from the server.
  app.post<{ Params: { id: string }; Body: FormBody }>('/apis/:id/test', write, async (request, reply) => {
    const api = await s.apis.get(request.params.id);
    const method = text(request.body, 'method').toUpperCase() || 'GET';
    if (!METHODS.includes(method)) throw appError('VALIDATION_FAILED', 'Unknown method');
    const sub = text(request.body, 'path').replace(/^\/+/, '');
    const key = text(request.body, 'key');
    if (!deps.gatewayUrl)
      return apiForm(
        request,
        reply,
        api,
        { ...api, key_query_param: api.key_query_param ?? '' },
        { test: { error: 'No gateway runs in this process and none is configured (GATEHOUSE_PUBLIC_GATEWAY_URL).' } },
      );
    const url = `${deps.gatewayUrl.replace(/\/+$/, '')}${api.listen_path}${sub}`;
    const started = Date.now();
    let test: Record<string, unknown>;
    try {
      const res = await fetch(url, {
        method,
        headers: key ? { 'x-api-key': key } : {},
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
      const bodyText = method === 'HEAD' ? '' : await res.text();
      const headers = [...res.headers.entries()]
        .filter(([k]) => k.startsWith('x-') || k === 'content-type' || k === 'retry-after')
        .map(([k, v]) => ({ name: k, value: v }));
      test = {
        url,
        method,
        status: res.status,
        ms: Date.now() - started,
        headers,
        body: bodyText.slice(0, 4000),
        truncated: bodyText.length > 4000,
      };
    } catch (error) {
      test = { url, method, error: `The gateway could not be reached: ${(error as Error).message}` };
    }
    return apiForm(
      request,
      reply,
      api,
      { ...api, key_query_param: api.key_query_param ?? '' },
      { test, test_values: { method, path: sub } },
    );
  });

  // ── Policies ──────────────────────────────────────────────────────────────────
  function policyValues(body: FormBody, apis: ApiResponse[]) {
    const rights = apis
      .filter((a) => checkbox(body, `access_${a.id}`))
      .map((a) => {
        const urls = parseAllowedUrls(lines(body, `urls_${a.id}`));
        return urls.length > 0 ? { api_id: a.id, allowed_urls: urls } : { api_id: a.id };
      });
    return {
      name: text(body, 'name'),
      rate: int(body, 'rate') ?? 0,
      per: int(body, 'per') ?? 60,
      quota_max: int(body, 'quota_max') ?? -1,
      quota_renewal_rate: int(body, 'quota_renewal_rate') ?? 3600,
      key_expires_in: int(body, 'key_expires_in') ?? 0,
      access_rights: rights,
      active: checkbox(body, 'active'),
      tags: text(body, 'tags')
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== ''),
    };
  }

  async function policyForm(
    request: Req,
    reply: Rep,
    policy: PolicyResponse | null,
    values: ReturnType<typeof policyValues> | PolicyResponse,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const apis = await all((o) => s.apis.list(o));
    const rights = new Map(values.access_rights.map((r) => [r.api_id, r]));
    const rows = apis.map((a) => {
      const right = rights.get(a.id);
      return {
        id: a.id,
        name: a.name,
        listen_path: a.listen_path,
        active: a.active,
        checked: right !== undefined,
        urls: allowedUrlsText(right?.allowed_urls ?? []),
      };
    });
    const usage = policy ? await s.policies.usage(policy.id) : null;
    const entries =
      usage && usage.catalogue_ids.length > 0
        ? (await all((o) => s.catalogue.list(o))).filter((e) => usage.catalogue_ids.includes(e.id))
        : [];
    return render(
      deps,
      request,
      reply,
      'policy-form',
      {
        title: policy ? `Policy ${policy.name}` : 'New policy',
        policy,
        values: { ...values, tags: values.tags.join(', ') },
        api_rows: rows,
        usage,
        entries,
        errors: {},
        ...extra,
      },
      status,
    );
  }

  app.get<{ Querystring: { cursor?: string } }>('/policies', read, async (request, reply) => {
    const page = await s.policies.list({ limit: 50, cursor: request.query.cursor });
    const apis = new Map((await all((o) => s.apis.list(o))).map((a) => [a.id, a.name]));
    const rows = page.data.map((p) => ({
      ...p,
      api_names: p.access_rights.map((r) => apis.get(r.api_id) ?? r.api_id),
    }));
    return render(deps, request, reply, 'policies', {
      title: 'Policies',
      policies: rows,
      next_cursor: page.next_cursor,
    });
  });
  app.get('/policies/new', write, async (request, reply) =>
    policyForm(request, reply, null, {
      name: '',
      rate: 100,
      per: 60,
      quota_max: -1,
      quota_renewal_rate: 86_400,
      key_expires_in: 0,
      access_rights: [],
      active: true,
      tags: [],
    }),
  );
  app.post<{ Body: FormBody }>('/policies', write, async (request, reply) => {
    const values = policyValues(request.body, await all((o) => s.apis.list(o)));
    try {
      const created = await s.policies.create(
        actorOf(request),
        checked<PolicyCreateBody>(request, PolicyCreateBody, values),
      );
      flash(reply, 'success', `Policy "${created.name}" created.`);
      return reply.redirect(`/policies/${encodeURIComponent(created.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return policyForm(request, reply, null, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
  });
  app.get<{ Params: { id: string } }>('/policies/:id', read, async (request, reply) => {
    const policy = await s.policies.get(request.params.id);
    return policyForm(request, reply, policy, policy);
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/policies/:id', write, async (request, reply) => {
    const policy = await s.policies.get(request.params.id);
    const values = policyValues(request.body, await all((o) => s.apis.list(o)));
    try {
      await s.policies.update(
        actorOf(request),
        policy.id,
        checked<PolicyPatchBody>(request, PolicyPatchBody, { ...values, version: int(request.body, 'version') }),
      );
      flash(reply, 'success', `Policy "${values.name}" saved; every key that uses it changed at once.`);
      return reply.redirect(`/policies/${encodeURIComponent(policy.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p)
        return policyForm(
          request,
          reply,
          policy,
          values,
          { errors: p.fields, error: p.message },
          isAppError(error) ? error.status : 400,
        );
      throw error;
    }
  });
  app.post<{ Params: { id: string } }>('/policies/:id/delete', write, async (request, reply) => {
    const policy = await s.policies.get(request.params.id);
    try {
      await s.policies.remove(actorOf(request), policy.id);
    } catch (error) {
      if (isAppError(error) && error.code === 'IN_USE') {
        flash(reply, 'danger', `Not deleted: ${error.message}.`);
        return reply.redirect(`/policies/${encodeURIComponent(policy.id)}`);
      }
      throw error;
    }
    flash(reply, 'success', `Policy "${policy.name}" deleted.`);
    return reply.redirect('/policies');
  });

  // ── Catalogue ──────────────────────────────────────────────────────────────────
  function entryValues(body: FormBody) {
    return {
      name: text(body, 'name'),
      short_description: text(body, 'short_description'),
      long_description: text(body, 'long_description'),
      policy_id: text(body, 'policy_id'),
      approval: text(body, 'approval') || 'manual',
      visibility: text(body, 'visibility') || 'public',
      key_request_fields_text: text(body, 'key_request_fields'),
      allow_multiple_keys: checkbox(body, 'allow_multiple_keys'),
    };
  }
  function entryBody(values: ReturnType<typeof entryValues>) {
    const { key_request_fields_text: fieldsText, ...rest } = values;
    return { ...rest, key_request_fields: textToFields(fieldsText, 'key_request_fields') };
  }

  async function entryForm(
    request: Req,
    reply: Rep,
    entry: CatalogueResponse | null,
    values: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const policies = await all((o) => s.policies.list(o));
    return render(
      deps,
      request,
      reply,
      'entry-form',
      {
        title: entry ? `Catalogue entry ${entry.name}` : 'New catalogue entry',
        entry,
        values,
        policies,
        errors: {},
        docs_enabled: deps.importDocs !== null,
        ...extra,
      },
      status,
    );
  }

  app.get<{ Querystring: { cursor?: string } }>('/catalogue', read, async (request, reply) => {
    const page = await s.catalogue.list({ limit: 50, cursor: request.query.cursor });
    const policies = new Map((await all((o) => s.policies.list(o))).map((p) => [p.id, p.name]));
    return render(deps, request, reply, 'catalogue', {
      title: 'Catalogue',
      entries: page.data.map((e) => ({ ...e, policy_name: policies.get(e.policy_id) ?? e.policy_id })),
      next_cursor: page.next_cursor,
    });
  });
  app.get('/catalogue/new', write, async (request, reply) => {
    const settings = await s.settings.get();
    return entryForm(request, reply, null, {
      approval: settings.default_approval,
      visibility: 'public',
      key_request_fields_text: fieldsToText(settings.default_key_request_fields),
      allow_multiple_keys: false,
    });
  });
  app.post<{ Body: FormBody }>('/catalogue', write, async (request, reply) => {
    const values = entryValues(request.body);
    try {
      const created = await s.catalogue.create(
        actorOf(request),
        checked<CatalogueCreateBody>(request, CatalogueCreateBody, entryBody(values)),
      );
      flash(reply, 'success', `Catalogue entry "${created.name}" created (${created.visibility}).`);
      return reply.redirect(`/catalogue/${encodeURIComponent(created.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return entryForm(request, reply, null, values, { errors: p.fields, error: p.message }, 400);
      throw error;
    }
  });
  app.get<{ Params: { id: string } }>('/catalogue/:id', read, async (request, reply) => {
    const entry = await s.catalogue.get(request.params.id);
    return entryForm(request, reply, entry, {
      ...entry,
      key_request_fields_text: fieldsToText(entry.key_request_fields),
    });
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/catalogue/:id', write, async (request, reply) => {
    const entry = await s.catalogue.get(request.params.id);
    const values = entryValues(request.body);
    try {
      await s.catalogue.update(
        actorOf(request),
        entry.id,
        checked<CataloguePatchBody>(request, CataloguePatchBody, {
          ...entryBody(values),
          version: int(request.body, 'version'),
        }),
      );
      flash(reply, 'success', `Catalogue entry "${values.name}" saved.`);
      return reply.redirect(`/catalogue/${encodeURIComponent(entry.id)}`);
    } catch (error) {
      const p = problemsOf(error);
      if (p)
        return entryForm(
          request,
          reply,
          entry,
          values,
          { errors: p.fields, error: p.message },
          isAppError(error) ? error.status : 400,
        );
      throw error;
    }
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/catalogue/:id/visibility', write, async (request, reply) => {
    const entry = await s.catalogue.get(request.params.id);
    const visibility = text(request.body, 'visibility');
    if (!['public', 'members', 'hidden'].includes(visibility))
      throw appError('VALIDATION_FAILED', 'Unknown visibility');
    await s.catalogue.update(actorOf(request), entry.id, { visibility: visibility as 'public' | 'members' | 'hidden' });
    flash(
      reply,
      'success',
      visibility === 'hidden'
        ? `"${entry.name}" unpublished (hidden from the portal).`
        : `"${entry.name}" published (${visibility}).`,
    );
    return reply.redirect(`/catalogue/${encodeURIComponent(entry.id)}`);
  });
  app.post<{ Params: { id: string } }>('/catalogue/:id/delete', write, async (request, reply) => {
    const entry = await s.catalogue.get(request.params.id);
    try {
      await s.catalogue.remove(actorOf(request), entry.id);
    } catch (error) {
      if (isAppError(error) && error.code === 'IN_USE') {
        flash(reply, 'danger', `Not deleted: ${error.message}.`);
        return reply.redirect(`/catalogue/${encodeURIComponent(entry.id)}`);
      }
      throw error;
    }
    flash(reply, 'success', `Catalogue entry "${entry.name}" deleted.`);
    return reply.redirect('/catalogue');
  });
  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/catalogue/:id/documentation',
    write,
    async (request, reply) => {
      const entry = await s.catalogue.get(request.params.id);
      const source = typeof request.body.source === 'string' ? request.body.source : '';
      const format = optionalText(request.body, 'format');
      const values = { ...entry, key_request_fields_text: fieldsToText(entry.key_request_fields) };
      if (!deps.importDocs)
        return entryForm(
          request,
          reply,
          entry,
          values,
          { docs_error: 'Documentation import is not available in this build.' },
          503,
        );
      if (source.trim() === '')
        return entryForm(
          request,
          reply,
          entry,
          values,
          { docs_error: 'Paste the specification or choose a file first.' },
          400,
        );
      const result = await deps.importDocs.upload(
        { type: 'admin', id: request.admin!.id },
        entry.id,
        source,
        format === 'auto' ? undefined : format,
      );
      if (result.problems.length > 0)
        return entryForm(
          request,
          reply,
          entry,
          values,
          { docs_error: 'The documentation was not imported.', docs_problems: result.problems },
          422,
        );
      flash(reply, 'success', `Documentation uploaded${result.summary ? `: ${result.summary}` : ''}.`);
      return reply.redirect(`/catalogue/${encodeURIComponent(entry.id)}`);
    },
  );

  // Markdown preview, rendered and sanitised exactly as the portal will show it.
  app.post<{ Body: FormBody }>('/preview/markdown', read, async (request, reply) => {
    const source = typeof request.body.markdown === 'string' ? request.body.markdown : '';
    return reply.type('text/html; charset=utf-8').send(renderMarkdown(source.slice(0, 200_000)));
  });
}
