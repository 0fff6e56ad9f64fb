import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../../platform/threads.js';
import type { Db } from '../database.js';
import { analyticsRepository, type RollupDelta } from './analytics.repository.js';
import { pruneAnalytics, type PruneOptions } from './analytics.service.js';
import type { AnalyticsRecordsTable } from './analytics.table.js';
import type { RequestRecord } from './analytics.types.js';

/**
 * Where the recorder's batches go: one transaction per `write` with the rollup deltas
 * and the raw records, or nothing of it. Two implementations, chosen once at boot
 * (runtime): on the calling thread, or on a worker thread with its own connection.
 */
export interface AnalyticsWriter {
  /** Gets ready to write (a writer thread boots and opens its connection); optional, the first write does it too. */
  open(): Promise<void>;
  /** Writes the batch in one transaction; rejects (and writes nothing) if the database refused. */
  write(deltas: RollupDelta[], records: readonly RequestRecord[]): Promise<void>;
  /** Retention: deletes raw records and minute rollups past their age. */
  prune(options: PruneOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * Raw records packed for a thread hop: six numbers and six strings per record. A
 * structured clone of a Float64Array and a flat string array cost the sending thread
 * ≈ 0.3–0.4 µs a record here, against ≈ 1.5 µs for the record objects themselves.
 */
export interface PackedRecords {
  count: number;
  /** at, status, latency, upstream latency, bytes in, bytes out. */
  numbers: Float64Array;
  /** api id, key id, developer id, method, path, code ('' = none). */
  strings: string[];
}

const NUMBERS = 6;
const STRINGS = 6;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function packRecords(records: readonly RequestRecord[]): PackedRecords {
  const count = records.length;
  const numbers = new Float64Array(count * NUMBERS);
  const strings = new Array<string>(count * STRINGS);
  for (let i = 0; i < count; i++) {
    const r = records[i] as RequestRecord;
    const n = i * NUMBERS;
    numbers[n] = r.at;
    numbers[n + 1] = r.status;
    numbers[n + 2] = r.latencyMs;
    numbers[n + 3] = r.upstreamLatencyMs;
    numbers[n + 4] = r.bytesIn;
    numbers[n + 5] = r.bytesOut;
    const s = i * STRINGS;
    strings[s] = text(r.apiId);
    strings[s + 1] = text(r.keyId);
    strings[s + 2] = text(r.developerId);
    strings[s + 3] = text(r.method);
    strings[s + 4] = text(r.path);
    strings[s + 5] = text(r.code);
  }
  return { count, numbers, strings };
}

/** Non-negative integer, whatever the gateway passed (bigint columns reject fractions). */
export function whole(value: number): number {
  return value > 0 && Number.isFinite(value) ? Math.round(value) : 0;
}

/**
 * Rows for `analytics_records`. Ids are unique across nodes and restarts without a
 * random draw per record: a random prefix per writer, then a counter.
 */
export function recordRowsFactory(nodeId: string): (packed: PackedRecords) => AnalyticsRecordsTable[] {
  const idPrefix = `rec_${Date.now().toString(36)}${randomBytes(5).toString('hex')}_`;
  let sequence = 0;
  return ({ count, numbers, strings }) => {
    const rows = new Array<AnalyticsRecordsTable>(count);
    for (let i = 0; i < count; i++) {
      const n = i * NUMBERS;
      const s = i * STRINGS;
      const code = strings[s + 5] as string;
      rows[i] = {
        id: idPrefix + (sequence++).toString(36).padStart(8, '0'),
        at: whole(numbers[n] as number),
        node_id: nodeId,
        api_id: strings[s] as string,
        key_id: strings[s + 1] as string,
        developer_id: strings[s + 2] as string,
        method: (strings[s + 3] as string).slice(0, 16),
        path: (strings[s + 4] as string).slice(0, 512),
        status: (numbers[n + 1] as number) | 0,
        code: code === '' ? null : code,
        latency_ms: whole(numbers[n + 2] as number),
        upstream_latency_ms: whole(numbers[n + 3] as number),
        bytes_in: whole(numbers[n + 4] as number),
        bytes_out: whole(numbers[n + 5] as number),
      };
    }
    return rows;
  };
}

/** The one transaction both writers run. */
export async function writeBatch(db: Db, deltas: RollupDelta[], rows: AnalyticsRecordsTable[]): Promise<void> {
  if (deltas.length === 0 && rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    if (deltas.length > 0) await analyticsRepository.addRollups(trx, deltas);
    if (rows.length > 0) await analyticsRepository.insertRecords(trx, rows);
  });
}

/**
 * Writes on the calling thread. Right for PostgreSQL, whose driver is asynchronous
 * (the database does the work), and for tests; on SQLite every insert would run on
 * the gateway's thread.
 */
export function inlineAnalyticsWriter(db: Db, nodeId: string): AnalyticsWriter {
  const toRows = recordRowsFactory(nodeId);
  return {
    open: async () => undefined,
    write: (deltas, records) => writeBatch(db, deltas, toRows(packRecords(records))),
    prune: async (options) => {
      await pruneAnalytics(db, options);
    },
    close: async () => undefined,
  };
}

/** Messages to the writer thread (analytics.writer.thread.ts). */
export type WriterRequest =
  | { id: number; op: 'write'; deltas: RollupDelta[]; records: PackedRecords }
  | { id: number; op: 'prune'; options: PruneOptions }
  | { id: number; op: 'open' }
  | { id: number; op: 'close' };
type RequestBody = WriterRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
export type WriterReply = { id: number; ok: true } | { id: number; ok: false; error: string };
export interface WriterThreadData {
  databaseUrl: string;
  nodeId: string;
}

export interface ThreadAnalyticsWriterOptions extends WriterThreadData {
  logger: { warn(obj: object, msg?: string): void };
}

/**
 * Writes from a worker thread with its own database connection (DESIGN §7: on SQLite a
 * batch of raw records costs ≈ 5–7 µs a row of synchronous driver time, 3–15 ms per
 * flush, which on the gateway's thread showed as a +6 ms p99 at 1,000 req/s). The
 * gateway's thread only packs the batch and posts it.
 *
 * The thread starts on `open()` or first use: the runtime opens it before serving, so
 * its boot (≈ 0.5 s of CPU when running from TypeScript sources) does not compete with
 * the first requests. If it dies, the calls in flight reject (the recorder
 * keeps their batches for the next flush) and the next call starts a new one. It keeps
 * the process alive only while a call is in flight, so a final flush at shutdown is
 * waited for and an idle writer never holds the process open.
 */
export function threadAnalyticsWriter(options: ThreadAnalyticsWriterOptions): AnalyticsWriter {
  const data: WriterThreadData = { databaseUrl: options.databaseUrl, nodeId: options.nodeId };
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve(): void; reject(error: Error): void }>();

  function settleAll(error: Error): void {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  }

  function thread(): Worker {
    if (worker) return worker;
    const started = startThread(import.meta.url, 'analytics.writer.thread', {
      workerData: data,
      // Batches are small and short-lived: a 2 MB young generation kept the thread's
      // RSS ≈ 35 MB lower after 200k records than V8's default, at the same speed.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 96 },
    });
    started.on('message', (reply: WriterReply) => {
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) started.unref();
      if (reply.ok) w.resolve();
      else w.reject(new Error(reply.error));
    });
    started.on('error', (error) => {
      options.logger.warn({ err: error }, 'analytics writer thread failed; a new one starts on the next flush');
    });
    started.on('exit', (code) => {
      if (worker === started) worker = null;
      settleAll(new Error(`analytics writer thread exited (code ${code})`));
    });
    started.unref();
    worker = started;
    return started;
  }

  function call(message: RequestBody): Promise<void> {
    const target = thread();
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      target.ref();
      target.postMessage({ ...message, id });
    });
  }

  return {
    open: () => call({ op: 'open' }),
    write: (deltas, records) => call({ op: 'write', deltas, records: packRecords(records) }),
    prune: (pruneOptions) => call({ op: 'prune', options: pruneOptions }),
    async close() {
      const current = worker;
      if (!current) return;
      const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
      // The thread closes its connection and ends; a thread that cannot is stopped.
      await call({ op: 'close' }).catch(() => undefined);
      // Held until it has ended: nothing else may be keeping a shutting-down process alive.
      current.ref();
      const stopped = await Promise.race([exited.then(() => true), delay(5_000).then(() => false)]);
      if (!stopped) await current.terminate();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export interface AnalyticsWriterChoice {
  db: Db;
  /** The URL `db` was opened with; the writer thread opens its own connection with it. */
  databaseUrl: string;
  nodeId: string;
  logger: { warn(obj: object, msg?: string): void };
}

/**
 * The writer for this database, chosen once at boot: a writer thread for an SQLite file
 * (synchronous driver), the calling thread for PostgreSQL (asynchronous driver) and for
 * an in-memory SQLite database (no second connection can see it).
 */
export function createAnalyticsWriter(choice: AnalyticsWriterChoice): AnalyticsWriter {
  const url = choice.databaseUrl;
  const sqliteFile = url.startsWith('sqlite:') && url !== 'sqlite::memory:';
  if (!sqliteFile) return inlineAnalyticsWriter(choice.db, choice.nodeId);
  return threadAnalyticsWriter({ databaseUrl: url, nodeId: choice.nodeId, logger: choice.logger });
}
