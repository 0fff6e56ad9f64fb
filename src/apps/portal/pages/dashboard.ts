import type { FastifyInstance } from 'fastify';
import type { UsageService } from '../../../modules/keys/index.js';
import { describeRate, formatCount } from '../../../modules/policies/index.js';
import { requireDeveloper, type PortalPageDeps } from './deps.js';

const RANGES = {
  '24h': { label: 'Last 24 hours', ms: 86_400_000, resolution: 'hour' },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000, resolution: 'hour' },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000, resolution: 'day' },
} as const;
type RangeName = keyof typeof RANGES;

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${Math.round(value)} ms`;
}

/** Developer dashboard: traffic, latency, limits and recent errors per key and overall (issue 4 §6). */
export function registerDashboardPages(app: FastifyInstance, deps: PortalPageDeps & { usage: UsageService }): void {
  const { views, services } = deps;

  app.get<{ Querystring: { range?: string; key?: string } }>(
    '/dashboard',
    { preHandler: requireDeveloper },
    async (request, reply) => {
      const developer = request.developer!;
      const rangeName: RangeName =
        request.query.range === '7d' || request.query.range === '30d' ? request.query.range : '24h';
      const range = RANGES[rangeName];
      const keys = (await services.keys.list({ developerId: developer.id, limit: 200 })).data;
      const keyId =
        typeof request.query.key === 'string' && keys.some((k) => k.id === request.query.key)
          ? request.query.key
          : undefined;
      const now = deps.services.ctx.clock.now();
      const usage = await deps.usage.usage(developer.id, {
        ...(keyId ? { key_id: keyId } : {}),
        from: new Date(now - range.ms).toISOString(),
        to: new Date(now).toISOString(),
        resolution: range.resolution,
      });
      const names = new Map(keys.map((k) => [k.id, k.name]));
      const day = range.resolution === 'day';
      const chart = {
        labels: usage.series.map((p) => (day ? p.t.slice(5, 10) : `${p.t.slice(5, 10)} ${p.t.slice(11, 16)}`)),
        hits: usage.series.map((p) => p.hits),
        successes: usage.series.map((p) => p.successes),
        errors: usage.series.map((p) => p.errors),
        p95: usage.series.map((p) => p.latency_p95_ms),
      };
      const t = usage.totals;
      return views.render(request, reply, 'dashboard', {
        title: 'Dashboard',
        range: rangeName,
        ranges: Object.entries(RANGES).map(([name, r]) => ({ name, label: r.label, active: name === rangeName })),
        key_id: keyId ?? '',
        keys: keys.map((k) => ({ id: k.id, name: k.name, status: k.status, selected: k.id === keyId })),
        totals: {
          hits: t.hits,
          successes: t.successes,
          errors: t.errors,
          success_rate: t.hits > 0 ? `${Math.round((t.successes / t.hits) * 1000) / 10}%` : '–',
          p50: ms(t.latency_p50_ms),
          p95: ms(t.latency_p95_ms),
        },
        chart_json: JSON.stringify(chart),
        limits: usage.limits.map((l) => ({
          key_name: names.get(l.key_id) ?? l.key_id,
          rate_text: l.rate_limit ? describeRate(l.rate_limit.limit, l.rate_limit.per) : 'no rate limit',
          rate_remaining: l.rate_limit ? formatCount(l.rate_limit.remaining) : null,
          quota: l.quota && {
            max: formatCount(l.quota.max),
            used: formatCount(l.quota.used),
            remaining: formatCount(l.quota.remaining),
            percent: l.quota.max > 0 ? Math.min(100, Math.round((l.quota.used / l.quota.max) * 100)) : 0,
            text: describeRate(l.quota.max, l.quota.renewal_rate),
            resets_at: l.quota.resets_at,
          },
        })),
        recent_errors: usage.recent_errors.map((e) => ({ ...e, key_name: names.get(e.key_id) ?? e.key_id })),
        has_keys: keys.length > 0,
      });
    },
  );
}
