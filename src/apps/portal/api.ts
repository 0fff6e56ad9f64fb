import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CatalogueService } from '../../modules/catalogue/index.js';
import type { ModuleContext } from '../../modules/context.js';
import {
  DeveloperProfilePatchBody,
  DeveloperRegisterBody,
  DeveloperResponse,
  LoginBody,
  type Developer,
  type DevelopersService,
} from '../../modules/developers/index.js';
import { KeyRequestCreateBody, KeyRequestResponse, type KeyRequestsService } from '../../modules/key-requests/index.js';
import { KeyResponse, presentKey, type KeysService } from '../../modules/keys/index.js';
import { AppError, appError } from '../../shared/errors.js';

/** Usage figures for the developer dashboard (analytics + live counters). */
export interface DeveloperUsage {
  usage(
    developerId: string,
    query: { key_id?: string; from?: string; to?: string; resolution?: string },
  ): Promise<unknown>;
}

export interface PortalServices {
  ctx: ModuleContext;
  developers: DevelopersService;
  catalogue: CatalogueService;
  keyRequests: KeyRequestsService;
  keys: KeysService;
  usage: DeveloperUsage;
}

declare module 'fastify' {
  interface FastifyRequest {
    developer: Developer | null;
  }
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 100 })),
});

function bearer(request: FastifyRequest): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

/**
 * Route `onRequest` hook: a signed-in developer, checked before the body or query is
 * read and validated, so an anonymous caller gets 401 rather than a 400 about fields.
 */
async function signedIn(request: FastifyRequest): Promise<void> {
  me(request);
}

function me(request: FastifyRequest): Developer {
  if (!request.developer) throw appError('UNAUTHENTICATED', 'Send Authorization: Bearer <developer token>');
  return request.developer;
}

/** Failed log-in counting shared with the HTML portal (pages/throttle.ts), so neither surface bypasses it. */
export interface LoginGuard {
  retryAfter(email: string, ip: string): Promise<number>;
  failed(email: string, ip: string): Promise<void>;
  succeeded(email: string): Promise<void>;
}

/** The headless portal: everything the HTML portal does, as JSON (DESIGN §4). */
export function registerDeveloperApi(app: FastifyInstance, s: PortalServices, guard?: LoginGuard): void {
  app.addHook('onRequest', async (request) => {
    const token = bearer(request);
    request.developer = token ? await s.developers.fromToken(token) : null;
  });

  app.post<{ Body: DeveloperRegisterBody }>(
    '/developers',
    { schema: { body: DeveloperRegisterBody, response: { 201: DeveloperResponse } } },
    async (request, reply) => reply.status(201).send(await s.developers.register(request.body)),
  );

  app.post<{ Body: { email: string; password: string } }>(
    '/auth/tokens',
    { schema: { body: LoginBody } },
    async (request, reply) => {
      const { email, password } = request.body;
      const wait = guard ? await guard.retryAfter(email, request.ip) : 0;
      if (wait > 0) {
        void reply.header('retry-after', String(wait));
        throw appError('TOO_MANY_REQUESTS', `Too many failed log-ins; try again in ${Math.ceil(wait / 60)} minute(s)`, {
          retry_after: wait,
        });
      }
      let developer: Developer;
      try {
        developer = await s.developers.authenticate(email, password);
      } catch (error) {
        if (guard && error instanceof AppError && error.code === 'INVALID_CREDENTIALS')
          await guard.failed(email, request.ip);
        throw error;
      }
      await guard?.succeeded(email);
      return reply.status(201).send({ token: await s.developers.createToken(developer.id, 'api') });
    },
  );
  app.delete('/auth/tokens/current', async (request, reply) => {
    me(request);
    const token = bearer(request);
    if (token) await s.developers.revokeToken(token);
    return reply.status(204).send();
  });

  app.get('/me', { onRequest: signedIn, schema: { response: { 200: DeveloperResponse } } }, async (request) =>
    s.developers.get(me(request).id),
  );
  app.patch<{ Body: DeveloperProfilePatchBody }>(
    '/me',
    { onRequest: signedIn, schema: { body: DeveloperProfilePatchBody, response: { 200: DeveloperResponse } } },
    async (request) => s.developers.updateProfile(me(request).id, request.body),
  );

  const CatalogueQuery = Type.Object({
    ...PageQuery.properties,
    q: Type.Optional(Type.String({ maxLength: 100 })),
    tag: Type.Optional(Type.String({ maxLength: 50 })),
  });
  app.get<{ Querystring: { limit: number; cursor?: string; q?: string; tag?: string } }>(
    '/catalogue',
    { schema: { querystring: CatalogueQuery } },
    async (request) => s.catalogue.listVisible(request.developer !== null, request.query),
  );
  app.get<{ Params: { id: string } }>('/catalogue/:id', { schema: { params: IdParams } }, async (request) =>
    s.catalogue.getVisible(request.params.id, request.developer !== null),
  );

  app.post<{ Body: KeyRequestCreateBody }>(
    '/key-requests',
    { onRequest: signedIn, schema: { body: KeyRequestCreateBody, response: { 201: KeyRequestResponse } } },
    async (request, reply) => reply.status(201).send(await s.keyRequests.create(me(request), request.body)),
  );
  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/key-requests',
    { onRequest: signedIn, schema: { querystring: PageQuery } },
    async (request) => s.keyRequests.list({ ...request.query, developerId: me(request).id }),
  );

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/keys',
    { onRequest: signedIn, schema: { querystring: PageQuery } },
    async (request) => s.keys.list({ ...request.query, developerId: me(request).id }),
  );
  app.get<{ Params: { id: string } }>(
    '/keys/:id',
    { onRequest: signedIn, schema: { params: IdParams, response: { 200: KeyResponse } } },
    async (request) => {
      return presentKey(await s.keys.loadOwned(me(request).id, request.params.id));
    },
  );
  app.post<{ Params: { id: string } }>(
    '/keys/:id/roll',
    { onRequest: signedIn, schema: { params: IdParams, response: { 200: KeyResponse } } },
    async (request) => {
      const developer = me(request);
      return s.keys.roll({ type: 'developer', id: developer.id }, request.params.id, developer.id);
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/keys/:id',
    { onRequest: signedIn, schema: { params: IdParams, response: { 200: KeyResponse } } },
    async (request) => {
      const developer = me(request);
      return s.keys.revoke({ type: 'developer', id: developer.id }, request.params.id, developer.id);
    },
  );

  const UsageQuery = Type.Object({
    key_id: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    resolution: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')])),
  });
  app.get<{ Querystring: { key_id?: string; from?: string; to?: string; resolution?: string } }>(
    '/usage',
    { onRequest: signedIn, schema: { querystring: UsageQuery } },
    async (request) => s.usage.usage(me(request).id, request.query),
  );
}
