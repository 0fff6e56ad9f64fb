import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  analyticsQuery,
  recentErrors,
  statusBreakdown,
  topConsumers,
  type AnalyticsGroupBy,
  type AnalyticsResolution,
} from '../../../modules/analytics/index.js';
import { listAudit, presentAudit } from '../../../modules/audit/index.js';
import { DOMAIN_EVENT_TYPES } from '../../../modules/events.js';
import { WebhookCreateBody, WebhookPatchBody } from '../../../modules/webhooks/index.js';
import { appError } from '../../../shared/errors.js';
import { analyticsCsv } from '../analytics-csv.js';
import { actorOf } from '../context.js';
import {
  all,
  checkbox,
  checked,
  flash,
  list,
  problemsOf,
  queryString,
  render,
  text,
  uiRole,
  type FormBody,
  type UiDeps,
} from './support.js';

const HOUR = 3_600_000;
const RANGES: Record<string, { ms: number; resolution: AnalyticsResolution; label: string }> = {
  '1h': { ms: HOUR, resolution: 'minute', label: 'Last hour' },
  '6h': { ms: 6 * HOUR, resolution: 'minute', label: 'Last 6 hours' },
  '24h': { ms: 24 * HOUR, resolution: 'hour', label: 'Last 24 hours' },
  '7d': { ms: 7 * 24 * HOUR, resolution: 'hour', label: 'Last 7 days' },
  '30d': { ms: 30 * 24 * HOUR, resolution: 'day', label: 'Last 30 days' },
};

interface AnalyticsFilter {
  range?: string;
  from?: string;
  to?: string;
  api_id?: string;
  key_id?: string;
  developer_id?: string;
  group_by?: string;
}

/** Analytics, audit log and webhooks. */
export function registerInsightPages(app: FastifyInstance, deps: UiDeps): void {
  const { s } = deps;
  const read = { preHandler: uiRole('viewer') };
  const write = { preHandler: uiRole('admin') };

  function scopeOf(q: AnalyticsFilter) {
    const now = s.ctx.clock.now();
    const custom = q.range === 'custom' && q.from;
    const range = RANGES[q.range ?? ''] ?? RANGES['24h']!;
    const from = custom ? Date.parse(/Z$/.test(q.from!) ? q.from! : `${q.from}Z`) : now - range.ms;
    const to = custom && q.to ? Date.parse(/Z$/.test(q.to) ? q.to : `${q.to}Z`) : now;
    if (Number.isNaN(from) || Number.isNaN(to) || from >= to)
      throw appError('VALIDATION_FAILED', 'The time range is not valid (from must be before to; UTC).');
    const span = to - from;
    const resolution: AnalyticsResolution = custom
      ? span <= 6 * HOUR
        ? 'minute'
        : span <= 14 * 24 * HOUR
          ? 'hour'
          : 'day'
      : range.resolution;
    const groupBy = ['api', 'key', 'developer', 'status'].includes(q.group_by ?? '')
      ? (q.group_by as AnalyticsGroupBy)
      : undefined;
    const clean = (v?: string) => (v && v.length <= 100 ? v : undefined);
    return {
      from,
      to,
      resolution,
      groupBy,
      apiId: clean(q.api_id),
      keyId: clean(q.key_id),
      developerId: clean(q.developer_id),
      range: custom ? 'custom' : q.range && RANGES[q.range] ? q.range : '24h',
    };
  }

  app.get<{ Querystring: AnalyticsFilter }>('/analytics', read, async (request, reply) => {
    const q = request.query;
    const scope = scopeOf(q);
    const base = {
      from: scope.from,
      to: scope.to,
      apiId: scope.apiId,
      keyId: scope.keyId,
      developerId: scope.developerId,
    };
    const [result, byKey, byDeveloper, statuses, errors, apis] = await Promise.all([
      analyticsQuery(s.ctx.db, { ...base, resolution: scope.resolution, groupBy: scope.groupBy, groupLimit: 20 }),
      topConsumers(s.ctx.db, { from: scope.from, to: scope.to, by: 'key', limit: 10, apiId: scope.apiId }),
      topConsumers(s.ctx.db, { from: scope.from, to: scope.to, by: 'developer', limit: 10, apiId: scope.apiId }),
      statusBreakdown(s.ctx.db, { ...base, resolution: scope.resolution === 'minute' ? 'minute' : 'hour' }),
      recentErrors(s.ctx.db, { apiId: scope.apiId, developerId: scope.developerId, since: scope.from, limit: 20 }),
      all((o) => s.apis.list(o)),
    ]);
    // Names for the ids shown (keys and developers looked up one by one, at most ~40).
    const apiNames = new Map(apis.map((a) => [a.id, a.name]));
    const keyNames = new Map<string, string>();
    const devNames = new Map<string, string>();
    const keyIds = new Set(
      [
        ...byKey.map((c) => c.key_id ?? ''),
        ...(scope.groupBy === 'key' ? (result.groups ?? []).map((g) => g.key) : []),
      ].filter(Boolean),
    );
    const devIds = new Set(
      [
        ...byDeveloper.map((c) => c.developer_id),
        ...byKey.map((c) => c.developer_id),
        ...(scope.groupBy === 'developer' ? (result.groups ?? []).map((g) => g.key) : []),
      ].filter(Boolean),
    );
    for (const id of keyIds)
      keyNames.set(
        id,
        await s.keys
          .get(id)
          .then((k) => `${k.name} (${k.prefix ?? 'no secret yet'}…)`)
          .catch(() => id),
      );
    for (const id of devIds)
      devNames.set(
        id,
        await s.developers
          .get(id)
          .then((d) => d.email)
          .catch(() => id),
      );
    const label = (by: string | undefined, id: string) =>
      by === 'api'
        ? (apiNames.get(id) ?? id)
        : by === 'key'
          ? (keyNames.get(id) ?? (id || '(no key)'))
          : by === 'developer'
            ? (devNames.get(id) ?? (id || '(none)'))
            : id;

    // Series per group (busiest five) for the stacked chart; status cannot be filtered on.
    const groupSeries: { label: string; points: number[] }[] = [];
    if (scope.groupBy && scope.groupBy !== 'status') {
      for (const g of (result.groups ?? []).slice(0, 5)) {
        const filter =
          scope.groupBy === 'api'
            ? { apiId: g.key }
            : scope.groupBy === 'key'
              ? { keyId: g.key }
              : { developerId: g.key };
        const one = await analyticsQuery(s.ctx.db, { ...base, ...filter, resolution: scope.resolution });
        groupSeries.push({ label: label(scope.groupBy, g.key), points: one.series.map((p) => p.hits) });
      }
    }
    const chart = {
      labels: result.series.map((p) => p.t),
      hits: result.series.map((p) => p.hits),
      errors: result.series.map((p) => p.errors),
      latency_avg: result.series.map((p) => p.latency_avg_ms),
      latency_p95: result.series.map((p) => p.latency_p95_ms),
      groups: groupSeries,
    };
    const filter = {
      range: scope.range,
      from: q.from ?? '',
      to: q.to ?? '',
      api_id: scope.apiId ?? '',
      key_id: scope.keyId ?? '',
      developer_id: scope.developerId ?? '',
      group_by: scope.groupBy ?? '',
    };
    return render(deps, request, reply, 'analytics', {
      title: 'Analytics',
      filter,
      ranges: Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label })),
      apis,
      result,
      resolution: scope.resolution,
      chart_json: JSON.stringify(chart),
      groups: (result.groups ?? []).map((g) => ({ ...g, label: label(scope.groupBy, g.key) })),
      top_keys: byKey.map((c) => ({
        ...c,
        label: keyNames.get(c.key_id ?? '') ?? c.key_id,
        developer: devNames.get(c.developer_id) ?? c.developer_id,
      })),
      top_developers: byDeveloper.map((c) => ({ ...c, label: devNames.get(c.developer_id) ?? c.developer_id })),
      statuses,
      errors: errors.map((e) => ({ ...e, api_name: apiNames.get(e.api_id) ?? e.api_id })),
      csv_query: queryString({ ...filter }),
    });
  });

  app.get<{ Querystring: AnalyticsFilter }>('/analytics.csv', read, async (request, reply) => {
    const scope = scopeOf(request.query);
    const csv = await analyticsCsv(s.ctx.db, {
      from: String(scope.from),
      to: String(scope.to),
      resolution: scope.resolution,
      apiId: scope.apiId,
      keyId: scope.keyId,
      developerId: scope.developerId,
      groupBy: scope.groupBy,
    });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="gatehouse-requests.csv"')
      .send(csv);
  });

  // ── Audit log (read only: no route edits or deletes an event) ─────────────────────
  app.get<{
    Querystring: { object_type?: string; object_id?: string; actor_id?: string; action?: string; cursor?: string };
  }>('/audit', read, async (request, reply) => {
    const cut = (v?: string) => (v ?? '').trim().slice(0, 100) || undefined;
    const f = {
      objectType: cut(request.query.object_type),
      objectId: cut(request.query.object_id),
      actorId: cut(request.query.actor_id),
      action: cut(request.query.action),
    };
    const rows = await listAudit(s.ctx.db, { ...f, before: cut(request.query.cursor), limit: 50 });
    const more = rows.length > 50;
    const kept = (more ? rows.slice(0, 50) : rows).map(presentAudit);
    const admins = new Map((await s.admins.list()).map((a) => [a.id, a.email]));
    const events = kept.map((e) => ({
      ...e,
      actor_label:
        e.actor.type === 'admin'
          ? (admins.get(e.actor.id ?? '') ?? e.actor.id)
          : e.actor.type === 'system'
            ? 'system'
            : e.actor.id,
      details_json: JSON.stringify(e.details),
    }));
    const filter = {
      object_type: f.objectType ?? '',
      object_id: f.objectId ?? '',
      actor_id: f.actorId ?? '',
      action: f.action ?? '',
    };
    return render(deps, request, reply, 'audit', {
      title: 'Audit log',
      events,
      filter,
      next_query: more ? queryString({ ...filter, cursor: kept[kept.length - 1]?.id }) : null,
    });
  });

  // ── Webhooks ─────────────────────────────────────────────────────────────────
  async function webhooksPage(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const hooks = await s.webhooks.list({ limit: 200 });
    return render(
      deps,
      request,
      reply,
      'webhooks',
      {
        title: 'Webhooks',
        webhooks: hooks.data,
        event_types: DOMAIN_EVENT_TYPES,
        values: { events: [] },
        errors: {},
        ...extra,
      },
      status,
    );
  }

  app.get('/webhooks', read, async (request, reply) => webhooksPage(request, reply));
  app.post<{ Body: FormBody }>('/webhooks', write, async (request, reply) => {
    const values = {
      url: text(request.body, 'url'),
      description: text(request.body, 'description'),
      events: list(request.body, 'events'),
      active: true,
    };
    try {
      const created = await s.webhooks.create(
        actorOf(request),
        checked<WebhookCreateBody>(request, WebhookCreateBody, values),
      );
      // The signing secret is shown in this response only.
      return webhooksPage(request, reply, { created });
    } catch (error) {
      const p = problemsOf(error);
      if (p) return webhooksPage(request, reply, { values, errors: p.fields, error: p.message }, 400);
      throw error;
    }
  });

  async function webhookPage(
    request: FastifyRequest<{ Params: { id: string }; Querystring: { status?: string; cursor?: string } }>,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const hook = await s.webhooks.get(request.params.id);
    const deliveryStatus = ['pending', 'succeeded', 'failed'].includes(request.query.status ?? '')
      ? request.query.status
      : undefined;
    const page = await s.webhooks.deliveries({
      webhookId: hook.id,
      status: deliveryStatus,
      cursor: request.query.cursor,
      limit: 50,
    });
    const deliveries = page.data.map((d) => ({ ...d, payload_json: JSON.stringify(d.payload, null, 2) }));
    return render(
      deps,
      request,
      reply,
      'webhook',
      {
        title: `Webhook ${hook.url}`,
        hook,
        event_types: DOMAIN_EVENT_TYPES.map((e) => ({ name: e, checked: hook.events.includes(e) })),
        deliveries,
        delivery_status: deliveryStatus ?? '',
        next_query: page.next_cursor ? queryString({ status: deliveryStatus, cursor: page.next_cursor }) : null,
        ...extra,
      },
      status,
    );
  }

  app.get<{ Params: { id: string }; Querystring: { status?: string; cursor?: string } }>(
    '/webhooks/:id',
    read,
    async (request, reply) => webhookPage(request, reply),
  );
  app.post<{ Params: { id: string }; Querystring: { status?: string; cursor?: string }; Body: FormBody }>(
    '/webhooks/:id',
    write,
    async (request, reply) => {
      try {
        await s.webhooks.update(
          actorOf(request),
          request.params.id,
          checked<WebhookPatchBody>(request, WebhookPatchBody, {
            url: text(request.body, 'url'),
            description: text(request.body, 'description'),
            events: list(request.body, 'events'),
            active: checkbox(request.body, 'active'),
          }),
        );
      } catch (error) {
        const p = problemsOf(error);
        if (p) return webhookPage(request, reply, { error: p.message }, 400);
        throw error;
      }
      flash(reply, 'success', 'Webhook saved.');
      return reply.redirect(`/webhooks/${encodeURIComponent(request.params.id)}`);
    },
  );
  app.post<{ Params: { id: string }; Querystring: { status?: string; cursor?: string } }>(
    '/webhooks/:id/rotate',
    write,
    async (request, reply) => {
      const hook = await s.webhooks.update(actorOf(request), request.params.id, { rotate_secret: true });
      return webhookPage(request, reply, { new_secret: hook.secret });
    },
  );
  app.post<{ Params: { id: string } }>('/webhooks/:id/ping', write, async (request, reply) => {
    await s.webhooks.ping(actorOf(request), request.params.id);
    flash(reply, 'info', 'A ping event was queued; its delivery appears below.');
    return reply.redirect(`/webhooks/${encodeURIComponent(request.params.id)}`);
  });
  app.post<{ Params: { id: string } }>('/webhooks/:id/delete', write, async (request, reply) => {
    await s.webhooks.remove(actorOf(request), request.params.id);
    flash(reply, 'success', 'Webhook deleted with its delivery log.');
    return reply.redirect('/webhooks');
  });
  app.post<{ Params: { id: string } }>('/webhook-deliveries/:id/retry', write, async (request, reply) => {
    const delivery = await s.webhooks.redeliver(actorOf(request), request.params.id);
    flash(reply, 'info', 'Delivery queued again.');
    return reply.redirect(`/webhooks/${encodeURIComponent(delivery.webhook_id)}`);
  });
}
