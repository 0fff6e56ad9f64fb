import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { bucketIndex, emptyHistogram } from './analytics.histogram.js';
import { RawRecordBuffer, type PackedRecords } from './analytics.buffer.js';
import type { RollupDelta } from './analytics.repository.js';
import type { AnalyticsSink, RequestRecord } from './analytics.types.js';
import { whole } from './analytics.chunks.js';
import type { AnalyticsWriter } from './analytics.writer.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The part of a pino logger the recorder uses. */
export interface AnalyticsLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AnalyticsRecorderOptions {
  /** Where batches are written (analytics.writer.ts); closed by the recorder's `close()`. */
  writer: AnalyticsWriter;
  /** Raw records held in memory at most (config `analytics_buffer_size`); beyond it they are dropped and counted. */
  bufferSize: number;
  /** Flush period (config `analytics_flush_ms`); 0 = no timer, flush only on `flush()`/`close()`. */
  flushMs: number;
  /** Raw records older than this are deleted (config `analytics_raw_retention_hours`); 0 = raw records are not kept at all. */
  rawRetentionHours: number;
  logger: AnalyticsLogger;
  now?: () => number;
  /** Minute rollups older than this are deleted; hour rollups are kept. Default 7. */
  minuteRetentionDays?: number;
  /** How often retention runs, from the flush loop; 0 = never (run `pruneAnalytics` elsewhere). Default 10 minutes. */
  pruneEveryMs?: number;
  /**
   * Raw records written per transaction. A flush with a larger backlog writes several
   * transactions and yields to the event loop between them, so that no single write
   * holds SQLite's one write lock (or, with an inline writer, the gateway's thread) for
   * long. Default 500 (≈ 3–15 ms on SQLite on this machine kind; see the timing test in
   * test/integration/analytics.test.ts).
   */
  maxRecordsPerTransaction?: number;
  /** Minute aggregates written per transaction (each also feeds an hour row); the rest goes in the next one. Default 200 (≈ 400 rollup rows with their hour rows). */
  maxAggregatesPerTransaction?: number;
  /** Distinct (minute × api × key × developer × status) aggregates held at most; requests beyond it are counted in `droppedHits`. Default 100,000. */
  maxAggregates?: number;
}

export interface AnalyticsRecorderStats {
  /** Raw records waiting to be written. */
  buffered: number;
  /** Requests aggregated in memory, not yet written to the rollups. */
  pending: number;
  /** Raw records dropped because the buffer was full (the request still counts in the rollups). */
  dropped: number;
  /** Requests not counted at all (the aggregate map was full, or the record was unreadable). */
  droppedHits: number;
  /** Requests written to the rollups since start. */
  flushed: number;
  /** Raw records written since start. */
  flushedRecords: number;
  /** Consecutive failed flushes (0 after a good one). */
  failures: number;
  /** Epoch ms of the last successful flush. */
  lastFlushAt: number | null;
  /** Duration of the last successful flush transaction, ms. */
  lastFlushMs: number | null;
  /** Message of the last failure, cleared by a successful flush. */
  lastError: string | null;
}

export interface AnalyticsRecorder extends AnalyticsSink {
  /** O(1); never throws, never waits. Keeps a reference to `record`: do not mutate it afterwards. */
  record(record: RequestRecord): void;
  /** Writes everything recorded so far. Rejects if the database refused; what was not written is kept for the next try. */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is left (shutdown: call last). Rejects if that final flush fails. */
  close(): Promise<void>;
  stats(): AnalyticsRecorderStats;
}

/** In-memory aggregate of one minute × api × key × developer × status. */
interface Aggregate {
  bucket: number;
  apiId: string;
  keyId: string;
  developerId: string;
  status: number;
  hits: number;
  successes: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latencySum: number;
  latencyMin: number;
  latencyMax: number;
  upstreamLatencySum: number;
  histogram: number[];
}

function addInto(target: Aggregate, source: Aggregate): void {
  target.hits += source.hits;
  target.successes += source.successes;
  target.errors += source.errors;
  target.bytesIn += source.bytesIn;
  target.bytesOut += source.bytesOut;
  target.latencySum += source.latencySum;
  if (source.latencyMin < target.latencyMin) target.latencyMin = source.latencyMin;
  if (source.latencyMax > target.latencyMax) target.latencyMax = source.latencyMax;
  target.upstreamLatencySum += source.upstreamLatencySum;
  for (let i = 0; i < source.histogram.length; i++)
    target.histogram[i] = (target.histogram[i] ?? 0) + (source.histogram[i] ?? 0);
}

function toDelta(resolution: 'minute' | 'hour', bucket: number, a: Aggregate): RollupDelta {
  return {
    resolution,
    bucket,
    api_id: a.apiId,
    key_id: a.keyId,
    developer_id: a.developerId,
    status: a.status,
    hits: a.hits,
    successes: a.successes,
    errors: a.errors,
    bytes_in: a.bytesIn,
    bytes_out: a.bytesOut,
    latency_sum: a.latencySum,
    latency_min: a.latencyMin,
    latency_max: a.latencyMax,
    upstream_latency_sum: a.upstreamLatencySum,
    histogram: a.histogram,
  };
}

/** Minute rows as aggregated, plus hour rows folded from them. */
function rollupDeltas(aggregates: Iterable<Aggregate>): RollupDelta[] {
  const out: RollupDelta[] = [];
  const hours = new Map<string, Aggregate>();
  for (const a of aggregates) {
    out.push(toDelta('minute', a.bucket, a));
    const hour = a.bucket - (a.bucket % HOUR_MS);
    const key = `${hour}\u0000${a.apiId}\u0000${a.keyId}\u0000${a.developerId}\u0000${a.status}`;
    const h = hours.get(key);
    if (h) addInto(h, a);
    else hours.set(key, { ...a, bucket: hour, histogram: [...a.histogram] });
  }
  for (const h of hours.values()) out.push(toDelta('hour', h.bucket, h));
  return out;
}

/**
 * The gateway's analytics sink (DESIGN §7). `record()` only touches memory: it adds the
 * request to its minute aggregate and appends the raw record to a bounded buffer. A
 * timer hands both to the writer, one transaction per batch: a backlog goes in bounded
 * batches (500 raw records, 200 aggregates) with a yield to the event loop between them.
 *
 * Where the transaction runs is the writer's business (analytics.writer.ts): on SQLite
 * a worker thread with its own connection, because better-sqlite3 runs every insert on
 * the calling thread (raw records cost ≈ 5–7 µs a row, mostly index upkeep; 500 of them
 * stalled the gateway 3–15 ms per flush); on PostgreSQL the calling thread, whose
 * driver waits asynchronously. The recorder never writes to the database itself.
 */
export function createAnalyticsRecorder(options: AnalyticsRecorderOptions): AnalyticsRecorder {
  const { writer, logger } = options;
  const now = options.now ?? Date.now;
  const capacity = Math.max(0, Math.floor(options.bufferSize));
  const keepRaw = options.rawRetentionHours > 0;
  const maxPerTransaction = Math.max(1, options.maxRecordsPerTransaction ?? 500);
  const maxAggregatesPerTransaction = Math.max(1, options.maxAggregatesPerTransaction ?? 200);
  const maxAggregates = Math.max(1, options.maxAggregates ?? 100_000);
  const pruneEveryMs = options.pruneEveryMs ?? 10 * MINUTE_MS;
  const minuteRetentionDays = options.minuteRetentionDays ?? 7;

  let aggregates = new Map<string, Aggregate>();
  /**
   * The aggregate the previous record went into. A busy key sends run after run of
   * records with the same minute × api × key × status: those reuse it without building
   * the key string or looking it up (≈ 0.3–0.5 µs of the ~1 µs record() cost at 6k
   * req/s on this machine). Cleared whenever aggregates leave the map.
   */
  let last: Aggregate | null = null;
  let pendingHits = 0;
  const raw = new RawRecordBuffer(capacity, maxPerTransaction);

  const counters = { dropped: 0, droppedHits: 0, flushed: 0, flushedRecords: 0, failures: 0 };
  let lastFlushAt: number | null = null;
  let lastFlushMs: number | null = null;
  let lastError: string | null = null;
  let lastPruneAt = now();

  /** Every flush and prune runs on this chain, one at a time. */
  let chain: Promise<void> = Promise.resolve();
  let timerBusy = false;

  function record(rec: RequestRecord): void {
    try {
      const at = rec.at;
      // A malformed record would fail every later flush (NOT NULL columns): refuse it here.
      if (
        typeof at !== 'number' ||
        typeof rec.apiId !== 'string' ||
        typeof rec.keyId !== 'string' ||
        typeof rec.developerId !== 'string'
      ) {
        counters.droppedHits++;
        return;
      }
      const bucket = at - (at % MINUTE_MS);
      const status = rec.status | 0;
      const latency = whole(rec.latencyMs);
      let a =
        last !== null &&
        last.bucket === bucket &&
        last.status === status &&
        last.apiId === rec.apiId &&
        last.keyId === rec.keyId &&
        last.developerId === rec.developerId
          ? last
          : // One string per request is the price of a flat Map; nested Maps cost more look-ups.
            aggregates.get(`${bucket}\u0000${rec.apiId}\u0000${rec.keyId}\u0000${rec.developerId}\u0000${status}`);
      if (a === undefined) {
        const key = `${bucket}\u0000${rec.apiId}\u0000${rec.keyId}\u0000${rec.developerId}\u0000${status}`;
        if (aggregates.size >= maxAggregates || !Number.isFinite(bucket)) {
          counters.droppedHits++;
          return;
        }
        a = {
          bucket,
          apiId: rec.apiId,
          keyId: rec.keyId,
          developerId: rec.developerId,
          status,
          hits: 0,
          successes: 0,
          errors: 0,
          bytesIn: 0,
          bytesOut: 0,
          latencySum: 0,
          latencyMin: latency,
          latencyMax: latency,
          upstreamLatencySum: 0,
          histogram: emptyHistogram(),
        };
        aggregates.set(key, a);
      }
      last = a;
      a.hits++;
      if (status >= 200 && status < 300) a.successes++;
      else if (status >= 400) a.errors++;
      a.bytesIn += whole(rec.bytesIn);
      a.bytesOut += whole(rec.bytesOut);
      a.latencySum += latency;
      if (latency < a.latencyMin) a.latencyMin = latency;
      if (latency > a.latencyMax) a.latencyMax = latency;
      a.upstreamLatencySum += whole(rec.upstreamLatencyMs);
      const i = bucketIndex(latency);
      a.histogram[i] = (a.histogram[i] ?? 0) + 1;
      pendingHits++;

      if (keepRaw) {
        if (!raw.push(rec)) counters.dropped++;
      }
    } catch {
      // Never let analytics fail a request (AnalyticsSink contract).
      counters.droppedHits++;
    }
  }

  /** Puts a failed batch back: aggregates merge into whatever arrived since; raw records go first in line, the buffer bound still holds. */
  function restore(groups: Map<string, Aggregate>, hits: number, records: PackedRecords | null): void {
    last = null;
    for (const [key, a] of groups) {
      const current = aggregates.get(key);
      if (current) addInto(current, a);
      else aggregates.set(key, a);
    }
    pendingHits += hits;
    if (records) counters.dropped += raw.restore(records);
  }

  /** Takes up to `maxAggregatesPerTransaction` aggregates out of memory (usually all of them). */
  function takeAggregates(): { groups: Map<string, Aggregate>; hits: number } {
    last = null;
    if (aggregates.size <= maxAggregatesPerTransaction) {
      const taken = { groups: aggregates, hits: pendingHits };
      aggregates = new Map();
      pendingHits = 0;
      return taken;
    }
    // A backlog (after an outage, or very many keys): oldest first, the rest next time.
    const groups = new Map<string, Aggregate>();
    let hits = 0;
    for (const [key, a] of aggregates) {
      if (groups.size >= maxAggregatesPerTransaction) break;
      groups.set(key, a);
      hits += a.hits;
    }
    for (const key of groups.keys()) aggregates.delete(key);
    pendingHits -= hits;
    return { groups, hits };
  }

  /** One transaction: up to `maxAggregatesPerTransaction` aggregates and `maxPerTransaction` raw records. */
  async function flushBatch(): Promise<void> {
    if (aggregates.size === 0 && raw.size === 0) return;
    const { groups, hits } = takeAggregates();
    const records = raw.take();

    const started = performance.now();
    try {
      await writer.write(rollupDeltas(groups.values()), records);
    } catch (error) {
      restore(groups, hits, records);
      counters.failures++;
      lastError = error instanceof Error ? error.message : String(error);
      // Log the first failure and then every 60th, not once per tick while the database is down.
      if (counters.failures === 1 || counters.failures % 60 === 0) {
        logger.warn(
          { err: error, failures: counters.failures, buffered: raw.size, pending: pendingHits },
          'analytics flush failed; will retry',
        );
      }
      throw error;
    }
    lastFlushMs = performance.now() - started;
    lastFlushAt = now();
    if (counters.failures > 0) logger.warn({ failures: counters.failures }, 'analytics flush recovered');
    counters.failures = 0;
    lastError = null;
    counters.flushed += hits;
    counters.flushedRecords += records ? records.count : 0;
  }

  /** Batches until what was buffered when it started is written (later arrivals wait for the next tick). */
  async function flushAll(): Promise<void> {
    let batches =
      Math.max(Math.ceil(raw.size / maxPerTransaction), Math.ceil(aggregates.size / maxAggregatesPerTransaction)) + 1;
    do {
      await flushBatch();
      if (raw.size === 0 && aggregates.size === 0) return;
      await yieldToEventLoop();
    } while (--batches > 0);
  }

  async function pruneIfDue(): Promise<void> {
    if (pruneEveryMs <= 0 || now() - lastPruneAt < pruneEveryMs) return;
    lastPruneAt = now();
    try {
      await writer.prune({ now: now(), rawRetentionHours: options.rawRetentionHours, minuteRetentionDays });
    } catch (error) {
      logger.warn({ err: error }, 'analytics retention failed; will retry');
    }
  }

  function enqueue(task: () => Promise<void>): Promise<void> {
    const run = chain.then(task);
    // The chain itself must survive a failed task.
    chain = run.catch(() => undefined);
    return run;
  }

  const timer =
    options.flushMs > 0
      ? setInterval(() => {
          if (timerBusy) return;
          timerBusy = true;
          void enqueue(async () => {
            await flushAll();
            await pruneIfDue();
          })
            .catch(() => undefined) // logged in flushBatch; kept for the next tick
            .finally(() => {
              timerBusy = false;
            });
        }, options.flushMs)
      : null;
  // Analytics alone must not keep the process alive.
  timer?.unref();

  return {
    record,
    flush: () => enqueue(flushAll),
    async close() {
      if (timer) clearInterval(timer);

      try {
        await enqueue(async () => {
          // Drain everything, however many transactions it takes.
          while (raw.size > 0 || aggregates.size > 0) await flushAll();
        });
      } finally {
        await writer.close();
      }
    },
    stats: () => ({
      buffered: raw.size,
      pending: pendingHits,
      dropped: counters.dropped,
      droppedHits: counters.droppedHits,
      flushed: counters.flushed,
      flushedRecords: counters.flushedRecords,
      failures: counters.failures,
      lastFlushAt,
      lastFlushMs,
      lastError,
    }),
  };
}
