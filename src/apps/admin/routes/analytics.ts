import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  analyticsQuery,
  listRecords,
  recentErrors,
  statusBreakdown,
  topConsumers,
  type AnalyticsGroupBy,
  type AnalyticsResolution,
} from '../../../modules/analytics/index.js';
import { requireRole, type AdminServices } from '../context.js';
import { ERRORS } from '../schemas.js';

const Range = {
  from: Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 or epoch ms (inclusive)' }),
  to: Type.Optional(
    Type.String({ minLength: 1, maxLength: 40, description: 'ISO 8601 or epoch ms (exclusive); default now' }),
  ),
};
const Scope = {
  api_id: Type.Optional(Type.String({ maxLength: 100 })),
  key_id: Type.Optional(Type.String({ maxLength: 100 })),
  developer_id: Type.Optional(Type.String({ maxLength: 100 })),
};

const SeriesQuery = Type.Object({
  ...Range,
  ...Scope,
  resolution: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], { default: 'hour' }),
  group_by: Type.Optional(
    Type.Union([Type.Literal('api'), Type.Literal('key'), Type.Literal('developer'), Type.Literal('status')]),
  ),
});

interface SeriesQueryType {
  from: string;
  to?: string;
  api_id?: string;
  key_id?: string;
  developer_id?: string;
  resolution: AnalyticsResolution;
  group_by?: AnalyticsGroupBy;
}

/** Admin analytics: totals and series by api/key/developer/status, top consumers, errors. */
export function registerAnalyticsRoutes(app: FastifyInstance, s: AdminServices): void {
  const read = requireRole('viewer');
  const now = () => String(s.ctx.clock.now());
  /** The range (to defaults to now) and scope every analytics query takes, from the query string. */
  const ranged = (q: { from: string; to?: string; api_id?: string; key_id?: string; developer_id?: string }) => ({
    from: q.from,
    to: q.to ?? now(),
    apiId: q.api_id,
    keyId: q.key_id,
    developerId: q.developer_id,
  });

  app.get<{ Querystring: SeriesQueryType }>(
    '/analytics/requests',
    { onRequest: read, schema: { tags: ['analytics'], querystring: SeriesQuery, response: ERRORS } },
    async (request) => {
      const q = request.query;
      return analyticsQuery(s.ctx.db, { ...ranged(q), resolution: q.resolution, groupBy: q.group_by });
    },
  );

  const TopQuery = Type.Object({
    ...Range,
    api_id: Scope.api_id,
    by: Type.Union([Type.Literal('key'), Type.Literal('developer')], { default: 'key' }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  });
  app.get<{ Querystring: { from: string; to?: string; api_id?: string; by: 'key' | 'developer'; limit: number } }>(
    '/analytics/top-consumers',
    { onRequest: read, schema: { tags: ['analytics'], querystring: TopQuery, response: ERRORS } },
    async (request) => {
      const q = request.query;
      return {
        data: await topConsumers(s.ctx.db, {
          from: q.from,
          to: q.to ?? now(),
          by: q.by,
          limit: q.limit,
          apiId: q.api_id,
        }),
      };
    },
  );

  const StatusQuery = Type.Object({ ...Range, ...Scope });
  app.get<{ Querystring: { from: string; to?: string; api_id?: string; key_id?: string; developer_id?: string } }>(
    '/analytics/status-codes',
    { onRequest: read, schema: { tags: ['analytics'], querystring: StatusQuery, response: ERRORS } },
    async (request) => {
      const q = request.query;
      return statusBreakdown(s.ctx.db, ranged(q));
    },
  );

  const RecordsQuery = Type.Object({
    ...Range,
    ...Scope,
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  });
  app.get<{
    Querystring: {
      from: string;
      to?: string;
      api_id?: string;
      key_id?: string;
      developer_id?: string;
      status?: number;
      limit: number;
      cursor?: string;
    };
  }>(
    '/analytics/records',
    {
      onRequest: read,
      schema: {
        tags: ['analytics'],
        description:
          'The raw request log: every request the gateways recorded in [from, to), kept for analytics_raw_retention_hours. Follow next_cursor for more.',
        querystring: RecordsQuery,
        response: ERRORS,
      },
    },
    async (request) => {
      const q = request.query;
      return listRecords(s.ctx.db, { ...ranged(q), status: q.status, limit: q.limit, cursor: q.cursor });
    },
  );

  const ErrorsQuery = Type.Object({
    api_id: Scope.api_id,
    developer_id: Scope.developer_id,
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  });
  app.get<{ Querystring: { api_id?: string; developer_id?: string; limit: number } }>(
    '/analytics/errors',
    { onRequest: read, schema: { tags: ['analytics'], querystring: ErrorsQuery, response: ERRORS } },
    async (request) => ({
      data: await recentErrors(s.ctx.db, {
        apiId: request.query.api_id,
        developerId: request.query.developer_id,
        limit: request.query.limit,
      }),
    }),
  );
}
