import type { Clock } from '../../shared/time.js';
import type { Db } from '../database.js';
import type { DomainEvents } from '../events.js';
import type { WorkerLogger } from './webhooks.worker.js';

export interface QuotaWatchOptions {
  db: Db;
  clock: Clock;
  events: DomainEvents;
  logger: WorkerLogger;
  /** When the key's current quota period ends (ms), or null if it has no quota. */
  quotaResetsAt(keyId: string): Promise<number | null>;
  intervalMs?: number;
}

/**
 * Emits `quota.exhausted` once per key and quota period. The gateway's hot path does
 * no I/O for this: it already writes a raw analytics record with code QUOTA_EXCEEDED
 * for every refused request (on every node), and this watch, run by the worker, reads
 * those records since its last pass. Needs raw analytics kept
 * (`analytics_raw_retention_hours` > 0); one worker per cluster avoids duplicates.
 */
export function createQuotaWatch(options: QuotaWatchOptions) {
  const { db, clock, events, logger } = options;
  const intervalMs = options.intervalMs ?? 5_000;
  let since = clock.now();
  /** key id → end of the period already reported. */
  const reported = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  async function pass(): Promise<void> {
    const until = clock.now();
    const rows = await db
      .selectFrom('analytics_records')
      .select(['key_id', 'developer_id', 'api_id'])
      .select((eb) => eb.fn.max('at').as('last_at'))
      .where('code', '=', 'QUOTA_EXCEEDED')
      .where('at', '>=', since)
      .where('at', '<', until)
      .where('key_id', '!=', '')
      .groupBy(['key_id', 'developer_id', 'api_id'])
      .orderBy('key_id')
      .execute();
    since = until;
    const now = clock.now();
    for (const [keyId, end] of reported) if (end <= now) reported.delete(keyId);
    for (const row of rows) {
      if (reported.has(row.key_id)) continue;
      const resetsAt = await options.quotaResetsAt(row.key_id).catch(() => null);
      reported.set(row.key_id, resetsAt ?? now + 3_600_000);
      events.emit('quota.exhausted', {
        key_id: row.key_id,
        developer_id: row.developer_id || null,
        api_id: row.api_id,
        quota_resets_at: resetsAt === null ? null : new Date(resetsAt).toISOString(),
      });
    }
  }

  function run(): void {
    if (running) return;
    running = pass()
      .catch((error: unknown) => logger.error({ err: error }, 'quota watch failed'))
      .finally(() => {
        running = null;
      });
  }

  return {
    start(): void {
      timer ??= setInterval(run, intervalMs);
      timer.unref();
    },
    /** One pass now (tests). */
    runOnce: (): Promise<void> => pass(),
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type QuotaWatch = ReturnType<typeof createQuotaWatch>;
