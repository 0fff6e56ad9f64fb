import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  analyticsQuery,
  bucketIndex,
  createAnalyticsRecorder,
  HISTOGRAM_SIZE,
  inlineAnalyticsWriter,
  listRecords,
  packRecords,
  threadAnalyticsWriter,
  pruneAnalytics,
  recentErrors,
  statusBreakdown,
  topConsumers,
  type AnalyticsLogger,
  type AnalyticsRecorderOptions,
  type RequestRecord,
} from '../../src/modules/analytics/index.js';
import type { Database } from '../../src/modules/database.js';
import { openDatabase, type DatabaseHandle } from '../../src/platform/db/index.js';
import { isAppError } from '../../src/shared/errors.js';
import { createTestDatabase, dialects, type TestDatabase } from '../helpers/db.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** A fixed, hour-aligned start so buckets are predictable. */
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

const silent: AnalyticsLogger = { warn: () => undefined, error: () => undefined };

function req(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    at: T0,
    apiId: 'api_a',
    keyId: 'key_1',
    developerId: 'dev_1',
    method: 'GET',
    path: '/pets',
    status: 200,
    code: null,
    latencyMs: 12,
    upstreamLatencyMs: 10,
    bytesIn: 100,
    bytesOut: 1000,
    ...overrides,
  };
}

/** The longest time between two turns of the event loop while it runs: how long the gateway would stall. */
function stallProbe(): { stop(): Promise<number> } {
  let max = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    async stop() {
      await new Promise((resolve) => setImmediate(resolve));
      running = false;
      return max;
    },
  };
}

function recorderOn(
  db: DatabaseHandle<Database>['db'],
  { nodeId = 'node-test', ...overrides }: Partial<AnalyticsRecorderOptions> & { nodeId?: string } = {},
) {
  return createAnalyticsRecorder({
    writer: inlineAnalyticsWriter(db, nodeId),
    bufferSize: 100_000,
    flushMs: 0,
    rawRetentionHours: 24,
    logger: silent,
    pruneEveryMs: 0,
    ...overrides,
  });
}

/** A deterministic spread of requests over 3 hours, 2 APIs, 3 keys (one keyless), 6 statuses. */
function syntheticRecords(n: number, seed = 1): RequestRecord[] {
  const statuses = [200, 201, 204, 302, 404, 429, 500, 502];
  const keys = [
    { keyId: 'key_1', developerId: 'dev_1' },
    { keyId: 'key_2', developerId: 'dev_1' },
    { keyId: 'key_3', developerId: 'dev_2' },
    { keyId: '', developerId: '' },
  ];
  const out: RequestRecord[] = [];
  let x = seed;
  const rnd = () => {
    // xorshift: same data on every run and dialect
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  for (let i = 0; i < n; i++) {
    const k = keys[Math.floor(rnd() * keys.length)]!;
    out.push(
      req({
        at: T0 + Math.floor(rnd() * 3 * HOUR),
        apiId: rnd() < 0.6 ? 'api_a' : 'api_b',
        ...k,
        status: statuses[Math.floor(rnd() * statuses.length)]!,
        latencyMs: 1 + Math.floor(rnd() * 3000),
        upstreamLatencyMs: Math.floor(rnd() * 100),
        bytesIn: Math.floor(rnd() * 500),
        bytesOut: Math.floor(rnd() * 5000),
        path: `/p/${i}`,
      }),
    );
  }
  return out;
}

interface Expected {
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_min_ms: number | null;
  latency_max_ms: number | null;
}

function expect(records: RequestRecord[]): Expected {
  const e: Expected = {
    hits: 0,
    successes: 0,
    errors: 0,
    bytes_in: 0,
    bytes_out: 0,
    latency_min_ms: null,
    latency_max_ms: null,
  };
  for (const r of records) {
    e.hits++;
    if (r.status >= 200 && r.status < 300) e.successes++;
    if (r.status >= 400) e.errors++;
    e.bytes_in += r.bytesIn;
    e.bytes_out += r.bytesOut;
    e.latency_min_ms = e.latency_min_ms === null ? r.latencyMs : Math.min(e.latency_min_ms, r.latencyMs);
    e.latency_max_ms = e.latency_max_ms === null ? r.latencyMs : Math.max(e.latency_max_ms, r.latencyMs);
  }
  return e;
}

function pick(t: Expected & Record<string, unknown>): Expected {
  return {
    hits: t.hits,
    successes: t.successes,
    errors: t.errors,
    bytes_in: t.bytes_in,
    bytes_out: t.bytes_out,
    latency_min_ms: t.latency_min_ms,
    latency_max_ms: t.latency_max_ms,
  };
}

/** Requests in the raw request log (every chunk's count). */
async function countRecords(db: DatabaseHandle<Database>['db']): Promise<number> {
  const row = await db
    .selectFrom('analytics_record_chunks')
    .select((eb) => eb.fn.sum<number>('count').as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}

/** Failed requests kept one per row. */
async function countErrorRows(db: DatabaseHandle<Database>['db']): Promise<number> {
  const row = await db
    .selectFrom('analytics_records')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function validationFields(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.status, 400);
    return (error.details as { fields: Array<{ field: string }> }).fields.map((f) => f.field);
  }
  assert.fail('expected a validation error');
}

for (const dialect of dialects()) {
  void describe(`analytics on ${dialect}`, () => {
    const opened: Array<{ destroy(): Promise<void> }> = [];
    after(async () => {
      for (const d of opened.reverse()) await d.destroy();
    });
    async function freshDb(): Promise<TestDatabase> {
      const t = await createTestDatabase(dialect);
      opened.push(t);
      return t;
    }

    void test('a flush writes exact minute and hour rollups; series and totals match the input', async () => {
      const t = await freshDb();
      const records = syntheticRecords(3_000);
      const recorder = recorderOn(t.db);
      for (const r of records) recorder.record(r);
      assert.equal(recorder.stats().pending, 3_000);
      await recorder.flush();
      const stats = recorder.stats();
      assert.equal(stats.flushed, 3_000);
      assert.equal(stats.flushedRecords, 3_000);
      assert.equal(stats.pending, 0);
      assert.equal(stats.buffered, 0);
      assert.equal(stats.lastError, null);
      assert.ok(stats.lastFlushAt !== null);
      assert.equal(await countRecords(t.db), 3_000);

      const range = { from: T0, to: T0 + 3 * HOUR };
      const minute = await analyticsQuery(t.db, { ...range, resolution: 'minute' });
      const hour = await analyticsQuery(t.db, { ...range, resolution: 'hour' });
      const day = await analyticsQuery(t.db, { ...range, resolution: 'day' });
      const want = expect(records);
      assert.deepEqual(pick(minute.totals as never), want);
      assert.deepEqual(pick(hour.totals as never), want);
      assert.deepEqual(pick(day.totals as never), want);
      assert.equal(minute.series.length, 180);
      assert.equal(hour.series.length, 3);
      assert.equal(day.series.length, 1);
      assert.equal(day.series[0]!.t, '2026-12-01T00:00:00.000Z');

      // Every minute and hour point equals the records in it.
      for (const [i, p] of minute.series.entries()) {
        const inIt = records.filter((r) => r.at >= T0 + i * MINUTE && r.at < T0 + (i + 1) * MINUTE);
        const e = expect(inIt);
        assert.equal(p.t, new Date(T0 + i * MINUTE).toISOString());
        assert.deepEqual(
          [p.hits, p.successes, p.errors, p.bytes_in, p.bytes_out],
          [e.hits, e.successes, e.errors, e.bytes_in, e.bytes_out],
        );
      }
      for (const [i, p] of hour.series.entries()) {
        const e = expect(records.filter((r) => r.at >= T0 + i * HOUR && r.at < T0 + (i + 1) * HOUR));
        assert.deepEqual(
          [p.hits, p.successes, p.errors, p.bytes_in, p.bytes_out],
          [e.hits, e.successes, e.errors, e.bytes_in, e.bytes_out],
        );
      }

      // Filters and groups.
      const forKey = await analyticsQuery(t.db, { ...range, resolution: 'hour', keyId: 'key_2' });
      assert.deepEqual(pick(forKey.totals as never), expect(records.filter((r) => r.keyId === 'key_2')));
      const forDev = await analyticsQuery(t.db, {
        ...range,
        resolution: 'hour',
        keyIds: ['key_1', 'key_2'],
        apiId: 'api_b',
      });
      assert.deepEqual(
        pick(forDev.totals as never),
        expect(records.filter((r) => ['key_1', 'key_2'].includes(r.keyId) && r.apiId === 'api_b')),
      );
      const byDeveloper = await analyticsQuery(t.db, { ...range, resolution: 'hour', developerId: 'dev_2' });
      assert.equal(byDeveloper.totals.hits, records.filter((r) => r.developerId === 'dev_2').length);

      const byStatus = await analyticsQuery(t.db, { ...range, resolution: 'minute', groupBy: 'status' });
      const statuses = [...new Set(records.map((r) => r.status))];
      assert.equal(byStatus.groups!.length, statuses.length);
      for (const g of byStatus.groups!)
        assert.deepEqual(pick(g as never), expect(records.filter((r) => String(r.status) === g.key)));
      const hitsSorted = byStatus.groups!.map((g) => g.hits);
      assert.deepEqual(
        hitsSorted,
        [...hitsSorted].sort((a, b) => b - a),
      );
      const byKey = await analyticsQuery(t.db, { ...range, resolution: 'hour', groupBy: 'key', groupLimit: 2 });
      assert.equal(byKey.groups!.length, 2);

      // The other views.
      const top = await topConsumers(t.db, { ...range, limit: 2 });
      assert.equal(top.length, 2);
      for (const c of top) assert.equal(c.hits, records.filter((r) => r.keyId === c.key_id).length);
      assert.ok(top[0]!.hits >= top[1]!.hits);
      const topDevs = await topConsumers(t.db, { ...range, by: 'developer' });
      assert.deepEqual(
        topDevs.map((d) => [d.developer_id, d.hits, d.key_id]).sort(),
        ['dev_1', 'dev_2'].map((d) => [d, records.filter((r) => r.developerId === d).length, null]).sort(),
      );

      const breakdown = await statusBreakdown(t.db, { ...range, apiId: 'api_a' });
      const apiA = records.filter((r) => r.apiId === 'api_a');
      assert.equal(breakdown.total, apiA.length);
      assert.equal(breakdown.classes['2xx'], apiA.filter((r) => r.status >= 200 && r.status < 300).length);
      assert.equal(breakdown.classes['5xx'], apiA.filter((r) => r.status >= 500).length);
      assert.deepEqual(
        breakdown.statuses.map((s) => s.status),
        [...new Set(apiA.map((r) => r.status))].sort((a, b) => a - b),
      );

      const errorsForDev = await recentErrors(t.db, { developerId: 'dev_2', limit: 5 });
      const wantErrors = records
        .filter((r) => r.developerId === 'dev_2' && r.status >= 400)
        .sort((a, b) => b.at - a.at)
        .slice(0, 5);
      assert.deepEqual(
        errorsForDev.map((e) => [e.at, e.status]),
        wantErrors.map((r) => [new Date(r.at).toISOString(), r.status]),
      );
      const errorsForKeys = await recentErrors(t.db, { keyIds: ['key_1'], limit: 100 });
      assert.ok(errorsForKeys.every((e) => e.key_id === 'key_1' && e.status >= 400));
      assert.deepEqual(await recentErrors(t.db, { keyIds: [] }), []);
      await recorder.close();
    });

    void test('the writer thread writes the same rollups and raw records on its own connection, then ends', async () => {
      const t = await freshDb();
      const records = syntheticRecords(3_000, 7);
      const recorder = recorderOn(t.db, {
        writer: threadAnalyticsWriter({ databaseUrl: t.url, nodeId: 'node-thread', logger: silent }),
      });
      for (const r of records) recorder.record(r);
      await recorder.flush();
      assert.deepEqual([recorder.stats().flushed, recorder.stats().flushedRecords], [3_000, 3_000]);
      const range = { from: T0, to: T0 + 3 * HOUR };
      assert.deepEqual(
        pick((await analyticsQuery(t.db, { ...range, resolution: 'minute' })).totals as never),
        expect(records),
      );
      assert.deepEqual(
        pick((await analyticsQuery(t.db, { ...range, resolution: 'hour' })).totals as never),
        expect(records),
      );
      const nodes = await t.db.selectFrom('analytics_record_chunks').select('node_id').distinct().execute();
      assert.deepEqual(nodes, [{ node_id: 'node-thread' }]);
      assert.equal(await countErrorRows(t.db), records.filter((r) => r.status >= 400).length);
      // What close() drains goes through the thread too, and the thread ends with it.
      recorder.record(req({ at: T0 + 5 * HOUR }));
      await recorder.close();
      assert.equal(await countRecords(t.db), 3_001);
    });

    void test('a batch the writer thread cannot write is kept, and written once the database accepts it', async () => {
      const t = await freshDb();
      // The raw records' table moved away: every write fails at its inserts until it is back.
      await t.db.schema.alterTable('analytics_records').renameTo('analytics_records_away').execute();
      const recorder = recorderOn(t.db, {
        writer: threadAnalyticsWriter({ databaseUrl: t.url, nodeId: 'node-thread', logger: silent }),
      });
      const records = syntheticRecords(700, 9);
      for (const r of records) recorder.record(r);
      await assert.rejects(recorder.flush(), /analytics_records/);
      const failed = recorder.stats();
      assert.deepEqual([failed.pending, failed.buffered, failed.flushed, failed.failures], [700, 700, 0, 1]);
      // Nothing of the failed batch was half-written: its rollups were rolled back with it.
      assert.equal((await t.db.selectFrom('analytics_rollups').select('hits').execute()).length, 0);
      await t.db.schema.alterTable('analytics_records_away').renameTo('analytics_records').execute();
      await recorder.flush();
      assert.deepEqual([recorder.stats().pending, recorder.stats().buffered, recorder.stats().failures], [0, 0, 0]);
      assert.equal(await countRecords(t.db), 700);
      const totals = await analyticsQuery(t.db, { from: T0, to: T0 + 3 * HOUR, resolution: 'hour' });
      assert.deepEqual(pick(totals.totals as never), expect(records));
      await recorder.close();
    });

    void test('a read-then-write transaction on the main connection and the writer thread both succeed', async () => {
      const t = await freshDb();
      const writer = threadAnalyticsWriter({ databaseUrl: t.url, nodeId: 'node-thread', logger: silent });
      await writer.open();
      const written: Array<Promise<void>> = [];
      // On SQLite a deferred transaction here would fail with SQLITE_BUSY_SNAPSHOT when
      // the thread commits between its read and its write; it must take the lock first.
      await t.db.transaction().execute(async (trx) => {
        await trx.selectFrom('analytics_records').select('id').execute();
        written.push(writer.write([], packRecords(syntheticRecords(200, 5))));
        await sleep(100);
        await trx.insertInto('meta').values({ key: 'probe', value: 'x', updated_at: T0 }).execute();
      });
      await Promise.all(written);
      assert.equal(await countRecords(t.db), 200);
      await writer.close();
    });

    void test('the request log lists every request in range, filtered, page by page', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db, { maxRecordsPerTransaction: 100 });
      const records = syntheticRecords(1_234, 21);
      for (const r of records) recorder.record(r);
      await recorder.close();
      assert.equal(
        await t.db
          .selectFrom('analytics_record_chunks')
          .select('id')
          .execute()
          .then((r) => r.length),
        13,
      );
      const line = (r: { at: number | string; key_id?: string; keyId?: string; path: string; status: number }) =>
        `${typeof r.at === 'number' ? r.at : Date.parse(r.at)} ${r.keyId ?? r.key_id} ${r.path} ${r.status}`;

      async function all(input: Omit<Parameters<typeof listRecords>[1], 'cursor'>): Promise<string[]> {
        const out: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const result = await listRecords(t.db, { ...input, cursor });
          out.push(...result.data.map(line));
          if (result.next_cursor === null) return out.sort();
          cursor = result.next_cursor;
        }
        assert.fail('the cursor never ended');
      }
      const from = T0 + HOUR;
      const to = T0 + 2 * HOUR;
      const inRange = records.filter((r) => r.at >= from && r.at < to);
      assert.deepEqual(await all({ from, to, limit: 37 }), inRange.map((r) => line({ ...r, key_id: r.keyId })).sort());
      const filtered = inRange.filter((r) => r.keyId === 'key_2' && r.status === 429);
      assert.ok(filtered.length > 0);
      assert.deepEqual(
        await all({ from, to, keyId: 'key_2', status: 429 }),
        filtered.map((r) => line({ ...r, key_id: r.keyId })).sort(),
      );
      const first = await listRecords(t.db, { from, to, limit: 1 });
      assert.equal(first.data[0]?.node_id, 'node-test');
      assert.deepEqual(await validationFields(listRecords(t.db, { from, to, cursor: '%%' })), ['cursor']);
      assert.deepEqual(await validationFields(listRecords(t.db, { from, to, status: 42 })), ['status']);
      assert.deepEqual(await validationFields(listRecords(t.db, { from, to, limit: 5_000 })), ['limit']);
    });

    void test('two gateway nodes flushing concurrently: nothing lost, nothing counted twice', async () => {
      const t = await freshDb();
      // SQLite is a single-node deployment: both recorders share the process's one
      // connection. On PostgreSQL each "node" gets its own pool, as separate hosts would.
      const second = dialect === 'postgres' ? openDatabase<Database>(t.url) : null;
      if (second) opened.push({ destroy: () => second.close() });
      const a = recorderOn(t.db, { nodeId: 'node-a' });
      const b = recorderOn(second?.db ?? t.db, { nodeId: 'node-b' });
      const all: RequestRecord[] = [];
      for (let round = 0; round < 8; round++) {
        // Same minutes, same keys, same statuses on both nodes: every flush hits the same rows.
        const ra = syntheticRecords(400, 1 + round).map((r) => ({ ...r, at: T0 + (r.at % (5 * MINUTE)) }));
        const rb = syntheticRecords(400, 101 + round).map((r) => ({ ...r, at: T0 + (r.at % (5 * MINUTE)) }));
        for (const r of ra) a.record(r);
        for (const r of rb) b.record(r);
        all.push(...ra, ...rb);
        await Promise.all([a.flush(), b.flush()]);
      }
      assert.equal(a.stats().failures + b.stats().failures, 0);
      const result = await analyticsQuery(t.db, { from: T0, to: T0 + HOUR, resolution: 'minute' });
      assert.deepEqual(pick(result.totals as never), expect(all));
      const hourly = await analyticsQuery(t.db, { from: T0, to: T0 + HOUR, resolution: 'hour' });
      assert.deepEqual(pick(hourly.totals as never), expect(all));
      // Each stored histogram still adds up to its row's hits (the read-modify-write lost nothing).
      const rows = await t.db.selectFrom('analytics_rollups').select(['hits', 'histogram']).execute();
      for (const row of rows) {
        const counts = JSON.parse(row.histogram) as number[];
        assert.equal(counts.length, HISTOGRAM_SIZE);
        assert.equal(
          counts.reduce((s, c) => s + c, 0),
          Number(row.hits),
        );
      }
      assert.equal(await countRecords(t.db), all.length);
      const nodes = await t.db
        .selectFrom('analytics_record_chunks')
        .select('node_id')
        .distinct()
        .orderBy('node_id')
        .execute();
      assert.deepEqual(
        nodes.map((n) => n.node_id),
        ['node-a', 'node-b'],
      );
    });

    void test('a full buffer drops raw records and counts them; rollups still count every request', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db, { bufferSize: 100 });
      for (let i = 0; i < 150; i++) recorder.record(req({ at: T0 + i }));
      assert.deepEqual([recorder.stats().buffered, recorder.stats().dropped, recorder.stats().pending], [100, 50, 150]);
      await recorder.flush();
      assert.equal(await countRecords(t.db), 100);
      const result = await analyticsQuery(t.db, { from: T0, to: T0 + MINUTE, resolution: 'minute' });
      assert.equal(result.totals.hits, 150);
    });

    void test('a failed flush keeps everything for the next one, with the raw buffer still bounded', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db, { bufferSize: 100 });
      const first = Array.from({ length: 80 }, (_, i) => req({ at: T0 + i * 1000, status: i % 2 ? 200 : 500 }));
      for (const r of first) recorder.record(r);
      // A real failure half-way through the transaction: the rollups upsert succeeds, the
      // raw insert fails, so the whole transaction must roll back.
      await t.db.schema.alterTable('analytics_records').renameTo('analytics_records_away').execute();
      await assert.rejects(recorder.flush());
      let stats = recorder.stats();
      assert.equal(stats.failures, 1);
      assert.ok(stats.lastError);
      assert.deepEqual([stats.pending, stats.buffered, stats.flushed], [80, 80, 0]);
      const none = await analyticsQuery(t.db, { from: T0, to: T0 + 2 * MINUTE, resolution: 'minute' });
      assert.equal(none.totals.hits, 0, 'the failed transaction left no rollups behind');

      // More traffic while the database is away: the buffer bound holds.
      const more = Array.from({ length: 50 }, (_, i) => req({ at: T0 + 90_000 + i, latencyMs: 999 }));
      for (const r of more) recorder.record(r);
      stats = recorder.stats();
      assert.deepEqual([stats.pending, stats.buffered, stats.dropped], [130, 100, 30]);

      await t.db.schema.alterTable('analytics_records_away').renameTo('analytics_records').execute();
      await recorder.flush();
      stats = recorder.stats();
      assert.deepEqual(
        [stats.pending, stats.buffered, stats.failures, stats.lastError, stats.flushed],
        [0, 0, 0, null, 130],
      );
      const result = await analyticsQuery(t.db, { from: T0, to: T0 + 2 * MINUTE, resolution: 'minute' });
      assert.deepEqual(pick(result.totals as never), expect([...first, ...more]));
      assert.equal(await countRecords(t.db), 100);
    });

    void test('close() drains everything, across several transactions; the timer flushes on its own', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db, { maxRecordsPerTransaction: 300 });
      const records = syntheticRecords(1_000, 7);
      for (const r of records) recorder.record(r);
      await recorder.close();
      assert.deepEqual(
        [recorder.stats().buffered, recorder.stats().pending, recorder.stats().flushedRecords],
        [0, 0, 1_000],
      );
      assert.equal(await countRecords(t.db), 1_000);
      const result = await analyticsQuery(t.db, { from: T0, to: T0 + 3 * HOUR, resolution: 'hour' });
      assert.deepEqual(pick(result.totals as never), expect(records));

      const timed = recorderOn(t.db, { flushMs: 20 });
      timed.record(req({ at: T0 + 5 * HOUR }));
      for (let i = 0; i < 100 && timed.stats().flushed === 0; i++) await sleep(10);
      assert.equal(timed.stats().flushed, 1);
      await timed.close();
    });

    void test('raw records of 0 retention hours are not kept at all', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db, { rawRetentionHours: 0 });
      recorder.record(req());
      assert.equal(recorder.stats().buffered, 0);
      await recorder.close();
      assert.equal(await countRecords(t.db), 0);
      assert.equal((await analyticsQuery(t.db, { from: T0, to: T0 + MINUTE, resolution: 'minute' })).totals.hits, 1);
    });

    void test('retention deletes old raw records and old minute rollups only, in bounded batches', async () => {
      const t = await freshDb();
      const now = T0 + 30 * 24 * HOUR;
      const recorder = recorderOn(t.db);
      // Three flushes of 20 records 2 days old (a quarter failed), 10 from the last hour
      // (2 failed), and 5 from 10 days ago: five chunks of the request log.
      for (let f = 0; f < 3; f++) {
        for (let i = 0; i < 20; i++)
          recorder.record(req({ at: now - 48 * HOUR + f * 1000 + i, status: i % 4 === 0 ? 500 : 200 }));
        await recorder.flush();
      }
      for (let i = 0; i < 10; i++) recorder.record(req({ at: now - HOUR + i, status: i < 2 ? 502 : 200 }));
      await recorder.flush();
      for (let i = 0; i < 5; i++) recorder.record(req({ at: now - 10 * 24 * HOUR + i * HOUR }));
      await recorder.close();
      assert.deepEqual([await countRecords(t.db), await countErrorRows(t.db)], [75, 17]);

      const bounded = await pruneAnalytics(t.db, { now, rawRetentionHours: 24, batchSize: 10, maxBatches: 2 });
      // Two DELETEs of each kind at most: failed-request rows 10 + 5, chunks 1 + 1 (a
      // tenth of the batch size each), and two one-hour slices of minute rollups.
      assert.deepEqual(bounded, { records: 15, record_chunks: 2, minute_rollups: 2 });
      assert.deepEqual([await countRecords(t.db), await countErrorRows(t.db)], [50, 2]);

      const rest = await pruneAnalytics(t.db, { now, rawRetentionHours: 24, batchSize: 10 });
      assert.deepEqual(rest, { records: 0, record_chunks: 2, minute_rollups: 3 });
      assert.equal(await countRecords(t.db), 10);
      const left = await t.db.selectFrom('analytics_records').select('at').execute();
      assert.ok(left.every((r) => Number(r.at) >= now - HOUR));
      assert.equal(left.length, 2);

      const minuteRows = await t.db
        .selectFrom('analytics_rollups')
        .select(['bucket'])
        .where('resolution', '=', 'minute')
        .execute();
      assert.ok(minuteRows.every((r) => Number(r.bucket) >= now - 7 * 24 * HOUR));
      const old = await analyticsQuery(t.db, {
        from: now - 10 * 24 * HOUR,
        to: now - 9 * 24 * HOUR,
        resolution: 'hour',
      });
      assert.equal(old.totals.hits, 5, 'hour rollups are kept');
    });

    void test('percentiles come from the merged histograms', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db);
      // Spread over two minutes and two nodes' worth of flushes so histograms are merged in SQL and in the rows.
      for (let i = 0; i < 90; i++) recorder.record(req({ at: T0 + (i % 2) * MINUTE, latencyMs: 3 }));
      await recorder.flush();
      for (let i = 0; i < 5; i++) recorder.record(req({ at: T0 + MINUTE, latencyMs: 40 }));
      for (let i = 0; i < 5; i++) recorder.record(req({ at: T0, latencyMs: 700 }));
      await recorder.flush();
      const r = await analyticsQuery(t.db, { from: T0, to: T0 + 2 * MINUTE, resolution: 'minute' });
      assert.deepEqual([r.totals.latency_p50_ms, r.totals.latency_p95_ms, r.totals.latency_p99_ms], [5, 50, 700]);
      assert.equal(r.totals.latency_avg_ms, (90 * 3 + 5 * 40 + 5 * 700) / 100);
      assert.deepEqual([r.totals.latency_min_ms, r.totals.latency_max_ms], [3, 700]);
      // Minute 1 holds 45 × 3 ms and 5 × 40 ms: its p95 is the 25–50 ms bucket.
      assert.equal(r.series[1]!.latency_p95_ms, 40);
      assert.equal(bucketIndex(40), bucketIndex(50));
    });

    void test('series are zero-filled across [from, to)', async () => {
      const t = await freshDb();
      const recorder = recorderOn(t.db);
      recorder.record(req({ at: T0 + 5 * MINUTE + 30_000 }));
      await recorder.close();
      const r = await analyticsQuery(t.db, {
        from: new Date(T0 + 20_000).toISOString(),
        to: T0 + 10 * MINUTE,
        resolution: 'minute',
      });
      assert.equal(r.from, new Date(T0).toISOString(), 'from is aligned down to its bucket');
      assert.equal(r.series.length, 10);
      assert.deepEqual(
        r.series.map((p) => p.hits),
        [0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
      );
      assert.deepEqual(r.series[0], {
        t: new Date(T0).toISOString(),
        hits: 0,
        successes: 0,
        errors: 0,
        bytes_in: 0,
        bytes_out: 0,
        latency_avg_ms: null,
        latency_p95_ms: null,
      });
      const empty = await analyticsQuery(t.db, { from: T0, to: T0 + 2 * HOUR, resolution: 'hour', keyIds: [] });
      assert.deepEqual(
        empty.series.map((p) => p.hits),
        [0, 0],
      );
      assert.equal(empty.totals.latency_p95_ms, null);
    });

    void test('queries reject bad input with field details', async () => {
      const t = await freshDb();
      assert.deepEqual(await validationFields(analyticsQuery(t.db, { from: T0, to: T0, resolution: 'hour' })), ['to']);
      assert.deepEqual(
        await validationFields(analyticsQuery(t.db, { from: 'yesterday', to: T0, resolution: 'hour' })),
        ['from'],
      );
      assert.deepEqual(
        await validationFields(analyticsQuery(t.db, { from: T0, to: T0 + HOUR, resolution: 'week' as never })),
        ['resolution'],
      );
      assert.deepEqual(
        await validationFields(analyticsQuery(t.db, { from: T0, to: T0 + 3 * 24 * HOUR, resolution: 'minute' })),
        ['resolution'],
      );
      assert.deepEqual(
        await validationFields(
          analyticsQuery(t.db, {
            from: T0,
            to: T0 + HOUR,
            resolution: 'hour',
            groupBy: 'path' as never,
            keyIds: 'key_1' as never,
          }),
        ),
        ['group_by', 'key_ids'],
      );
      // 2,000 points is the ceiling, inclusive.
      const ok = await analyticsQuery(t.db, { from: T0, to: T0 + 2_000 * MINUTE, resolution: 'minute' });
      assert.equal(ok.series.length, 2_000);
      assert.deepEqual(await validationFields(topConsumers(t.db, { from: T0, to: T0 + HOUR, limit: 0 })), ['limit']);
      assert.deepEqual(await validationFields(statusBreakdown(t.db, { from: T0 + HOUR, to: T0 })), ['to']);
      assert.deepEqual(await validationFields(recentErrors(t.db, { limit: 1_000 })), ['limit']);
    });

    void test('flush timing of 5,000 raw records (logged, not asserted)', async (t) => {
      const db = await freshDb();
      const datasets = {
        // One minute of traffic on a busy node: 2 APIs × 4 keys × 8 statuses, so few rollup rows.
        'one busy minute': syntheticRecords(5_000, 42).map((r) => ({ ...r, at: T0 + 4 * HOUR + (r.at % MINUTE) })),
        // Worst case: 5,000 requests spread over 3 hours, nearly one rollup row each.
        'spread over 3 hours': syntheticRecords(5_000, 43).map((r) => ({ ...r, at: r.at + 5 * HOUR })),
      };
      for (const [name, records] of Object.entries(datasets)) {
        const settings: Record<string, () => Partial<AnalyticsRecorderOptions>> = {
          'all in one transaction': () => ({ maxRecordsPerTransaction: 5_000, maxAggregatesPerTransaction: 10_000 }),
          'defaults (500 records / 200 aggregates per transaction)': () => ({}),
          'defaults, from the writer thread': () => ({
            writer: threadAnalyticsWriter({ databaseUrl: db.url, nodeId: 'node-thread', logger: silent }),
          }),
        };
        for (const [setting, overrides] of Object.entries(settings)) {
          const recorder = recorderOn(db.db, overrides());
          for (const r of records) recorder.record({ ...r, path: `${r.path}/${setting.length}` });
          const probe = stallProbe();
          const started = performance.now();
          await recorder.flush();
          const total = performance.now() - started;
          const stall = await probe.stop();
          t.diagnostic(
            `${dialect}, ${name}, ${setting}: flush ${total.toFixed(1)} ms in total, ` +
              `longest event-loop turn ${stall.toFixed(1)} ms`,
          );
          await recorder.close();
        }
      }
    });
  });
}

void describe('analytics with the database unreachable', () => {
  void test('record() never throws, flushes reject and keep everything, failures are logged once', async () => {
    // A real client against a port nothing listens on: what a database outage looks like.
    const handle = openDatabase<Database>('postgres://postgres@127.0.0.1:1/gatehouse');
    const warnings: unknown[] = [];
    const recorder = recorderOn(handle.db, {
      bufferSize: 100,
      logger: { warn: (o) => warnings.push(o), error: () => undefined },
    });
    try {
      recorder.record(req());
      await assert.rejects(recorder.flush());
      await assert.rejects(recorder.flush());
      recorder.record(req({ status: 503 }));
      recorder.record({ nonsense: true } as unknown as RequestRecord);
      const stats = recorder.stats();
      assert.deepEqual(
        [stats.pending, stats.buffered, stats.failures, stats.droppedHits, stats.flushed],
        [2, 2, 2, 1, 0],
      );
      assert.match(stats.lastError ?? '', /ECONNREFUSED|connect/);
      assert.equal(warnings.length, 1, 'the first failure is logged, not every retry');
      await assert.rejects(recorder.close());
      assert.equal(recorder.stats().pending, 2, 'a failed final flush loses nothing it holds');
    } finally {
      await handle.close();
    }
  });
});
