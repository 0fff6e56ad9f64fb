import { Type } from '@sinclair/typebox';
import type { LoginThrottle } from '../../../modules/login-throttle/index.js';
import { loginThrottleHooks } from '../login-throttle.js';
import type { FastifyInstance } from 'fastify';
import { AdminCreateBody, AdminResponse, AdminTokenCreateBody } from '../../../modules/admins/index.js';
import { ApiCreateBody, ApiPatchBody, ApiResponse } from '../../../modules/apis/index.js';
import { listAudit, presentAudit, recordAudit } from '../../../modules/audit/index.js';
import { CatalogueCreateBody, CataloguePatchBody, CatalogueResponse } from '../../../modules/catalogue/index.js';
import { SettingsPatchBody, SettingsResponse, type PortalSettings } from '../../../modules/content/index.js';
import { DeveloperAdminPatchBody, DeveloperResponse } from '../../../modules/developers/index.js';
import { KeyRequestResponse, RejectBody } from '../../../modules/key-requests/index.js';
import { KeyIssueBody, KeyPatchBody, KeyResponse } from '../../../modules/keys/index.js';
import { PolicyCreateBody, PolicyPatchBody, PolicyResponse } from '../../../modules/policies/index.js';
import { appError } from '../../../shared/errors.js';
import { actorOf, bearerToken, requireRole, type AdminServices } from '../context.js';
import { ERRORS, IdParams, ListOf, PageQuery } from '../schemas.js';
import { registerCrud } from './crud.js';

const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const TokenResponse = Type.Object({ token: Type.String(), expires_at: Type.Union([Type.String(), Type.Null()]) });

export function registerAdminRoutes(app: FastifyInstance, s: AdminServices, throttle: LoginThrottle): void {
  const read = requireRole('viewer');
  const write = requireRole('admin');
  const owner = requireRole('owner');

  // --- auth ---------------------------------------------------------------
  app.post<{ Body: { email: string; password: string } }>(
    '/auth/tokens',
    {
      ...loginThrottleHooks(throttle),
      schema: { tags: ['auth'], security: [], body: LoginBody, response: { 201: TokenResponse, ...ERRORS } },
    },
    async (request, reply) => {
      const admin = await s.admins.authenticate(request.body.email, request.body.password);
      const ttl = s.admins.sessionTtlMs();
      const { token } = await s.admins.createToken(admin.id, 'session', 'login', ttl);
      return reply.status(201).send({ token, expires_at: new Date(s.ctx.clock.now() + ttl).toISOString() });
    },
  );
  app.get('/me', { onRequest: read, schema: { tags: ['auth'] } }, async (request) => request.admin);

  // Personal API tokens for scripts.
  app.post<{ Body: { name: string; expires_in_days?: number } }>(
    '/tokens',
    {
      onRequest: read,
      schema: {
        tags: ['auth'],
        body: AdminTokenCreateBody,
        response: { 201: Type.Object({ id: Type.String(), token: Type.String(), prefix: Type.String() }), ...ERRORS },
      },
    },
    async (request, reply) => {
      const days = request.body.expires_in_days;
      const created = await s.admins.createToken(
        request.admin!.id,
        'api',
        request.body.name,
        days ? days * 86_400_000 : null,
      );
      return reply.status(201).send(created);
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/tokens/:id',
    { onRequest: read, schema: { tags: ['auth'], params: IdParams } },
    async (request, reply) => {
      await s.admins.revokeToken(request.admin!.id, request.params.id);
      return reply.status(204).send();
    },
  );
  app.delete('/auth/tokens/current', { onRequest: read, schema: { tags: ['auth'] } }, async (request, reply) => {
    const token = bearerToken(request);
    if (token) await s.admins.revokeTokenValue(token);
    return reply.status(204).send();
  });

  // --- admin users (owner only) --------------------------------------------
  app.get(
    '/admins',
    {
      onRequest: owner,
      schema: { tags: ['admins'], response: { 200: Type.Object({ data: Type.Array(AdminResponse) }), ...ERRORS } },
    },
    async () => ({ data: await s.admins.list() }),
  );
  app.post<{ Body: AdminCreateBody }>(
    '/admins',
    {
      onRequest: owner,
      schema: { tags: ['admins'], body: AdminCreateBody, response: { 201: AdminResponse, ...ERRORS } },
    },
    async (request, reply) => reply.status(201).send(await s.admins.create(actorOf(request), request.body)),
  );

  // --- configuration objects -------------------------------------------------
  registerCrud(app, {
    path: '/apis',
    tag: 'apis',
    createBody: ApiCreateBody,
    patchBody: ApiPatchBody,
    response: ApiResponse,
    service: s.apis,
  });
  registerCrud(app, {
    path: '/policies',
    tag: 'policies',
    createBody: PolicyCreateBody,
    patchBody: PolicyPatchBody,
    response: PolicyResponse,
    service: s.policies,
  });
  registerCrud(app, {
    path: '/catalogue',
    tag: 'catalogue',
    createBody: CatalogueCreateBody,
    patchBody: CataloguePatchBody,
    response: CatalogueResponse,
    service: s.catalogue,
  });
  app.get<{ Params: { id: string } }>(
    '/policies/:id/usage',
    { onRequest: read, schema: { tags: ['policies'], params: IdParams } },
    async (request) => s.policies.usage(request.params.id),
  );

  // --- developers -------------------------------------------------------------
  const DeveloperQuery = Type.Object({
    ...PageQuery.properties,
    status: Type.Optional(Type.String({ maxLength: 20 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
  });
  app.get<{ Querystring: { limit: number; cursor?: string; status?: string; email?: string } }>(
    '/developers',
    {
      onRequest: read,
      schema: {
        tags: ['developers'],
        querystring: DeveloperQuery,
        response: { 200: ListOf(DeveloperResponse), ...ERRORS },
      },
    },
    async (request) => s.developers.list(request.query),
  );
  app.get<{ Params: { id: string } }>(
    '/developers/:id',
    {
      onRequest: read,
      schema: { tags: ['developers'], params: IdParams, response: { 200: DeveloperResponse, ...ERRORS } },
    },
    async (request) => s.developers.get(request.params.id),
  );
  app.patch<{ Params: { id: string }; Body: DeveloperAdminPatchBody }>(
    '/developers/:id',
    {
      onRequest: write,
      schema: {
        tags: ['developers'],
        params: IdParams,
        body: DeveloperAdminPatchBody,
        response: { 200: DeveloperResponse, ...ERRORS },
      },
    },
    async (request) => s.developers.adminUpdate(actorOf(request), request.params.id, request.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/developers/:id',
    { onRequest: write, schema: { tags: ['developers'], params: IdParams, response: ERRORS } },
    async (request, reply) => {
      await s.developers.remove(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    '/developers/:id/keys',
    {
      onRequest: read,
      schema: {
        tags: ['developers'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: ListOf(KeyResponse), ...ERRORS },
      },
    },
    async (request) => {
      await s.developers.get(request.params.id);
      return s.keys.list({ developerId: request.params.id, ...request.query });
    },
  );

  // --- key requests -------------------------------------------------------------
  const RequestQuery = Type.Object({
    ...PageQuery.properties,
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('rejected')])),
    developer_id: Type.Optional(Type.String()),
  });
  app.get<{ Querystring: { limit: number; cursor?: string; status?: string; developer_id?: string } }>(
    '/key-requests',
    {
      onRequest: read,
      schema: {
        tags: ['key-requests'],
        querystring: RequestQuery,
        response: { 200: ListOf(KeyRequestResponse), ...ERRORS },
      },
    },
    async (request) => s.keyRequests.list({ ...request.query, developerId: request.query.developer_id }),
  );
  app.get<{ Params: { id: string } }>(
    '/key-requests/:id',
    {
      onRequest: read,
      schema: { tags: ['key-requests'], params: IdParams, response: { 200: KeyRequestResponse, ...ERRORS } },
    },
    async (request) => s.keyRequests.get(request.params.id),
  );
  app.post<{ Params: { id: string } }>(
    '/key-requests/:id/approve',
    {
      onRequest: write,
      schema: { tags: ['key-requests'], params: IdParams, response: { 200: KeyRequestResponse, ...ERRORS } },
    },
    async (request) => s.keyRequests.approve(actorOf(request), request.params.id),
  );
  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/key-requests/:id/reject',
    {
      onRequest: write,
      schema: {
        tags: ['key-requests'],
        params: IdParams,
        body: RejectBody,
        response: { 200: KeyRequestResponse, ...ERRORS },
      },
    },
    async (request) => s.keyRequests.reject(actorOf(request), request.params.id, request.body.reason),
  );

  // --- keys ----------------------------------------------------------------------
  const KeyQuery = Type.Object({
    ...PageQuery.properties,
    developer_id: Type.Optional(Type.String()),
    policy_id: Type.Optional(Type.String()),
    prefix: Type.Optional(Type.String({ maxLength: 20 })),
    status: Type.Optional(Type.String({ maxLength: 20 })),
  });
  app.get<{
    Querystring: {
      limit: number;
      cursor?: string;
      developer_id?: string;
      policy_id?: string;
      prefix?: string;
      status?: string;
    };
  }>(
    '/keys',
    {
      onRequest: read,
      schema: { tags: ['keys'], querystring: KeyQuery, response: { 200: ListOf(KeyResponse), ...ERRORS } },
    },
    async (request) => {
      const { developer_id: developerId, policy_id: policyId, ...rest } = request.query;
      return s.keys.list({ ...rest, developerId, policyId });
    },
  );
  app.post<{ Body: KeyIssueBody }>(
    '/keys',
    { onRequest: write, schema: { tags: ['keys'], body: KeyIssueBody, response: { 201: KeyResponse, ...ERRORS } } },
    async (request, reply) => reply.status(201).send(await s.keys.issue(actorOf(request), request.body)),
  );
  app.get<{ Params: { id: string } }>(
    '/keys/:id',
    { onRequest: read, schema: { tags: ['keys'], params: IdParams, response: { 200: KeyResponse, ...ERRORS } } },
    async (request) => s.keys.get(request.params.id),
  );
  app.patch<{ Params: { id: string }; Body: KeyPatchBody }>(
    '/keys/:id',
    {
      onRequest: write,
      schema: { tags: ['keys'], params: IdParams, body: KeyPatchBody, response: { 200: KeyResponse, ...ERRORS } },
    },
    async (request) => s.keys.update(actorOf(request), request.params.id, request.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/keys/:id',
    { onRequest: write, schema: { tags: ['keys'], params: IdParams, response: { 200: KeyResponse, ...ERRORS } } },
    async (request) => s.keys.revoke(actorOf(request), request.params.id),
  );
  app.get<{ Params: { id: string } }>(
    '/keys/:id/limits',
    { onRequest: read, schema: { tags: ['keys'], params: IdParams } },
    async (request) => {
      await s.keys.load(request.params.id);
      return s.keyLimits.state(request.params.id);
    },
  );
  app.post<{ Params: { id: string } }>(
    '/keys/:id/reset-quota',
    { onRequest: write, schema: { tags: ['keys'], params: IdParams } },
    async (request) => {
      await s.keys.load(request.params.id);
      await s.keyLimits.resetQuota(request.params.id);
      await recordAudit(
        s.ctx.db,
        actorOf(request),
        { action: 'key.quota_reset', objectType: 'key', objectId: request.params.id },
        s.ctx.clock.now(),
      );
      return s.keyLimits.state(request.params.id);
    },
  );

  // --- settings and audit ----------------------------------------------------------------
  app.get(
    '/settings',
    { onRequest: read, schema: { tags: ['settings'], response: { 200: SettingsResponse, ...ERRORS } } },
    async () => s.settings.get(),
  );
  app.patch<{ Body: Partial<PortalSettings> }>(
    '/settings',
    {
      onRequest: write,
      schema: { tags: ['settings'], body: SettingsPatchBody, response: { 200: SettingsResponse, ...ERRORS } },
    },
    async (request) => s.settings.update(actorOf(request), request.body),
  );

  const AuditQuery = Type.Object({
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
    object_type: Type.Optional(Type.String({ maxLength: 50 })),
    object_id: Type.Optional(Type.String({ maxLength: 100 })),
    actor_id: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
  });
  app.get<{
    Querystring: {
      limit: number;
      cursor?: string;
      object_type?: string;
      object_id?: string;
      actor_id?: string;
      action?: string;
    };
  }>('/audit-events', { onRequest: read, schema: { tags: ['audit'], querystring: AuditQuery } }, async (request) => {
    const q = request.query;
    const rows = await listAudit(s.ctx.db, {
      limit: q.limit,
      before: q.cursor,
      objectType: q.object_type,
      objectId: q.object_id,
      actorId: q.actor_id,
      action: q.action,
    });
    const more = rows.length > q.limit;
    const kept = more ? rows.slice(0, q.limit) : rows;
    return { data: kept.map(presentAudit), next_cursor: more ? (kept[kept.length - 1]?.id ?? null) : null };
  });

  // Nothing in the product may edit or delete audit events.
  app.route({
    method: ['PUT', 'PATCH', 'DELETE', 'POST'],
    url: '/audit-events',
    onRequest: read,
    handler: () => {
      throw appError('METHOD_NOT_ALLOWED', 'Audit events cannot be changed');
    },
  });
}
