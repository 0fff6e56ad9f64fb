import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeveloperCatalogueView } from '../../../modules/catalogue/index.js';
import { renderMarkdown } from '../../../modules/content/index.js';
import type { KeyResponse } from '../../../modules/keys/index.js';
import { isAppError } from '../../../shared/errors.js';
import { requireDeveloper, type PortalPageDeps } from './deps.js';
import { fieldErrors, fieldViews, formBody, isFormError, prefixed } from './forms.js';

/** Quotes a value for a POSIX shell command line. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The curl command a developer can paste to call the API with a new key. */
export function curlCommand(secret: string, url: string): string {
  return `curl -H ${shellQuote(`Authorization: Bearer ${secret}`)} ${shellQuote(url)}`;
}

/** Entry card/page view: the developer view plus plain-words policy levels. */
export function entryView(entry: DeveloperCatalogueView) {
  const levels: string[] = [];
  if (entry.policy) {
    levels.push(entry.policy.rate > 0 ? entry.policy.rate_text : 'no rate limit');
    levels.push(entry.policy.quota_max > 0 ? entry.policy.quota_text : 'no quota');
  }
  return { ...entry, levels_text: levels.join(', '), url: `/catalogue/${encodeURIComponent(entry.slug)}` };
}

/** The entry's documentation page; with `consoleOnly`, only when it has a try-it console (Markdown has none). */
export function docsUrl(
  entry: Pick<DeveloperCatalogueView, 'slug' | 'documentation'>,
  options: { consoleOnly?: boolean } = {},
): string | null {
  if (entry.documentation === null) return null;
  if (options.consoleOnly && entry.documentation.format === 'markdown') return null;
  return `/catalogue/${encodeURIComponent(entry.slug)}/docs`;
}

/** What a page showing a freshly created secret needs: the secret once, and a ready curl command. */
export function secretView(
  key: KeyResponse,
  secret: string,
  entry: Pick<DeveloperCatalogueView, 'name' | 'slug' | 'apis' | 'documentation'> | null,
  gatewayUrl: string,
) {
  const target = entry?.apis[0]?.gateway_url ?? `${gatewayUrl.replace(/\/+$/, '')}/`;
  return {
    key: { id: key.id, name: key.name, prefix: key.prefix, last4: key.last4, expires_at: key.expires_at },
    secret,
    entry_name: entry?.name ?? null,
    apis: entry?.apis ?? [],
    curl: curlCommand(secret, target),
    // The page keeps the secret in the tab, so the docs console there is authorised with it.
    docs_url: entry ? docsUrl(entry, { consoleOnly: true }) : null,
  };
}

/** API catalogue, entry pages and the key request form (issue 4 §3–4). */
export function registerCataloguePages(
  app: FastifyInstance,
  deps: PortalPageDeps & { publicGatewayUrl: string },
): void {
  const { views, services } = deps;

  app.get<{ Querystring: { q?: string; tag?: string } }>('/catalogue', async (request, reply) => {
    const q = typeof request.query.q === 'string' ? request.query.q.slice(0, 100) : '';
    const tag = typeof request.query.tag === 'string' ? request.query.tag.slice(0, 50) : '';
    const page = await services.catalogue.listVisible(request.developer !== null, {
      limit: 100,
      ...(q ? { q } : {}),
      ...(tag ? { tag } : {}),
    });
    const tags = [...new Set(page.data.flatMap((e) => e.tags))].sort();
    return views.render(request, reply, 'catalogue', {
      title: 'API catalogue',
      q,
      tag,
      tags,
      entries: page.data.map(entryView),
    });
  });

  async function loadEntry(request: FastifyRequest<{ Params: { slug: string } }>): Promise<DeveloperCatalogueView> {
    return services.catalogue.getVisible(request.params.slug, request.developer !== null);
  }

  app.get<{ Params: { slug: string } }>('/catalogue/:slug', async (request, reply) => {
    const entry = await loadEntry(request);
    let mine: { status: string; key_name: string; key_id: string | null }[] = [];
    if (request.developer) {
      const requests = await services.keyRequests.list({ developerId: request.developer.id, limit: 200 });
      mine = requests.data
        .filter((r) => r.catalogue_id === entry.id && r.status !== 'rejected')
        .map((r) => ({ status: r.status, key_name: r.key_name, key_id: r.key_id }));
    }
    return views.render(request, reply, 'entry', {
      title: entry.name,
      entry: entryView(entry),
      docs_url: docsUrl(entry),
      description_html: renderMarkdown(entry.long_description || entry.short_description),
      my_requests: mine,
      can_request: mine.length === 0 || entry.allow_multiple_keys,
    });
  });

  async function requestPage(
    request: FastifyRequest<{ Params: { slug: string } }>,
    reply: FastifyReply,
    entry: DeveloperCatalogueView,
    values: { key_name?: string; fields?: Record<string, unknown> },
    errors: Record<string, string> = {},
    status = 200,
  ) {
    return views.render(
      request,
      reply,
      'request-key',
      {
        title: `Request access to ${entry.name}`,
        entry: entryView(entry),
        key_name: values.key_name ?? 'default',
        key_name_error: errors.key_name ?? null,
        form_error: errors._form ?? null,
        existing_url: errors._existing ? '/keys' : null,
        fields: fieldViews(entry.key_request_fields, values.fields ?? {}, errors, 'fields.'),
      },
      status,
    );
  }

  app.get<{ Params: { slug: string } }>(
    '/catalogue/:slug/request',
    { preHandler: requireDeveloper },
    async (request, reply) => requestPage(request, reply, await loadEntry(request), {}),
  );

  app.post<{ Params: { slug: string } }>(
    '/catalogue/:slug/request',
    { preHandler: requireDeveloper },
    async (request, reply) => {
      const entry = await loadEntry(request);
      const form = formBody(request.body);
      const keyName = (form.key_name ?? '').trim() || 'default';
      const fields = prefixed(form, 'fields.');
      if (keyName.length > 100)
        return requestPage(
          request,
          reply,
          entry,
          { key_name: keyName, fields },
          { key_name: 'Use at most 100 characters' },
          400,
        );
      let created;
      try {
        created = await services.keyRequests.create(request.developer!, {
          catalogue_id: entry.id,
          key_name: keyName,
          fields,
        });
      } catch (error) {
        if (isAppError(error) && error.code === 'KEY_LIMIT_REACHED') {
          return requestPage(
            request,
            reply,
            entry,
            { key_name: keyName, fields },
            { _form: error.message, _existing: 'yes' },
            409,
          );
        }
        if (isFormError(error))
          return requestPage(
            request,
            reply,
            entry,
            { key_name: keyName, fields },
            { _form: error.message, ...fieldErrors(error) },
            error.status,
          );
        throw error;
      }
      if (created.key?.secret) {
        return views.render(request, reply, 'key-secret', {
          title: 'Your new key',
          ...secretView(created.key, created.key.secret, entry, deps.publicGatewayUrl),
          first_time: true,
        });
      }
      return views.render(request, reply, 'message', {
        title: 'Request sent',
        message: `Your request for ${entry.name} is pending approval. We will email you when it is decided; the key will then be under My keys.`,
        kind: 'info',
        link: { url: '/keys', label: 'Go to My keys' },
      });
    },
  );
}
