import type { Clock } from '../../shared/time.js';
import { fromDbBool } from '../../platform/db/index.js';
import type { Db } from '../database.js';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signPayload,
} from './webhooks.signature.js';
import type { WebhookDeliveriesTable } from './webhooks.table.js';

export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WebhookWorkerOptions {
  db: Db;
  clock: Clock;
  logger: WorkerLogger;
  /** Delay before the 2nd attempt; doubles after every failure (capped at `maxDelayMs`). */
  retryBaseMs: number;
  /** Attempts in all, the first included; then the delivery is `failed`. */
  maxAttempts: number;
  maxDelayMs?: number;
  /** How often the outbox is polled when nothing wakes the worker. */
  pollMs?: number;
  /** Per attempt: connect + response headers. */
  timeoutMs?: number;
  /** Deliveries older than this are deleted once finished. */
  retentionMs?: number;
  userAgent?: string;
}

/** Delay after `attempts` failed attempts: base · 2^(attempts−1), capped. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Delivers the webhook outbox: claims due deliveries with a conditional update (a
 * lease), so several workers never send the same attempt twice, POSTs the signed
 * body, and on failure schedules the next attempt with exponential backoff.
 * Delivery is at least once: a worker that dies mid-attempt leaves the lease to
 * expire and the attempt is made again; receivers de-duplicate on the event id.
 */
export function createWebhookWorker(options: WebhookWorkerOptions) {
  const { db, clock, logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxDelayMs = options.maxDelayMs ?? 6 * 3_600_000;
  const retentionMs = options.retentionMs ?? 30 * 86_400_000;
  const leaseMs = timeoutMs + 5_000;
  const batch = 20;

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let lastPrune = 0;
  const inFlight = new Set<Promise<void>>();

  async function attempt(row: WebhookDeliveriesTable): Promise<void> {
    const hook = await db
      .selectFrom('webhooks')
      .select(['url', 'secret', 'active'])
      .where('id', '=', row.webhook_id)
      .executeTakeFirst();
    const now = clock.now();
    if (!hook || !fromDbBool(hook.active)) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          status: 'failed',
          locked_until: null,
          next_attempt_at: null,
          last_error: 'subscription deleted or disabled',
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      return;
    }
    const timestamp = Math.floor(now / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'Gatehouse-Webhooks',
          [SIGNATURE_HEADER]: signPayload(hook.secret, timestamp, row.payload),
          [TIMESTAMP_HEADER]: String(timestamp),
          [EVENT_HEADER]: row.event,
          [DELIVERY_HEADER]: row.id,
        },
        body: row.payload,
      });
      statusCode = response.status;
      // The body is not needed; release the connection.
      await response.body?.cancel().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `receiver answered ${statusCode}`;
    } catch (failure) {
      error = failure instanceof Error ? `${failure.name}: ${failure.message}`.slice(0, 500) : 'request failed';
    }
    const attempts = row.attempts + 1;
    const done = clock.now();
    if (error === null) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          status: 'succeeded',
          attempts,
          last_status_code: statusCode,
          last_error: null,
          last_attempt_at: done,
          next_attempt_at: null,
          locked_until: null,
          updated_at: done,
        })
        .where('id', '=', row.id)
        .execute();
      return;
    }
    const giveUp = attempts >= options.maxAttempts;
    await db
      .updateTable('webhook_deliveries')
      .set({
        status: giveUp ? 'failed' : 'pending',
        attempts,
        last_status_code: statusCode,
        last_error: error,
        last_attempt_at: done,
        next_attempt_at: giveUp ? null : done + backoffMs(attempts, options.retryBaseMs, maxDelayMs),
        locked_until: null,
        updated_at: done,
      })
      .where('id', '=', row.id)
      .execute();
    logger.warn(
      { delivery_id: row.id, webhook_id: row.webhook_id, attempts, status_code: statusCode, error, gave_up: giveUp },
      'webhook delivery failed',
    );
  }

  async function claimDue(): Promise<WebhookDeliveriesTable[]> {
    const now = clock.now();
    const due = await db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(batch)
      .execute();
    const claimed: WebhookDeliveriesTable[] = [];
    for (const row of due) {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({ locked_until: now + leaseMs })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .where('attempts', '=', row.attempts)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) claimed.push(row);
    }
    return claimed;
  }

  async function prune(): Promise<void> {
    const now = clock.now();
    if (now - lastPrune < 3_600_000) return;
    lastPrune = now;
    await db
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['succeeded', 'failed'])
      .where('created_at', '<', now - retentionMs)
      .execute();
  }

  async function tick(): Promise<void> {
    do {
      again = false;
      const claimed = await claimDue();
      for (const row of claimed) {
        // Attempts run concurrently; one slow receiver does not hold up the others.
        const job = attempt(row)
          .catch((error: unknown) => logger.error({ err: error, delivery_id: row.id }, 'webhook attempt crashed'))
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
      }
      if (claimed.length === batch) again = true;
    } while (again && !stopped);
    await prune();
  }

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = tick()
      .catch((error: unknown) => logger.error({ err: error }, 'webhook worker tick failed'))
      .finally(() => {
        running = null;
      });
  }

  return {
    start(): void {
      stopped = false;
      timer ??= setInterval(run, pollMs);
      timer.unref();
      run();
    },
    /** Called after enqueuing, so a new delivery goes out without waiting for the poll. */
    wake(): void {
      if (timer) run();
    },
    async close(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type WebhookWorker = ReturnType<typeof createWebhookWorker>;
