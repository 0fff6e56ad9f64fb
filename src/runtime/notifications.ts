import type { Config } from '../config/index.js';
import type { Db } from '../modules/database.js';
import { createDomainEvents, type DomainEvents } from '../modules/events.js';
import type { KeyRequestEvents } from '../modules/key-requests/index.js';
import type { KeyLimitsService } from '../modules/keys/index.js';
import { createQuotaWatch, createWebhookWorker, createWebhooksService, type WebhooksService } from '../modules/webhooks/index.js';
import type { Logger } from '../platform/logging/logger.js';
import type { Clock } from '../shared/time.js';

export interface Notifications {
  events: DomainEvents;
  /** The key-requests service's after-commit hooks, turned into domain events. */
  keyRequestEvents: KeyRequestEvents;
  webhooks: WebhooksService;
  /** Starts the delivery worker and the quota watch (only where `services` has `worker`). */
  startWorker(): void;
  close(): Promise<void>;
}

/**
 * Wires domain events to their consumers: every event is written to the webhook
 * outbox (in the process where it happened); the worker delivers the outbox and
 * watches for exhausted quotas.
 */
export function createNotifications(deps: { config: Config; db: Db; clock: Clock; logger: Logger; keyLimits: KeyLimitsService }): Notifications {
  const { config, db, clock, logger } = deps;
  const log = logger.child({ part: 'webhooks' });
  const events = createDomainEvents({ now: () => clock.now(), onError: (error, event) => log.error({ err: error, event: event.type, event_id: event.id }, 'event listener failed') });

  let wake: () => void = () => undefined;
  const webhooks = createWebhooksService({ db, clock, onEnqueued: () => wake() });
  events.subscribe((event) => webhooks.enqueue(event).then(() => undefined));

  const keyRequestEvents: KeyRequestEvents = {
    onCreated(request) {
      events.emit('key_request.created', request);
      if (request.key) events.emit('key.created', request.key);
    },
    onDecided(request) {
      events.emit(request.status === 'approved' ? 'key_request.approved' : 'key_request.rejected', request);
      if (request.key) events.emit('key.created', request.key);
    },
  };

  const worker = createWebhookWorker({ db, clock, logger: log, retryBaseMs: config.webhook_retry_base_ms, maxAttempts: config.webhook_max_attempts, userAgent: 'Gatehouse-Webhooks/1' });
  const quotaWatch = createQuotaWatch({
    db,
    clock,
    events,
    logger: log,
    quotaResetsAt: async (keyId) => {
      const state = await deps.keyLimits.state(keyId);
      return state.quota?.resets_at ? Date.parse(state.quota.resets_at) : null;
    },
  });

  return {
    events,
    keyRequestEvents,
    webhooks,
    startWorker() {
      wake = () => worker.wake();
      worker.start();
      quotaWatch.start();
    },
    async close() {
      await quotaWatch.close();
      await worker.close();
    },
  };
}
