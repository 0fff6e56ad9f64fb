import {
  analyticsQuery,
  type AnalyticsGroupBy,
  type AnalyticsPoint,
  type AnalyticsResolution,
} from '../../modules/analytics/index.js';
import type { Db } from '../../modules/database.js';

export interface CsvQuery {
  from: string;
  to: string;
  resolution: AnalyticsResolution;
  apiId?: string;
  keyId?: string;
  developerId?: string;
  groupBy?: AnalyticsGroupBy;
}

/** Busiest groups exported one series each when grouping (bounds the number of queries). */
const MAX_CSV_GROUPS = 20;

const COLUMNS = [
  'bucket_start',
  'hits',
  'successes',
  'errors',
  'latency_avg_ms',
  'latency_p95_ms',
  'bytes_in',
  'bytes_out',
] as const;

/**
 * RFC 4180 field: quoted when needed. A leading = + - @ is prefixed with a quote so a
 * spreadsheet does not run an id or path as a formula (OWASP "CSV injection").
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function line(values: (string | number | boolean | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

function pointValues(p: AnalyticsPoint): (string | number | null)[] {
  return [p.t, p.hits, p.successes, p.errors, p.latency_avg_ms, p.latency_p95_ms, p.bytes_in, p.bytes_out];
}

/**
 * Requests over time as CSV, from the same analytics query as the JSON route: one
 * row per bucket, or with `groupBy` one row per bucket and group (busiest groups first).
 */
export async function analyticsCsv(db: Db, q: CsvQuery): Promise<string> {
  const scope = {
    from: q.from,
    to: q.to,
    resolution: q.resolution,
    apiId: q.apiId,
    keyId: q.keyId,
    developerId: q.developerId,
  };
  if (!q.groupBy) {
    const result = await analyticsQuery(db, scope);
    return line([...COLUMNS]) + result.series.map((p) => line(pointValues(p))).join('');
  }
  const groupBy = q.groupBy;
  const overview = await analyticsQuery(db, { ...scope, groupBy, groupLimit: MAX_CSV_GROUPS });
  let out = line([COLUMNS[0], groupBy, ...COLUMNS.slice(1)]);
  for (const group of overview.groups ?? []) {
    if (groupBy === 'status') {
      // Rollups cannot be filtered by status: the group's totals stand for the whole range.
      out += line([
        overview.from,
        group.key,
        group.hits,
        group.successes,
        group.errors,
        group.latency_avg_ms,
        group.latency_p95_ms,
        group.bytes_in,
        group.bytes_out,
      ]);
      continue;
    }
    const filter =
      groupBy === 'api' ? { apiId: group.key } : groupBy === 'key' ? { keyId: group.key } : { developerId: group.key };
    const series = await analyticsQuery(db, { ...scope, ...filter });
    for (const p of series.series) {
      if (p.hits === 0) continue;
      const [t, ...rest] = pointValues(p);
      out += line([t, group.key, ...rest]);
    }
  }
  return out;
}
