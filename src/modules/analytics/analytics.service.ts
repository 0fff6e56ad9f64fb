import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { validationError, type FieldProblem } from '../../shared/errors.js';
import { toIso } from '../../shared/time.js';
import type { Executor } from '../database.js';
import { decodeChunk, type RawRecord } from './analytics.chunks.js';
import { addHistogram, emptyHistogram, histogramPercentile } from './analytics.histogram.js';
import {
  analyticsRepository,
  type RollupFilter,
  type RollupGroupColumn,
  type RollupSums,
} from './analytics.repository.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Most points a series may have; a wider range needs a coarser resolution. */
export const MAX_SERIES_POINTS = 2_000;
/** Most key ids one query may filter on (a developer's keys). */
export const MAX_KEY_IDS = 1_000;

export type AnalyticsResolution = 'minute' | 'hour' | 'day';
export type AnalyticsGroupBy = 'api' | 'key' | 'developer' | 'status';

const STEP_MS: Record<AnalyticsResolution, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
const GROUP_COLUMN: Record<AnalyticsGroupBy, RollupGroupColumn> = {
  api: 'api_id',
  key: 'key_id',
  developer: 'developer_id',
  status: 'status',
};

/** Epoch ms, or an ISO 8601 string as it arrives on the wire. */
export type TimeInput = number | string;

export interface AnalyticsScope {
  apiId?: string;
  keyId?: string;
  developerId?: string;
  /** Only these keys (e.g. the calling developer's); an empty list matches nothing. */
  keyIds?: string[];
}

export interface AnalyticsQueryInput extends AnalyticsScope {
  /** Inclusive; aligned down to the start of its bucket. */
  from: TimeInput;
  /** Exclusive. */
  to: TimeInput;
  resolution: AnalyticsResolution;
  groupBy?: AnalyticsGroupBy;
  /** Groups returned at most, busiest first (default 100, at most 1,000). */
  groupLimit?: number;
}

/** Latencies in ms; null when there were no requests. Percentiles are histogram bucket upper bounds. */
export interface AnalyticsTotals {
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_avg_ms: number | null;
  latency_min_ms: number | null;
  latency_max_ms: number | null;
  upstream_latency_avg_ms: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
}

export interface AnalyticsPoint {
  /** Bucket start, ISO 8601. */
  t: string;
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_avg_ms: number | null;
  latency_p95_ms: number | null;
}

export interface AnalyticsGroup extends AnalyticsTotals {
  /** The api id, key id, developer id ('' = none) or status code (as text). */
  key: string;
}

export interface AnalyticsResult {
  /** The aligned range actually covered. */
  from: string;
  to: string;
  resolution: AnalyticsResolution;
  totals: AnalyticsTotals;
  series: AnalyticsPoint[];
  groups?: AnalyticsGroup[];
}

// ── validation ────────────────────────────────────────────────────────────────────

function readTime(value: unknown, field: string, problems: FieldProblem[]): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value);
  if (typeof value === 'string' && value !== '') {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  problems.push({ field, message: 'must be an ISO 8601 date-time or epoch milliseconds' });
  return Number.NaN;
}

function readRange(input: { from: unknown; to: unknown }, problems: FieldProblem[]): { from: number; to: number } {
  const from = readTime(input.from, 'from', problems);
  const to = readTime(input.to, 'to', problems);
  if (Number.isFinite(from) && Number.isFinite(to) && from >= to)
    problems.push({ field: 'to', message: 'must be after from' });
  return { from, to };
}

function readScope(input: AnalyticsScope, problems: FieldProblem[]): AnalyticsScope {
  for (const field of ['apiId', 'keyId', 'developerId'] as const) {
    const value: unknown = input[field];
    if (value !== undefined && typeof value !== 'string')
      problems.push({ field: snake(field), message: 'must be a string' });
  }
  const keyIds: unknown = input.keyIds;
  if (keyIds !== undefined) {
    if (!Array.isArray(keyIds) || keyIds.some((k) => typeof k !== 'string'))
      problems.push({ field: 'key_ids', message: 'must be a list of key ids' });
    else if (keyIds.length > MAX_KEY_IDS)
      problems.push({ field: 'key_ids', message: `at most ${MAX_KEY_IDS} key ids` });
  }
  return { apiId: input.apiId, keyId: input.keyId, developerId: input.developerId, keyIds: input.keyIds };
}

function readLimit(value: unknown, fallback: number, max: number, field: string, problems: FieldProblem[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    problems.push({ field, message: `must be an integer from 1 to ${max}` });
    return fallback;
  }
  return value;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function alignDown(ms: number, step: number): number {
  return ms - (((ms % step) + step) % step);
}

/** Whether `keyIds: []` rules out every row, so no query is needed. */
function matchesNothing(scope: AnalyticsScope): boolean {
  return scope.keyIds !== undefined && scope.keyIds.length === 0;
}

// ── presenting ────────────────────────────────────────────────────────────────────

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function emptySums(): RollupSums {
  return {
    hits: 0,
    successes: 0,
    errors: 0,
    bytes_in: 0,
    bytes_out: 0,
    latency_sum: 0,
    latency_min: null,
    latency_max: null,
    upstream_latency_sum: 0,
    histogram: emptyHistogram(),
  };
}

function addSums(target: RollupSums, source: RollupSums): void {
  target.hits += source.hits;
  target.successes += source.successes;
  target.errors += source.errors;
  target.bytes_in += source.bytes_in;
  target.bytes_out += source.bytes_out;
  target.latency_sum += source.latency_sum;
  target.upstream_latency_sum += source.upstream_latency_sum;
  if (source.latency_min !== null && (target.latency_min === null || source.latency_min < target.latency_min))
    target.latency_min = source.latency_min;
  if (source.latency_max !== null && (target.latency_max === null || source.latency_max > target.latency_max))
    target.latency_max = source.latency_max;
  addHistogram(target.histogram, source.histogram);
}

function presentTotals(s: RollupSums): AnalyticsTotals {
  const any = s.hits > 0;
  return {
    hits: s.hits,
    successes: s.successes,
    errors: s.errors,
    bytes_in: s.bytes_in,
    bytes_out: s.bytes_out,
    latency_avg_ms: any ? round2(s.latency_sum / s.hits) : null,
    latency_min_ms: any ? s.latency_min : null,
    latency_max_ms: any ? s.latency_max : null,
    upstream_latency_avg_ms: any ? round2(s.upstream_latency_sum / s.hits) : null,
    latency_p50_ms: histogramPercentile(s.histogram, 50, s.latency_max),
    latency_p95_ms: histogramPercentile(s.histogram, 95, s.latency_max),
    latency_p99_ms: histogramPercentile(s.histogram, 99, s.latency_max),
  };
}

// ── queries ───────────────────────────────────────────────────────────────────────

/**
 * Totals, a zero-filled series over `[from, to)` and optional groups, from the rollups.
 * `minute` reads minute rollups (kept 7 days by default); `hour` and `day` read hour
 * rollups. Throws VALIDATION_FAILED (400) for a bad range, resolution or filter, and when
 * the series would have more than MAX_SERIES_POINTS points.
 */
export async function analyticsQuery(db: Executor, input: AnalyticsQueryInput): Promise<AnalyticsResult> {
  const problems: FieldProblem[] = [];
  const range = readRange(input, problems);
  const resolution = input.resolution;
  const step = STEP_MS[resolution] as number | undefined;
  if (step === undefined) problems.push({ field: 'resolution', message: 'must be one of minute, hour, day' });
  if (input.groupBy !== undefined && !(input.groupBy in GROUP_COLUMN))
    problems.push({ field: 'group_by', message: 'must be one of api, key, developer, status' });
  const scope = readScope(input, problems);
  const groupLimit = readLimit(input.groupLimit, 100, 1_000, 'group_limit', problems);
  const from = step !== undefined && Number.isFinite(range.from) ? alignDown(range.from, step) : range.from;
  const to = range.to;
  if (problems.length === 0 && step !== undefined) {
    const points = Math.ceil((to - from) / step);
    if (points > MAX_SERIES_POINTS) {
      problems.push({
        field: 'resolution',
        message: `the range has ${points} ${resolution} points; at most ${MAX_SERIES_POINTS}: narrow the range or use a coarser resolution`,
      });
    }
  }
  if (problems.length > 0 || step === undefined) throw validationError(problems);

  const filter: RollupFilter = { resolution: resolution === 'minute' ? 'minute' : 'hour', from, to, ...scope };
  const buckets = matchesNothing(scope) ? [] : await analyticsRepository.sumByBucket(db, filter);

  // Zero-filled points, then each stored bucket added into the point it falls in (day = 24 hours).
  const count = Math.ceil((to - from) / step);
  const points: RollupSums[] = Array.from({ length: count }, emptySums);
  const totals = emptySums();
  for (const b of buckets) {
    const index = Math.floor((b.bucket - from) / step);
    const point = points[index];
    if (point) addSums(point, b);
    addSums(totals, b);
  }
  const series: AnalyticsPoint[] = points.map((p, i) => ({
    t: new Date(from + i * step).toISOString(),
    hits: p.hits,
    successes: p.successes,
    errors: p.errors,
    bytes_in: p.bytes_in,
    bytes_out: p.bytes_out,
    latency_avg_ms: p.hits > 0 ? round2(p.latency_sum / p.hits) : null,
    latency_p95_ms: histogramPercentile(p.histogram, 95, p.latency_max),
  }));

  const result: AnalyticsResult = {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    resolution,
    totals: presentTotals(totals),
    series,
  };
  if (input.groupBy !== undefined) {
    const rows = matchesNothing(scope)
      ? []
      : await analyticsRepository.sumByGroup(db, filter, GROUP_COLUMN[input.groupBy]);
    rows.sort((a, b) => b.hits - a.hits || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    result.groups = rows.slice(0, groupLimit).map((r) => ({ key: r.key, ...presentTotals(r) }));
  }
  return result;
}

export interface TopConsumersInput {
  from: TimeInput;
  to: TimeInput;
  /** Default 10, at most 100. */
  limit?: number;
  /** Rank keys (default) or developers. Requests without a key / developer are left out. */
  by?: 'key' | 'developer';
  apiId?: string;
}

export interface TopConsumer {
  /** Null when ranking developers. */
  key_id: string | null;
  developer_id: string;
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_avg_ms: number | null;
}

/** Busiest keys or developers over `[from, to)` (hour rollups; `from` aligned down to the hour). */
export async function topConsumers(db: Executor, input: TopConsumersInput): Promise<TopConsumer[]> {
  const problems: FieldProblem[] = [];
  const range = readRange(input, problems);
  const limit = readLimit(input.limit, 10, 100, 'limit', problems);
  const by = input.by ?? 'key';
  if (by !== 'key' && by !== 'developer') problems.push({ field: 'by', message: 'must be key or developer' });
  if (input.apiId !== undefined && typeof input.apiId !== 'string')
    problems.push({ field: 'api_id', message: 'must be a string' });
  if (problems.length > 0) throw validationError(problems);

  const rows = await analyticsRepository.topBy(
    db,
    { resolution: 'hour', from: alignDown(range.from, HOUR_MS), to: range.to, apiId: input.apiId },
    by,
    limit,
  );
  return rows.map((r) => ({
    key_id: by === 'key' ? r.key_id : null,
    developer_id: r.developer_id,
    hits: r.hits,
    successes: r.successes,
    errors: r.errors,
    bytes_in: r.bytes_in,
    bytes_out: r.bytes_out,
    latency_avg_ms: r.hits > 0 ? round2(r.latency_sum / r.hits) : null,
  }));
}

export interface StatusBreakdownInput extends AnalyticsScope {
  from: TimeInput;
  to: TimeInput;
  /** Which rollups to read (default hour; `from` is aligned down to it). */
  resolution?: 'minute' | 'hour';
}

export interface StatusBreakdown {
  total: number;
  /** Per status code, ascending; `share` is the fraction of `total` (0..1). */
  statuses: Array<{ status: number; hits: number; share: number }>;
  /** Hits per status class. */
  classes: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
}

/** Hits per status code and per class over `[from, to)`. */
export async function statusBreakdown(db: Executor, input: StatusBreakdownInput): Promise<StatusBreakdown> {
  const problems: FieldProblem[] = [];
  const range = readRange(input, problems);
  const resolution = input.resolution ?? 'hour';
  if (resolution !== 'minute' && resolution !== 'hour')
    problems.push({ field: 'resolution', message: 'must be minute or hour' });
  const scope = readScope(input, problems);
  if (problems.length > 0) throw validationError(problems);

  const rows = matchesNothing(scope)
    ? []
    : await analyticsRepository.sumByStatus(db, {
        resolution,
        from: alignDown(range.from, STEP_MS[resolution]),
        to: range.to,
        ...scope,
      });
  const total = rows.reduce((sum, r) => sum + r.hits, 0);
  const classes = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  for (const r of rows) {
    const name = `${Math.floor(r.status / 100)}xx`;
    if (name in classes) classes[name as keyof typeof classes] += r.hits;
  }
  return {
    total,
    statuses: rows.map((r) => ({ status: r.status, hits: r.hits, share: total > 0 ? r.hits / total : 0 })),
    classes,
  };
}

export interface RecentErrorsInput {
  apiId?: string;
  developerId?: string;
  /** Only these keys; an empty list matches nothing. */
  keyIds?: string[];
  /** Only records at or after this time. */
  since?: TimeInput;
  /** Default 20, at most 100. */
  limit?: number;
}

export interface RecentError {
  id: string;
  at: string;
  api_id: string;
  key_id: string;
  developer_id: string;
  method: string;
  path: string;
  status: number;
  code: string | null;
  latency_ms: number;
}

/** Newest requests that ended with status >= 400, from the raw records (bounded retention). */
export async function recentErrors(db: Executor, input: RecentErrorsInput): Promise<RecentError[]> {
  const problems: FieldProblem[] = [];
  const scope = readScope(input, problems);
  const limit = readLimit(input.limit, 20, 100, 'limit', problems);
  const since = input.since === undefined ? undefined : readTime(input.since, 'since', problems);
  if (problems.length > 0) throw validationError(problems);
  if (matchesNothing(scope)) return [];

  const rows = await analyticsRepository.recentErrors(db, {
    apiId: scope.apiId,
    developerId: scope.developerId,
    keyIds: scope.keyIds,
    since,
    limit,
  });
  return rows.map((r) => ({
    id: r.id,
    at: toIso(Number(r.at)) ?? '',
    api_id: r.api_id,
    key_id: r.key_id,
    developer_id: r.developer_id,
    method: r.method,
    path: r.path,
    status: Number(r.status),
    code: r.code,
    latency_ms: Number(r.latency_ms),
  }));
}

// ── raw request log ───────────────────────────────────────────────────────────────

/** How far before `from` a chunk may start and still hold a request in range: its requests are recorded when they end. */
const CHUNK_SLACK_MS = HOUR_MS;
/** Chunks decoded for one page at most (≈ 25,000 records); a sparse filter returns a short page and a cursor. */
const MAX_CHUNKS_PER_PAGE = 50;

export interface ListRecordsInput extends AnalyticsScope {
  from: TimeInput;
  to: TimeInput;
  /** Only this status code. */
  status?: number;
  /** Default 100, at most 1,000. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

/** A raw record as the API shows it: `at` in ISO 8601. */
export type RequestLogEntry = Omit<RawRecord, 'at'> & { at: string };

interface Cursor {
  firstAt: number;
  id: string;
  index: number;
}

function readCursor(value: unknown, problems: FieldProblem[]): Cursor | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const [firstAt, id, index] = Buffer.from(value, 'base64url').toString('utf8').split('|');
    const cursor = { firstAt: Number(firstAt), id: id ?? '', index: Number(index) };
    if (
      Number.isSafeInteger(cursor.firstAt) &&
      cursor.id !== '' &&
      Number.isSafeInteger(cursor.index) &&
      cursor.index >= 0
    )
      return cursor;
  }
  problems.push({ field: 'cursor', message: 'is not a cursor from this list' });
  return undefined;
}

function writeCursor(c: Cursor): string {
  return Buffer.from(`${c.firstAt}|${c.id}|${c.index}`, 'utf8').toString('base64url');
}

/**
 * Every request the gateways recorded in [from, to) (the raw request log, kept
 * `analytics_raw_retention_hours`), filtered by api, key, developer and status. Ordered
 * by the batch each node wrote it in, then by completion within the batch: close to
 * time order, exact per node. Pages follow `next_cursor` until it is null.
 */
export async function listRecords(
  db: Executor,
  input: ListRecordsInput,
): Promise<{ data: RequestLogEntry[]; next_cursor: string | null }> {
  const problems: FieldProblem[] = [];
  const { from, to } = readRange(input, problems);
  const scope = readScope(input, problems);
  const limit = readLimit(input.limit, 100, 1_000, 'limit', problems);
  const cursor = readCursor(input.cursor, problems);
  if (input.status !== undefined && !(Number.isInteger(input.status) && input.status >= 100 && input.status <= 599))
    problems.push({ field: 'status', message: 'must be an HTTP status code' });
  if (problems.length > 0) throw validationError(problems);
  if (matchesNothing(scope)) return { data: [], next_cursor: null };
  const keyIds = scope.keyIds ? new Set(scope.keyIds) : null;

  const data: RequestLogEntry[] = [];
  // Where to read from: the cursor's chunk (inclusive, from its index), then after each chunk read.
  let start: { firstAt: number; id: string; inclusive: boolean } | undefined = cursor && { ...cursor, inclusive: true };
  let scanned = 0;
  while (scanned < MAX_CHUNKS_PER_PAGE) {
    const chunks = await analyticsRepository.chunksInRange(db, {
      from,
      to,
      slackMs: CHUNK_SLACK_MS,
      from_chunk: start,
      limit: Math.min(10, MAX_CHUNKS_PER_PAGE - scanned),
    });
    if (chunks.length === 0) return { data, next_cursor: null };
    for (const chunk of chunks) {
      scanned++;
      const skip = cursor !== undefined && chunk.id === cursor.id ? cursor.index : 0;
      const records = decodeChunk(chunk);
      for (let i = skip; i < records.length; i++) {
        const r = records[i] as RawRecord;
        if (r.at < from || r.at >= to) continue;
        if (scope.apiId !== undefined && r.api_id !== scope.apiId) continue;
        if (scope.keyId !== undefined && r.key_id !== scope.keyId) continue;
        if (scope.developerId !== undefined && r.developer_id !== scope.developerId) continue;
        if (keyIds !== null && !keyIds.has(r.key_id)) continue;
        if (input.status !== undefined && r.status !== input.status) continue;
        if (data.length === limit)
          return { data, next_cursor: writeCursor({ firstAt: Number(chunk.first_at), id: chunk.id, index: i }) };
        data.push({ ...r, at: toIso(r.at) ?? '' });
      }
      start = { firstAt: Number(chunk.first_at), id: chunk.id, inclusive: false };
    }
  }
  // The scan budget ran out before the page filled: the next page starts after the last chunk read.
  return {
    data,
    next_cursor: start ? writeCursor({ firstAt: start.firstAt, id: start.id, index: Number.MAX_SAFE_INTEGER }) : null,
  };
}

// ── retention ─────────────────────────────────────────────────────────────────────

export interface PruneOptions {
  now: number;
  /** Raw records older than this are deleted; 0 deletes them all. */
  rawRetentionHours: number;
  /** Minute rollups older than this are deleted (default 7); hour rollups are kept. */
  minuteRetentionDays?: number;
  /** Raw records per DELETE (default 2,000). */
  batchSize?: number;
  /** DELETE statements per call and kind, at most (default 50); the rest waits for the next call. */
  maxBatches?: number;
}

export interface PruneResult {
  /** Failed-request rows deleted. */
  records: number;
  /** Chunks of the request log deleted. */
  record_chunks: number;
  minute_rollups: number;
}

/**
 * Retention in bounded steps: each DELETE touches at most `batchSize` raw records or one
 * hour of minute rollups, runs as its own statement (short locks) and is followed by a
 * yield to the event loop, so it never stalls the gateway on SQLite.
 */
export async function pruneAnalytics(db: Executor, options: PruneOptions): Promise<PruneResult> {
  const batchSize = Math.max(1, options.batchSize ?? 2_000);
  const maxBatches = Math.max(1, options.maxBatches ?? 50);
  const result: PruneResult = { records: 0, record_chunks: 0, minute_rollups: 0 };

  const rawCutoff = options.now - Math.max(0, options.rawRetentionHours) * HOUR_MS;
  /** Repeats a bounded delete until one deletes less than `batch` (or `maxBatches` ran), yielding between them. */
  const inBatches = async (remove: (limit: number) => Promise<number>, batch: number): Promise<number> => {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const deleted = await remove(batch);
      total += deleted;
      if (deleted < batch) break;
      await yieldToEventLoop();
    }
    return total;
  };
  result.records = await inBatches((limit) => analyticsRepository.deleteRecordsBefore(db, rawCutoff, limit), batchSize);
  // Chunks hold up to 500 records each: a tenth of the batch size per statement.
  result.record_chunks = await inBatches(
    (limit) => analyticsRepository.deleteChunksBefore(db, rawCutoff, limit),
    Math.max(1, Math.ceil(batchSize / 10)),
  );

  const rollupCutoff = alignDown(options.now - (options.minuteRetentionDays ?? 7) * DAY_MS, MINUTE_MS);
  for (let i = 0; i < maxBatches; i++) {
    const oldest = await analyticsRepository.oldestBucket(db, 'minute');
    if (oldest === null || oldest >= rollupCutoff) break;
    result.minute_rollups += await analyticsRepository.deleteRollupsBetween(
      db,
      'minute',
      oldest,
      Math.min(rollupCutoff, oldest + HOUR_MS),
    );
    await yieldToEventLoop();
  }
  return result;
}
