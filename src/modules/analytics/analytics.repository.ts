import { CompiledQuery, sql, type Insertable } from 'kysely';
import { dialectOfDb, jsonArrayInt } from '../../platform/db/sql.js';
import type { Database, Executor } from '../database.js';
import { addHistogram, HISTOGRAM_SIZE, parseHistogram } from './analytics.histogram.js';
import type { AnalyticsRecordChunksTable, AnalyticsRecordsTable, AnalyticsRollupsTable } from './analytics.table.js';

/** One rollup row's increment, as the recorder hands it over (histogram as counts). */
export interface RollupDelta {
  resolution: 'minute' | 'hour';
  bucket: number;
  api_id: string;
  key_id: string;
  developer_id: string;
  status: number;
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_sum: number;
  latency_min: number;
  latency_max: number;
  upstream_latency_sum: number;
  histogram: number[];
}

/** Filters shared by every rollup query. `keyIds: []` matches nothing. */
export interface RollupFilter {
  resolution: 'minute' | 'hour';
  from: number;
  to: number;
  apiId?: string;
  keyId?: string;
  developerId?: string;
  keyIds?: string[];
}

/** Sums over a set of rollup rows, with the histogram summed per bucket. */
export interface RollupSums {
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_sum: number;
  latency_min: number | null;
  latency_max: number | null;
  upstream_latency_sum: number;
  histogram: number[];
}

export type RollupGroupColumn = 'api_id' | 'key_id' | 'developer_id' | 'status';

const PK = ['resolution', 'bucket', 'api_id', 'key_id', 'developer_id', 'status'] as const;

/** Rows per multi-row statement: 16 parameters each keeps well under SQLite's 32,766 and PG's 65,535. */
const ROLLUP_CHUNK = 500;
/** 14 parameters per raw record; around 50–100 rows per statement measured fastest on both dialects. */
const RECORD_CHUNK = 100;

const RECORD_COLUMNS = [
  'id',
  'at',
  'node_id',
  'api_id',
  'key_id',
  'developer_id',
  'method',
  'path',
  'status',
  'code',
  'latency_ms',
  'upstream_latency_ms',
  'bytes_in',
  'bytes_out',
] as const satisfies ReadonlyArray<keyof AnalyticsRecordsTable>;

const insertTextCache = new Map<string, string>();

/** `INSERT INTO analytics_records (...) VALUES (...) × rows`, as `db`'s dialect writes it, parameters in RECORD_COLUMNS order. */
function insertRecordsText(db: Executor, rows: number): string {
  const cacheKey = `${dialectOfDb<Database>(db)}:${rows}`;
  let text = insertTextCache.get(cacheKey);
  if (text === undefined) {
    const template = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, 0])) as unknown as AnalyticsRecordsTable;
    text = db
      .insertInto('analytics_records')
      .values(new Array<AnalyticsRecordsTable>(rows).fill(template))
      .compile().sql;
    insertTextCache.set(cacheKey, text);
  }
  return text;
}

function pkOf(row: {
  resolution: string;
  bucket: number;
  api_id: string;
  key_id: string;
  developer_id: string;
  status: number;
}): string {
  return `${row.resolution}\u0000${row.bucket}\u0000${row.api_id}\u0000${row.key_id}\u0000${row.developer_id}\u0000${row.status}`;
}

/** The one order in which every node touches rollup rows, so concurrent flushes on PostgreSQL never lock in a cycle. */
function comparePk(a: RollupDelta, b: RollupDelta): number {
  if (a.resolution !== b.resolution) return a.resolution < b.resolution ? -1 : 1;
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  if (a.api_id !== b.api_id) return a.api_id < b.api_id ? -1 : 1;
  if (a.key_id !== b.key_id) return a.key_id < b.key_id ? -1 : 1;
  if (a.developer_id !== b.developer_id) return a.developer_id < b.developer_id ? -1 : 1;
  return a.status - b.status;
}

function sumColumns(db: Executor, qb: ReturnType<typeof filtered>) {
  let q = qb.select((eb) => [
    eb.fn.sum<number>('hits').as('hits'),
    eb.fn.sum<number>('successes').as('successes'),
    eb.fn.sum<number>('errors').as('errors'),
    eb.fn.sum<number>('bytes_in').as('bytes_in'),
    eb.fn.sum<number>('bytes_out').as('bytes_out'),
    eb.fn.sum<number>('latency_sum').as('latency_sum'),
    eb.fn.min<number>('latency_min').as('latency_min'),
    eb.fn.max<number>('latency_max').as('latency_max'),
    eb.fn.sum<number>('upstream_latency_sum').as('upstream_latency_sum'),
  ]);
  for (let i = 0; i < HISTOGRAM_SIZE; i++) {
    q = q.select(sql<number>`sum(${jsonArrayInt<Database>(db, 'histogram', i)})`.as(`h${i}`));
  }
  return q;
}

type SumRow = Record<string, unknown>;

function toSums(row: SumRow): RollupSums {
  const histogram = new Array<number>(HISTOGRAM_SIZE);
  for (let i = 0; i < HISTOGRAM_SIZE; i++) histogram[i] = Number(row[`h${i}`] ?? 0);
  const nullable = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    hits: Number(row.hits ?? 0),
    successes: Number(row.successes ?? 0),
    errors: Number(row.errors ?? 0),
    bytes_in: Number(row.bytes_in ?? 0),
    bytes_out: Number(row.bytes_out ?? 0),
    latency_sum: Number(row.latency_sum ?? 0),
    latency_min: nullable(row.latency_min),
    latency_max: nullable(row.latency_max),
    upstream_latency_sum: Number(row.upstream_latency_sum ?? 0),
    histogram,
  };
}

function filtered(db: Executor, f: RollupFilter) {
  let q = db
    .selectFrom('analytics_rollups')
    .where('resolution', '=', f.resolution)
    .where('bucket', '>=', f.from)
    .where('bucket', '<', f.to);
  if (f.apiId !== undefined) q = q.where('api_id', '=', f.apiId);
  if (f.keyId !== undefined) q = q.where('key_id', '=', f.keyId);
  if (f.developerId !== undefined) q = q.where('developer_id', '=', f.developerId);
  if (f.keyIds !== undefined) q = q.where('key_id', 'in', f.keyIds);
  return q;
}

export const analyticsRepository = {
  /**
   * Adds `deltas` to the stored rollups, inside the caller's transaction.
   *
   * Counters, sums, min and max merge atomically in one upsert per chunk. The histogram
   * (JSON text) cannot be added in portable SQL, so it is read-modify-written: the upsert
   * leaves the stored histogram untouched and returns it (a new row gets `[]`), which also
   * leaves the row locked by this transaction on PostgreSQL; the merged histogram is then
   * written back before commit. Another node flushing the same row waits on that lock and
   * then adds to the committed row, so nothing is lost or counted twice. Rows are always
   * touched in primary-key order, so two nodes never deadlock on each other. On SQLite
   * the write transaction is serialised anyway.
   */
  async addRollups(trx: Executor, deltas: RollupDelta[]): Promise<void> {
    const sorted = [...deltas].sort(comparePk);
    for (let start = 0; start < sorted.length; start += ROLLUP_CHUNK) {
      const chunk = sorted.slice(start, start + ROLLUP_CHUNK);
      const rows: Insertable<AnalyticsRollupsTable>[] = chunk.map((d) => ({ ...d, histogram: '[]' }));
      const stored = await trx
        .insertInto('analytics_rollups')
        .values(rows)
        .onConflict((oc) =>
          oc.columns([...PK]).doUpdateSet((eb) => ({
            hits: eb('analytics_rollups.hits', '+', eb.ref('excluded.hits')),
            successes: eb('analytics_rollups.successes', '+', eb.ref('excluded.successes')),
            errors: eb('analytics_rollups.errors', '+', eb.ref('excluded.errors')),
            bytes_in: eb('analytics_rollups.bytes_in', '+', eb.ref('excluded.bytes_in')),
            bytes_out: eb('analytics_rollups.bytes_out', '+', eb.ref('excluded.bytes_out')),
            latency_sum: eb('analytics_rollups.latency_sum', '+', eb.ref('excluded.latency_sum')),
            upstream_latency_sum: eb(
              'analytics_rollups.upstream_latency_sum',
              '+',
              eb.ref('excluded.upstream_latency_sum'),
            ),
            // CASE rather than LEAST()/min(): the same text works on both dialects.
            latency_min: eb
              .case()
              .when('excluded.latency_min', '<', eb.ref('analytics_rollups.latency_min'))
              .then(eb.ref('excluded.latency_min'))
              .else(eb.ref('analytics_rollups.latency_min'))
              .end(),
            latency_max: eb
              .case()
              .when('excluded.latency_max', '>', eb.ref('analytics_rollups.latency_max'))
              .then(eb.ref('excluded.latency_max'))
              .else(eb.ref('analytics_rollups.latency_max'))
              .end(),
          })),
        )
        .returning([...PK, 'histogram'])
        .execute();

      const before = new Map<string, string>();
      for (const row of stored) before.set(pkOf(row), row.histogram);
      const merged: Insertable<AnalyticsRollupsTable>[] = chunk.map((d) => ({
        ...d,
        histogram: JSON.stringify(addHistogram(parseHistogram(before.get(pkOf(d))), d.histogram)),
      }));
      // Every row exists and is ours now: this upsert only ever takes the conflict path.
      await trx
        .insertInto('analytics_rollups')
        .values(merged)
        .onConflict((oc) => oc.columns([...PK]).doUpdateSet((eb) => ({ histogram: eb.ref('excluded.histogram') })))
        .execute();
    }
  },

  /**
   * Multi-row inserts of raw records, chunked. The statement text for a chunk size is
   * compiled once and reused: building a 100-row insert through the query builder cost
   * about as much as running it (≈ 7 µs per row on SQLite here), and on SQLite that time
   * is spent on the gateway's thread.
   */
  async insertRecords(trx: Executor, rows: AnalyticsRecordsTable[]): Promise<void> {
    for (let start = 0; start < rows.length; start += RECORD_CHUNK) {
      const chunk = rows.slice(start, start + RECORD_CHUNK);
      const params: unknown[] = [];
      for (const row of chunk) for (const column of RECORD_COLUMNS) params.push(row[column]);
      await trx.executeQuery(CompiledQuery.raw(insertRecordsText(trx, chunk.length), params));
    }
  },

  /** One chunk of the raw request log. */
  async insertChunk(trx: Executor, row: AnalyticsRecordChunksTable): Promise<void> {
    await trx.insertInto('analytics_record_chunks').values(row).execute();
  },

  /**
   * Chunks that may hold requests in [from, to), in (first_at, id) order, starting at
   * `from_chunk` (or just after it) when given. A chunk spans at most a flush's worth of time, so
   * `first_at >= from - slackMs` bounds the scan from below.
   */
  async chunksInRange(
    db: Executor,
    f: {
      from: number;
      to: number;
      slackMs: number;
      from_chunk?: { firstAt: number; id: string; inclusive: boolean };
      limit: number;
    },
  ): Promise<AnalyticsRecordChunksTable[]> {
    let q = db
      .selectFrom('analytics_record_chunks')
      .selectAll()
      .where('first_at', '<', f.to)
      .where('first_at', '>=', f.from - f.slackMs)
      .where('last_at', '>=', f.from);
    const start = f.from_chunk;
    if (start)
      q = q.where((eb) =>
        eb.or([
          eb('first_at', '>', start.firstAt),
          eb.and([eb('first_at', '=', start.firstAt), eb('id', start.inclusive ? '>=' : '>', start.id)]),
        ]),
      );
    return q.orderBy('first_at').orderBy('id').limit(f.limit).execute();
  },

  /** Deletes at most `limit` chunks whose newest request is older than `before`; returns how many. */
  deleteChunksBefore(db: Executor, before: number, limit: number): Promise<number> {
    return deleteOldest(db, 'analytics_record_chunks', 'last_at', before, limit);
  },

  /** Sums per bucket (and per group column, when given), histograms summed in the database. */
  async sumByBucket(db: Executor, f: RollupFilter): Promise<Array<RollupSums & { bucket: number }>> {
    const rows = await sumColumns(db, filtered(db, f)).select('bucket').groupBy('bucket').orderBy('bucket').execute();
    return rows.map((row) => ({ ...toSums(row as SumRow), bucket: Number(row.bucket) }));
  },

  async sumByGroup(
    db: Executor,
    f: RollupFilter,
    column: RollupGroupColumn,
  ): Promise<Array<RollupSums & { key: string }>> {
    const rows = await sumColumns(db, filtered(db, f)).select(column).groupBy(column).orderBy(column).execute();
    return rows.map((row) => ({ ...toSums(row as SumRow), key: String((row as SumRow)[column]) }));
  },

  async sumByStatus(db: Executor, f: RollupFilter): Promise<Array<{ status: number; hits: number }>> {
    const rows = await filtered(db, f)
      .select((eb) => ['status', eb.fn.sum<number>('hits').as('hits')])
      .groupBy('status')
      .orderBy('status')
      .execute();
    return rows.map((r) => ({ status: Number(r.status), hits: Number(r.hits) }));
  },

  /** Busiest keys or developers; '' (no key / no developer) is left out. */
  async topBy(
    db: Executor,
    f: RollupFilter,
    by: 'key' | 'developer',
    limit: number,
  ): Promise<
    Array<{
      key_id: string;
      developer_id: string;
      hits: number;
      successes: number;
      errors: number;
      bytes_in: number;
      bytes_out: number;
      latency_sum: number;
    }>
  > {
    const sums = (q: ReturnType<typeof filtered>) =>
      q.select((eb) => [
        eb.fn.sum<number>('hits').as('hits'),
        eb.fn.sum<number>('successes').as('successes'),
        eb.fn.sum<number>('errors').as('errors'),
        eb.fn.sum<number>('bytes_in').as('bytes_in'),
        eb.fn.sum<number>('bytes_out').as('bytes_out'),
        eb.fn.sum<number>('latency_sum').as('latency_sum'),
      ]);
    const base = filtered(db, f);
    const rows =
      by === 'key'
        ? await sums(base.where('key_id', '!=', ''))
            .select(['key_id', 'developer_id'])
            .groupBy(['key_id', 'developer_id'])
            .orderBy('hits', 'desc')
            .orderBy('key_id')
            .orderBy('developer_id')
            .limit(limit)
            .execute()
        : await sums(base.where('developer_id', '!=', ''))
            .select(['developer_id', sql<string>`''`.as('key_id')])
            .groupBy('developer_id')
            .orderBy('hits', 'desc')
            .orderBy('developer_id')
            .limit(limit)
            .execute();
    return rows.map((r) => ({
      key_id: r.key_id,
      developer_id: r.developer_id,
      hits: Number(r.hits),
      successes: Number(r.successes),
      errors: Number(r.errors),
      bytes_in: Number(r.bytes_in),
      bytes_out: Number(r.bytes_out),
      latency_sum: Number(r.latency_sum),
    }));
  },

  /** Newest failed requests (status >= 400) from the raw records. `keyIds: []` matches nothing. */
  async recentErrors(
    db: Executor,
    f: { apiId?: string; developerId?: string; keyIds?: string[]; since?: number; limit: number },
  ): Promise<AnalyticsRecordsTable[]> {
    let q = db.selectFrom('analytics_records').selectAll().where('status', '>=', 400);
    if (f.apiId !== undefined) q = q.where('api_id', '=', f.apiId);
    if (f.developerId !== undefined) q = q.where('developer_id', '=', f.developerId);
    if (f.keyIds !== undefined) q = q.where('key_id', 'in', f.keyIds);
    if (f.since !== undefined) q = q.where('at', '>=', f.since);
    return q.orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  },

  /** Deletes at most `limit` raw records older than `before`; returns how many. */
  deleteRecordsBefore(db: Executor, before: number, limit: number): Promise<number> {
    return deleteOldest(db, 'analytics_records', 'at', before, limit);
  },

  /** Oldest stored bucket of a resolution, or null. */
  async oldestBucket(db: Executor, resolution: 'minute' | 'hour'): Promise<number | null> {
    const row = await db
      .selectFrom('analytics_rollups')
      .select((eb) => eb.fn.min<number>('bucket').as('oldest'))
      .where('resolution', '=', resolution)
      .executeTakeFirst();
    return row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest);
  },

  /** Deletes rollups of one resolution with `from <= bucket < to`; returns how many. */
  async deleteRollupsBetween(db: Executor, resolution: 'minute' | 'hour', from: number, to: number): Promise<number> {
    const result = await db
      .deleteFrom('analytics_rollups')
      .where('resolution', '=', resolution)
      .where('bucket', '>=', from)
      .where('bucket', '<', to)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

/** Deletes at most `limit` rows of `table` whose `column` (a time) is before `before`, oldest first; returns how many. */
async function deleteOldest(
  db: Executor,
  table: 'analytics_records' | 'analytics_record_chunks',
  column: 'at' | 'last_at',
  before: number,
  limit: number,
): Promise<number> {
  const time = sql.ref(column);
  const result = await db
    .deleteFrom(table)
    .where('id', 'in', (eb) =>
      eb.selectFrom(table).select('id').where(time, '<', before).orderBy(time).orderBy('id').limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
