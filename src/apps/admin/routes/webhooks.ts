import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  DeliveryResponse,
  WebhookCreateBody,
  WebhookPatchBody,
  WebhookResponse,
} from '../../../modules/webhooks/index.js';
import { analyticsCsv } from '../analytics-csv.js';
import { actorOf, requireRole, type AdminServices } from '../context.js';
import { ERRORS, IdParams, ListOf, PageQuery } from '../schemas.js';

/**
 * Webhook subscriptions and their delivery log, and the analytics CSV export.
 * Viewers read both (a webhook's secret is only in the response that creates or rotates it).
 */
export function registerWebhookRoutes(app: FastifyInstance, s: AdminServices): void {
  const read = requireRole('viewer');
  const write = requireRole('admin');

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/webhooks',
    {
      onRequest: read,
      schema: { tags: ['webhooks'], querystring: PageQuery, response: { 200: ListOf(WebhookResponse), ...ERRORS } },
    },
    async (request) => s.webhooks.list(request.query),
  );
  app.post<{ Body: WebhookCreateBody }>(
    '/webhooks',
    {
      onRequest: write,
      schema: { tags: ['webhooks'], body: WebhookCreateBody, response: { 201: WebhookResponse, ...ERRORS } },
    },
    async (request, reply) => reply.status(201).send(await s.webhooks.create(actorOf(request), request.body)),
  );
  app.get<{ Params: { id: string } }>(
    '/webhooks/:id',
    {
      onRequest: read,
      schema: { tags: ['webhooks'], params: IdParams, response: { 200: WebhookResponse, ...ERRORS } },
    },
    async (request) => s.webhooks.get(request.params.id),
  );
  app.patch<{ Params: { id: string }; Body: WebhookPatchBody }>(
    '/webhooks/:id',
    {
      onRequest: write,
      schema: {
        tags: ['webhooks'],
        params: IdParams,
        body: WebhookPatchBody,
        response: { 200: WebhookResponse, ...ERRORS },
      },
    },
    async (request) => s.webhooks.update(actorOf(request), request.params.id, request.body),
  );
  app.delete<{ Params: { id: string } }>(
    '/webhooks/:id',
    { onRequest: write, schema: { tags: ['webhooks'], params: IdParams, response: ERRORS } },
    async (request, reply) => {
      await s.webhooks.remove(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { id: string } }>(
    '/webhooks/:id/ping',
    {
      onRequest: write,
      schema: { tags: ['webhooks'], params: IdParams, response: { 202: DeliveryResponse, ...ERRORS } },
    },
    async (request, reply) => reply.status(202).send(await s.webhooks.ping(actorOf(request), request.params.id)),
  );

  const DeliveryQuery = Type.Object({
    ...PageQuery.properties,
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
  });
  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string; status?: string } }>(
    '/webhooks/:id/deliveries',
    {
      onRequest: read,
      schema: {
        tags: ['webhooks'],
        params: IdParams,
        querystring: DeliveryQuery,
        response: { 200: ListOf(DeliveryResponse), ...ERRORS },
      },
    },
    async (request) => {
      await s.webhooks.get(request.params.id);
      return s.webhooks.deliveries({ webhookId: request.params.id, ...request.query });
    },
  );
  app.post<{ Params: { id: string } }>(
    '/webhook-deliveries/:id/retry',
    {
      onRequest: write,
      schema: { tags: ['webhooks'], params: IdParams, response: { 202: DeliveryResponse, ...ERRORS } },
    },
    async (request, reply) => reply.status(202).send(await s.webhooks.redeliver(actorOf(request), request.params.id)),
  );

  // --- analytics export --------------------------------------------------------------
  const CsvQuery = Type.Object({
    from: Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 or epoch ms (inclusive)' }),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    resolution: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], { default: 'hour' }),
    api_id: Type.Optional(Type.String({ maxLength: 100 })),
    key_id: Type.Optional(Type.String({ maxLength: 100 })),
    developer_id: Type.Optional(Type.String({ maxLength: 100 })),
    group_by: Type.Optional(
      Type.Union([Type.Literal('api'), Type.Literal('key'), Type.Literal('developer'), Type.Literal('status')]),
    ),
  });
  app.get<{
    Querystring: {
      from: string;
      to?: string;
      resolution: 'minute' | 'hour' | 'day';
      api_id?: string;
      key_id?: string;
      developer_id?: string;
      group_by?: 'api' | 'key' | 'developer' | 'status';
    };
  }>(
    '/analytics/requests.csv',
    { onRequest: read, schema: { tags: ['analytics'], querystring: CsvQuery, produces: ['text/csv'] } },
    async (request, reply) => {
      const q = request.query;
      const csv = await analyticsCsv(s.ctx.db, {
        from: q.from,
        to: q.to ?? String(s.ctx.clock.now()),
        resolution: q.resolution,
        apiId: q.api_id,
        keyId: q.key_id,
        developerId: q.developer_id,
        groupBy: q.group_by,
      });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="gatehouse-requests.csv"')
        .send(csv);
    },
  );
}
