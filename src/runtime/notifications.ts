import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { readSettings } from '../modules/content/index.js';
import type { Db } from '../modules/database.js';
import { createDomainEvents, type DomainEvents } from '../modules/events.js';
import type { KeyRequestEvents } from '../modules/key-requests/index.js';
import type { KeyLimitsService } from '../modules/keys/index.js';
import {
  createQuotaWatch,
  createWebhookWorker,
  createWebhooksService,
  type WebhooksService,
} from '../modules/webhooks/index.js';
import { PROJECT_ROOT } from '../platform/http/index.js';
import type { Logger } from '../platform/logging/logger.js';
import { createMailer } from '../platform/mail/index.js';
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
/** Admin emails are the dashboard's, not the portal theme's: they are not themable. */
const ADMIN_EMAIL_TEMPLATES = join(PROJECT_ROOT, 'src', 'apps', 'admin', 'views');

export function createNotifications(deps: {
  config: Config;
  db: Db;
  clock: Clock;
  logger: Logger;
  keyLimits: KeyLimitsService;
  adminUrl?: string;
}): Notifications {
  const { config, db, clock, logger } = deps;
  const log = logger.child({ part: 'webhooks' });
  const events = createDomainEvents({
    now: () => clock.now(),
    onError: (error, event) =>
      log.error({ err: error, event: event.type, event_id: event.id }, 'event listener failed'),
  });

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

  // Email to admins and owners when a request waits for approval (settings.notify_admins_on_request).
  const mailLog = logger.child({ part: 'mail' });
  const mailer = createMailer({
    smtpUrl: config.smtp_url,
    from: config.mail_from,
    logger: mailLog,
    themeRoots: () => [ADMIN_EMAIL_TEMPLATES],
  });
  events.subscribe(async (event) => {
    if (event.type !== 'key_request.created' || event.data.status !== 'pending') return;
    if (!(await readSettings(db)).notify_admins_on_request) return;
    const [admins, entry, developer] = await Promise.all([
      db
        .selectFrom('admin_users')
        .select(['email', 'name'])
        .where('status', '=', 'active')
        .where('role', 'in', ['owner', 'admin'])
        .orderBy('id')
        .execute(),
      db
        .selectFrom('catalogue_entries')
        .select(['name'])
        .where('id', '=', String(event.data.catalogue_id))
        .executeTakeFirst(),
      db
        .selectFrom('developers')
        .select(['email'])
        .where('id', '=', String(event.data.developer_id))
        .executeTakeFirst(),
    ]);
    for (const admin of admins) {
      await mailer
        .send({
          to: admin.email,
          template: 'key-request-pending',
          data: {
            admin_name: admin.name,
            entry_name: entry?.name ?? String(event.data.catalogue_id),
            developer_email: developer?.email ?? 'A developer',
            key_name: String(event.data.key_name),
            admin_url: deps.adminUrl ?? null,
          },
        })
        .catch((error: unknown) => mailLog.error({ err: error, to: admin.email }, 'admin notification email failed'));
    }
  });

  const worker = createWebhookWorker({
    db,
    clock,
    logger: log,
    retryBaseMs: config.webhook_retry_base_ms,
    maxAttempts: config.webhook_max_attempts,
    userAgent: 'Gatehouse-Webhooks/1',
  });
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
      mailer.close();
    },
  };
}
