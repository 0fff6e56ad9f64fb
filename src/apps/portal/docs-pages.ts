import { createHash } from 'node:crypto';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CatalogueService, DeveloperCatalogueView } from '../../modules/catalogue/index.js';
import type { Developer, DevelopersService } from '../../modules/developers/index.js';
import {
  GATEWAY_KEY_HEADER,
  GATEWAY_KEY_SCHEME,
  type DocsService,
  type PortalDocumentation,
} from '../../modules/docs/index.js';
import type { KeyResponse, KeysService } from '../../modules/keys/index.js';
import { errorBody, PROJECT_ROOT, readSessionCookie, type WebOptions } from '../../platform/http/index.js';
import { appError, isAppError } from '../../shared/errors.js';
import type { PortalViews } from './pages/view.js';

/**
 * API documentation in the portal (issue 5): `/catalogue/:slug/docs` renders the
 * entry's documentation — OpenAPI through Swagger UI served from node_modules, with
 * every operation pointed at the gateway, or a sanitised Markdown page — and the
 * developer JSON API gets `GET /api/v1/catalogue/{id}/documentation`.
 *
 * Keys in the try-it console: the portal stores no secret (only a SHA-256), so it
 * cannot fill one in by itself. The signed-in developer picks one of their keys for
 * this entry; the page pre-authorises the console with that key's secret when this
 * browser tab already holds it (sessionStorage `gatehouse.key.<key id>`, written when a
 * secret is pasted here or rolled here), otherwise offers to paste it (checked
 * against the key's prefix and last 4 characters in the browser) or to roll the key
 * and use the new secret at once. The secret never goes back to the server.
 *
 * Call with the portal's HTML scope (where `request.developer` comes from the session
 * cookie); the routes also resolve the developer themselves, so they work anywhere.
 */
export interface DocsPagesDeps {
  services: { catalogue: CatalogueService; developers: DevelopersService; keys: KeysService; docs: DocsService };
  views: PortalViews;
  web: WebOptions;
}

const SWAGGER_UI_DIR = join(PROJECT_ROOT, 'node_modules', 'swagger-ui-dist');
/** Only the renderer itself: not the demo index.html that points at a public pet store. */
const SWAGGER_UI_FILES = new Set([
  'swagger-ui-bundle.js',
  'swagger-ui-bundle.js.map',
  'swagger-ui.css',
  'swagger-ui.css.map',
  'favicon-32x32.png',
  'favicon-16x16.png',
]);

function serversOf(entry: DeveloperCatalogueView) {
  return entry.apis.map((api) => ({
    url: api.gateway_url.replace(/\/+$/, ''),
    description: `${api.name} through the gateway`,
  }));
}

function etagOf(doc: PortalDocumentation, servers: { url: string }[]): string {
  const digest = createHash('sha256')
    .update(`${doc.contentHash}|${servers.map((s) => s.url).join(' ')}`)
    .digest('base64url')
    .slice(0, 27);
  return `"${digest}"`;
}

function keyView(key: KeyResponse) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    last4: key.last4,
    has_secret: key.has_secret,
    expires_at: key.expires_at,
    label: key.has_secret ? `${key.name} (${key.prefix}…${key.last4})` : `${key.name} (not revealed yet)`,
  };
}

export async function registerDocsPages(app: FastifyInstance, deps: DocsPagesDeps): Promise<void> {
  const { services, views, web } = deps;

  async function developerOf(request: FastifyRequest): Promise<Developer | null> {
    if (request.developer) return request.developer;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const token = bearer ?? readSessionCookie(request, web);
    return token ? services.developers.fromToken(token) : null;
  }

  async function activeKeys(developer: Developer, entryId: string): Promise<KeyResponse[]> {
    const page = await services.keys.list({ developerId: developer.id, limit: 200 });
    return page.data.filter((k) => k.catalogue_id === entryId && k.status === 'active');
  }

  await app.register(fastifyStatic, {
    root: SWAGGER_UI_DIR,
    prefix: '/assets/vendor/swagger-ui/',
    decorateReply: false,
    maxAge: 86_400_000,
    allowedPath: (path) => SWAGGER_UI_FILES.has(path.replace(/^\/+/, '')),
  });

  async function renderError(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
    if (isAppError(error) && error.status < 500) {
      const title = error.status === 404 ? 'Page not found' : 'Something is not right';
      return views.render(
        request,
        reply,
        'error',
        { title, status: error.status, message: error.message },
        error.status,
      );
    }
    throw error;
  }

  app.get<{ Params: { slug: string } }>('/catalogue/:slug/docs', async (request, reply) => {
    try {
      const developer = await developerOf(request);
      request.developer ??= developer;
      const entry = await services.catalogue.getVisible(request.params.slug, developer !== null);
      const servers = serversOf(entry);
      const doc = await services.docs.forPortal(entry.id, servers);
      if (!doc) throw appError('NOT_FOUND', `${entry.name} has no documentation yet`);
      const slug = encodeURIComponent(entry.slug);
      const common = {
        title: `${entry.name} documentation`,
        entry: { id: entry.id, name: entry.name, slug: entry.slug, url: `/catalogue/${slug}` },
        docs: { format: doc.format, uploaded_at: new Date(doc.uploadedAt).toISOString(), kind: doc.kind },
      };
      if (doc.kind === 'markdown')
        return await views.render(request, reply, 'docs-markdown', { ...common, html: doc.html });
      const keys = developer ? (await activeKeys(developer, entry.id)).map(keyView) : [];
      return await views.render(request, reply, 'docs', {
        ...common,
        spec_url: `/catalogue/${slug}/docs/openapi.json`,
        roll_url: `/catalogue/${slug}/docs/keys/{id}/roll`,
        scheme: GATEWAY_KEY_SCHEME,
        key_header: GATEWAY_KEY_HEADER,
        gateway_urls: servers.map((s) => s.url),
        signed_in: developer !== null,
        keys,
        request_url: `/catalogue/${slug}/request`,
        login_url: `/login?next=${encodeURIComponent(`/catalogue/${entry.slug}/docs`)}`,
        signup_url: '/signup',
      });
    } catch (error) {
      return renderError(request, reply, error);
    }
  });

  // JSON answers (the console's document, roll-and-use, the developer API), with JSON errors
  // whatever scope this is registered in.
  await app.register(async (api) => {
    api.setErrorHandler((error: FastifyError, request, reply) => {
      if (isAppError(error))
        return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
      if (typeof error.statusCode === 'number' && error.statusCode < 500)
        return reply.status(error.statusCode).send(errorBody('VALIDATION_FAILED', error.message));
      request.log.error({ err: error }, 'documentation request failed');
      return reply.status(500).send(errorBody('INTERNAL', 'Internal error'));
    });
    // The document Swagger UI loads: same origin, same visibility rules as the page.
    api.get<{ Params: { slug: string } }>('/catalogue/:slug/docs/openapi.json', async (request, reply) => {
      const developer = await developerOf(request);
      const entry = await services.catalogue.getVisible(request.params.slug, developer !== null);
      const servers = serversOf(entry);
      const doc = await services.docs.forPortal(entry.id, servers);
      if (!doc || doc.kind !== 'openapi') throw appError('NOT_FOUND', `${entry.name} has no OpenAPI documentation`);
      const etag = etagOf(doc, servers);
      void reply
        .header('etag', etag)
        .header('cache-control', 'private, no-cache')
        .header('x-content-type-options', 'nosniff');
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.type('application/json; charset=utf-8').send(doc.json);
    });

    // "Roll and use here": a new secret for one of the developer's keys of this entry,
    // returned to the page's script only (CSRF-checked like every portal form).
    api.post<{ Params: { slug: string; keyId: string } }>(
      '/catalogue/:slug/docs/keys/:keyId/roll',
      async (request, reply) => {
        const developer = await developerOf(request);
        if (!developer) throw appError('UNAUTHENTICATED', 'Sign in to use your keys');
        const entry = await services.catalogue.getVisible(request.params.slug, true);
        const key = (await activeKeys(developer, entry.id)).find((k) => k.id === request.params.keyId);
        if (!key) throw appError('NOT_FOUND', 'You have no active key with this id for this API');
        const rolled = await services.keys.roll({ type: 'developer', id: developer.id }, key.id, developer.id);
        return reply
          .header('cache-control', 'no-store')
          .send({ key_id: rolled.id, prefix: rolled.prefix, last4: rolled.last4, secret: rolled.secret });
      },
    );

    // Developer JSON API: the documentation of a visible entry, servers pointing at the gateway.
    api.get<{ Params: { id: string } }>('/api/v1/catalogue/:id/documentation', async (request, reply) => {
      const developer = await developerOf(request);
      const entry = await services.catalogue.getVisible(request.params.id, developer !== null);
      const doc = await services.docs.forPortal(entry.id, serversOf(entry));
      if (!doc) throw appError('NOT_FOUND', `${entry.name} has no documentation`);
      const base = {
        catalogue_id: entry.id,
        format: doc.format,
        uploaded_at: new Date(doc.uploadedAt).toISOString(),
        content_hash: doc.contentHash,
      };
      if (doc.kind === 'markdown') return { ...base, openapi: null, html: doc.html };
      // The cached serialisation is spliced in rather than parsed and serialised again.
      return reply
        .type('application/json; charset=utf-8')
        .send(`${JSON.stringify(base).slice(0, -1)},"openapi":${doc.json},"html":null}`);
    });
  });
}
