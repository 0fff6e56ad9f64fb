import { appError, notFound, validationError } from '../../shared/errors.js';
import { randomToken } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { toIso, type Clock } from '../../shared/time.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, Page } from '../context.js';
import { pageOf } from '../context.js';
import type { Db } from '../database.js';
import type { DomainEvent } from '../events.js';
import type { DeliveryResponse, WebhookCreateBody, WebhookPatchBody, WebhookResponse } from './webhooks.schemas.js';
import type { WebhookDeliveriesTable, WebhooksTable } from './webhooks.table.js';

export function presentWebhook(row: WebhooksTable, secret?: string): WebhookResponse {
  const out: WebhookResponse = {
    id: row.id,
    url: row.url,
    description: row.description,
    events: fromDbJson<string[]>(row.events, []),
    active: fromDbBool(row.active),
    created_at: toIso(row.created_at) ?? '',
    updated_at: toIso(row.updated_at) ?? '',
  };
  if (secret !== undefined) out.secret = secret;
  return out;
}

export function presentDelivery(row: WebhookDeliveriesTable): DeliveryResponse {
  return {
    id: row.id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? toIso(row.next_attempt_at) : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    last_attempt_at: toIso(row.last_attempt_at),
    created_at: toIso(row.created_at) ?? '',
    payload: fromDbJson<unknown>(row.payload, null),
  };
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw validationError([{ field: 'url', message: 'must be an absolute URL' }]);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw validationError([{ field: 'url', message: 'must be an http or https URL' }]);
  if (parsed.username || parsed.password)
    throw validationError([{ field: 'url', message: 'must not contain credentials' }]);
}

const newSigningSecret = () => `whsec_${randomToken(24)}`;

/** The JSON body receivers get; also what is signed. */
export function eventBody(event: { id: string; type: string; at: number; data: Record<string, unknown> }): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: toIso(event.at), data: event.data });
}

/**
 * Webhook subscriptions and their delivery log. Enqueuing writes one delivery row
 * per matching subscription (the outbox); the worker, wherever it runs, delivers them.
 */
export function createWebhooksService(deps: { db: Db; clock: Clock; onEnqueued?: () => void }) {
  const { db, clock } = deps;

  async function loadRow(id: string): Promise<WebhooksTable> {
    const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('Webhook', id);
    return row;
  }

  async function insertDeliveries(rows: WebhookDeliveriesTable[]): Promise<void> {
    if (rows.length === 0) return;
    await db.insertInto('webhook_deliveries').values(rows).execute();
    deps.onEnqueued?.();
  }

  function deliveryRow(
    webhookId: string,
    event: { id: string; type: string; at: number; data: Record<string, unknown> },
    now: number,
  ): WebhookDeliveriesTable {
    return {
      id: newId('webhookDelivery', now),
      webhook_id: webhookId,
      event_id: event.id,
      event: event.type,
      payload: eventBody(event),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      last_status_code: null,
      last_error: null,
      last_attempt_at: null,
      created_at: now,
      updated_at: now,
    };
  }

  return {
    async list(opts: { cursor?: string; limit: number }): Promise<Page<WebhookResponse>> {
      let q = db
        .selectFrom('webhooks')
        .selectAll()
        .orderBy('id')
        .limit(opts.limit + 1);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      return pageOf(await q.execute(), opts.limit, (r) => presentWebhook(r));
    },

    get: async (id: string): Promise<WebhookResponse> => presentWebhook(await loadRow(id)),

    async create(actor: Actor, body: WebhookCreateBody): Promise<WebhookResponse> {
      checkUrl(body.url);
      const now = clock.now();
      const row: WebhooksTable = {
        id: newId('webhook', now),
        url: body.url.trim(),
        description: body.description?.trim() ?? '',
        secret: newSigningSecret(),
        events: toDbJson([...new Set(body.events)]),
        active: toDbBool(body.active ?? true),
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('webhooks').values(row).execute();
        await recordAudit(
          tx,
          actor,
          {
            action: 'webhook.created',
            objectType: 'webhook',
            objectId: row.id,
            details: { url: row.url, events: body.events },
          },
          now,
        );
      });
      return presentWebhook(row, row.secret);
    },

    async update(actor: Actor, id: string, body: WebhookPatchBody): Promise<WebhookResponse> {
      if (body.url !== undefined) checkUrl(body.url);
      const now = clock.now();
      const patch: Partial<WebhooksTable> = { updated_at: now };
      if (body.url !== undefined) patch.url = body.url.trim();
      if (body.description !== undefined) patch.description = body.description.trim();
      if (body.events !== undefined) patch.events = toDbJson([...new Set(body.events)]);
      if (body.active !== undefined) patch.active = toDbBool(body.active);
      if (body.rotate_secret) patch.secret = newSigningSecret();
      await db.transaction().execute(async (tx) => {
        const changed = await tx.updateTable('webhooks').set(patch).where('id', '=', id).executeTakeFirst();
        if (Number(changed.numUpdatedRows) !== 1) throw notFound('Webhook', id);
        await recordAudit(
          tx,
          actor,
          { action: 'webhook.updated', objectType: 'webhook', objectId: id, details: { fields: Object.keys(body) } },
          now,
        );
      });
      return presentWebhook(await loadRow(id), patch.secret);
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('webhooks').select(['id', 'url']).where('id', '=', id).executeTakeFirst();
        if (!row) throw notFound('Webhook', id);
        await tx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
        await tx.deleteFrom('webhooks').where('id', '=', id).execute();
        await recordAudit(
          tx,
          actor,
          { action: 'webhook.deleted', objectType: 'webhook', objectId: id, details: { url: row.url } },
          now,
        );
      });
    },

    async deliveries(opts: {
      webhookId?: string;
      status?: string;
      cursor?: string;
      limit: number;
    }): Promise<Page<DeliveryResponse>> {
      // Newest first: the log is read from the top.
      let q = db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(opts.limit + 1);
      if (opts.webhookId) q = q.where('webhook_id', '=', opts.webhookId);
      if (opts.status) q = q.where('status', '=', opts.status);
      if (opts.cursor) q = q.where('id', '<', opts.cursor);
      return pageOf(await q.execute(), opts.limit, presentDelivery);
    },

    /** Puts a delivery back in the queue for an immediate attempt (its attempt count continues). */
    async redeliver(actor: Actor, deliveryId: string): Promise<DeliveryResponse> {
      const now = clock.now();
      const row = await db.transaction().execute(async (tx) => {
        const current = await tx
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('id', '=', deliveryId)
          .executeTakeFirst();
        if (!current) throw notFound('Delivery', deliveryId);
        if (current.status === 'pending' && current.locked_until !== null && current.locked_until > now) {
          throw appError('INVALID_STATE', 'This delivery is being attempted right now');
        }
        const patch = { status: 'pending', next_attempt_at: now, locked_until: null, updated_at: now };
        await tx.updateTable('webhook_deliveries').set(patch).where('id', '=', deliveryId).execute();
        await recordAudit(
          tx,
          actor,
          {
            action: 'webhook.redelivered',
            objectType: 'webhook',
            objectId: current.webhook_id,
            details: { delivery_id: deliveryId },
          },
          now,
        );
        return { ...current, ...patch };
      });
      deps.onEnqueued?.();
      return presentDelivery(row);
    },

    /** Queues a `ping` event for one subscription, to check the receiver and its signature check. */
    async ping(actor: Actor, webhookId: string): Promise<DeliveryResponse> {
      await loadRow(webhookId);
      const now = clock.now();
      const row = deliveryRow(
        webhookId,
        { id: newId('event', now), type: 'ping', at: now, data: { webhook_id: webhookId } },
        now,
      );
      await recordAudit(
        db,
        actor,
        { action: 'webhook.pinged', objectType: 'webhook', objectId: webhookId, details: {} },
        now,
      );
      await insertDeliveries([row]);
      return presentDelivery(row);
    },

    /** Writes one delivery per active subscription to this event type. */
    async enqueue(event: DomainEvent): Promise<number> {
      const hooks = await db
        .selectFrom('webhooks')
        .select(['id', 'events'])
        .where('active', '=', 1)
        .orderBy('id')
        .execute();
      const now = clock.now();
      const rows = hooks
        .filter((h) => fromDbJson<string[]>(h.events, []).includes(event.type))
        .map((h) => deliveryRow(h.id, event, now));
      await insertDeliveries(rows);
      return rows.length;
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
