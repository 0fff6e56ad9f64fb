import type { Actor } from '../context.js';
import type { Executor } from '../database.js';
import { newId } from '../../shared/ids.js';
import { toIso } from '../../shared/time.js';
import { fromDbJson, toDbJson } from '../../platform/db/index.js';
import type { AuditEventsTable } from './audit.table.js';

export interface AuditEntry {
  action: string;
  objectType: string;
  objectId: string | null;
  details?: Record<string, unknown>;
}

/**
 * Records one audit event inside the caller's transaction, so the event exists
 * exactly when the change does. Append-only: nothing in the product edits or deletes events.
 */
export async function recordAudit(db: Executor, actor: Actor, entry: AuditEntry, at: number): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: newId('audit', at),
      at,
      actor_type: actor.type,
      actor_id: actor.id,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId,
      details: toDbJson(entry.details ?? {}),
    })
    .execute();
}

export interface AuditFilter {
  objectType?: string;
  objectId?: string;
  actorId?: string;
  action?: string;
  /** Newest first: return events with id < before. */
  before?: string;
  limit: number;
}

export async function listAudit(db: Executor, filter: AuditFilter): Promise<AuditEventsTable[]> {
  let q = db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  if (filter.objectType) q = q.where('object_type', '=', filter.objectType);
  if (filter.objectId) q = q.where('object_id', '=', filter.objectId);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.before) q = q.where('id', '<', filter.before);
  return q.execute();
}

export function presentAudit(row: AuditEventsTable) {
  return {
    id: row.id,
    at: toIso(row.at),
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    object_type: row.object_type,
    object_id: row.object_id,
    details: fromDbJson<Record<string, unknown>>(row.details, {}),
  };
}
