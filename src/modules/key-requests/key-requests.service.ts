import { appError, notFound, validationError } from '../../shared/errors.js';
import { checkFieldValues } from '../../shared/fields.js';
import { newId } from '../../shared/ids.js';
import { toIso } from '../../shared/time.js';
import { fromDbJson, isUniqueViolation, toDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import { catalogueRepository, entryFromRow, visibleTo } from '../catalogue/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { pageOf } from '../context.js';
import type { Executor } from '../database.js';
import { issueKey, presentKey, type Key } from '../keys/index.js';
import type { KeyRequestCreateBody, KeyRequestResponse } from './key-requests.schemas.js';
import type { KeyRequestsTable } from './key-requests.table.js';

export function presentKeyRequest(row: KeyRequestsTable, key?: Key, secret?: string): KeyRequestResponse {
  const out: KeyRequestResponse = {
    id: row.id,
    developer_id: row.developer_id,
    catalogue_id: row.catalogue_id,
    key_name: row.key_name,
    fields: fromDbJson<Record<string, unknown>>(row.fields, {}),
    status: row.status,
    decided_by: row.decided_by,
    decided_at: toIso(row.decided_at),
    reason: row.reason,
    key_id: row.key_id,
    created_at: toIso(row.created_at) ?? '',
    updated_at: toIso(row.updated_at) ?? '',
  };
  if (key) out.key = presentKey(key, secret);
  return out;
}

/**
 * The slot a live request occupies, unique per developer (index key_requests_live_uq):
 * one per entry, or one per entry and key name when the entry allows several keys.
 * Two identical submissions race for the same slot and the database lets one win.
 */
function slotFor(catalogueId: string, keyName: string, allowMultiple: boolean): string {
  return allowMultiple ? `${catalogueId}:${keyName.trim().toLowerCase()}` : catalogueId;
}

async function findRow(db: Executor, id: string): Promise<KeyRequestsTable | undefined> {
  return db.selectFrom('key_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface KeyRequestEvents {
  /** Called after commit; used for emails and webhooks. Must not throw. */
  onCreated?(request: KeyRequestResponse): void;
  onDecided?(request: KeyRequestResponse): void;
}

export function createKeyRequestsService(ctx: ModuleContext, events: KeyRequestEvents = {}) {
  const { db, bus, clock } = ctx;

  return {
    async get(id: string): Promise<KeyRequestResponse> {
      const row = await findRow(db, id);
      if (!row) throw notFound('Key request', id);
      return presentKeyRequest(row);
    },

    async list(opts: {
      status?: string;
      developerId?: string;
      cursor?: string;
      limit: number;
    }): Promise<Page<KeyRequestResponse>> {
      let q = db
        .selectFrom('key_requests')
        .selectAll()
        .orderBy('id')
        .limit(opts.limit + 1);
      if (opts.status) q = q.where('status', '=', opts.status);
      if (opts.developerId) q = q.where('developer_id', '=', opts.developerId);
      if (opts.cursor) q = q.where('id', '>', opts.cursor);
      return pageOf(await q.execute(), opts.limit, (r) => presentKeyRequest(r));
    },

    async countPending(): Promise<number> {
      const row = await db
        .selectFrom('key_requests')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /**
     * A developer asks for a key. Auto-approved entries issue the key (and its secret,
     * returned once) in the same transaction; manual ones wait for an admin.
     */
    async create(developer: { id: string; email: string }, body: KeyRequestCreateBody): Promise<KeyRequestResponse> {
      const entryRow = await catalogueRepository.findById(db, body.catalogue_id);
      const entry = entryRow ? entryFromRow(entryRow) : null;
      if (!entry || !visibleTo(true).includes(entry.visibility)) {
        throw validationError([{ field: 'catalogue_id', message: `no catalogue entry ${body.catalogue_id}` }]);
      }
      const keyName = (body.key_name ?? 'default').trim() || 'default';
      const { values, problems } = checkFieldValues(entry.keyRequestFields, body.fields, 'fields');
      if (problems.length > 0) throw validationError(problems);
      const now = clock.now();
      const actor: Actor = { type: 'developer', id: developer.id };
      const row: KeyRequestsTable = {
        id: newId('keyRequest', now),
        developer_id: developer.id,
        catalogue_id: entry.id,
        key_name: keyName,
        fields: toDbJson(values),
        status: 'pending',
        decided_by: null,
        decided_at: null,
        reason: null,
        key_id: null,
        live_slot: slotFor(entry.id, keyName, entry.allowMultipleKeys),
        created_at: now,
        updated_at: now,
      };
      let issued: { key: Key; secret?: string } | undefined;
      try {
        await db.transaction().execute(async (tx) => {
          await tx.insertInto('key_requests').values(row).execute();
          await recordAudit(
            tx,
            actor,
            {
              action: 'key_request.created',
              objectType: 'key_request',
              objectId: row.id,
              details: { catalogue_id: entry.id },
            },
            now,
          );
          if (entry.approval === 'auto') {
            issued = await issueKey(
              tx,
              actor,
              {
                developerId: developer.id,
                catalogueId: entry.id,
                name: keyName,
                policyIds: [entry.policyId],
                withSecret: true,
                meta: { developer_email: developer.email, request_fields: values, key_request_id: row.id },
              },
              now,
            );
            row.status = 'approved';
            row.decided_at = now;
            row.decided_by = 'auto';
            row.key_id = issued.key.id;
            await tx
              .updateTable('key_requests')
              .set({ status: 'approved', decided_at: now, decided_by: 'auto', key_id: issued.key.id })
              .where('id', '=', row.id)
              .execute();
          }
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          const existing = await db
            .selectFrom('key_requests')
            .select(['id', 'status'])
            .where('developer_id', '=', developer.id)
            .where('live_slot', '=', row.live_slot)
            .executeTakeFirst();
          throw appError(
            'KEY_LIMIT_REACHED',
            entry.allowMultipleKeys
              ? `You already have a key named "${keyName}" for this entry; pick another name`
              : existing?.status === 'pending'
                ? 'You already have a pending request for this entry'
                : 'You already have a key for this entry',
            { key_request_id: existing?.id ?? null, status: existing?.status ?? null },
          );
        }
        throw error;
      }
      if (issued) bus.publish({ topic: 'keys', id: issued.key.id });
      const result = presentKeyRequest(row, issued?.key, issued?.secret);
      events.onCreated?.(presentKeyRequest(row, issued?.key));
      return result;
    },

    /** Admin approves: a key without a secret is issued; the developer's first roll reveals it. */
    async approve(actor: Actor, id: string): Promise<KeyRequestResponse> {
      const now = clock.now();
      const result = await db.transaction().execute(async (tx) => {
        const row = await findRow(tx, id);
        if (!row) throw notFound('Key request', id);
        if (row.status !== 'pending') throw appError('INVALID_STATE', `Key request ${id} is already ${row.status}`);
        const entryRow = await catalogueRepository.findById(tx, row.catalogue_id);
        if (!entryRow) throw appError('INVALID_STATE', `Catalogue entry ${row.catalogue_id} no longer exists`);
        // Claim the request first: of two concurrent approvals only one changes the row.
        const claimed = await tx
          .updateTable('key_requests')
          .set({ status: 'approved', decided_by: actor.id, decided_at: now, updated_at: now })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1)
          throw appError('INVALID_STATE', `Key request ${id} was decided concurrently`);
        const developer = await tx
          .selectFrom('developers')
          .select(['email'])
          .where('id', '=', row.developer_id)
          .executeTakeFirst();
        const issued = await issueKey(
          tx,
          actor,
          {
            developerId: row.developer_id,
            catalogueId: row.catalogue_id,
            name: row.key_name,
            policyIds: [entryRow.policy_id],
            withSecret: false,
            meta: {
              developer_email: developer?.email ?? null,
              request_fields: fromDbJson(row.fields, {}),
              key_request_id: id,
            },
          },
          now,
        );
        await tx.updateTable('key_requests').set({ key_id: issued.key.id }).where('id', '=', id).execute();
        await recordAudit(
          tx,
          actor,
          {
            action: 'key_request.approved',
            objectType: 'key_request',
            objectId: id,
            details: { key_id: issued.key.id },
          },
          now,
        );
        return {
          row: {
            ...row,
            status: 'approved',
            decided_by: actor.id,
            decided_at: now,
            updated_at: now,
            key_id: issued.key.id,
          },
          key: issued.key,
        };
      });
      bus.publish({ topic: 'keys', id: result.key.id });
      const out = presentKeyRequest(result.row, result.key);
      events.onDecided?.(out);
      return out;
    },

    async reject(actor: Actor, id: string, reason: string): Promise<KeyRequestResponse> {
      const now = clock.now();
      const row = await db.transaction().execute(async (tx) => {
        const current = await findRow(tx, id);
        if (!current) throw notFound('Key request', id);
        if (current.status !== 'pending')
          throw appError('INVALID_STATE', `Key request ${id} is already ${current.status}`);
        const changed = await tx
          .updateTable('key_requests')
          .set({ status: 'rejected', decided_by: actor.id, decided_at: now, reason, live_slot: null, updated_at: now })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .executeTakeFirst();
        if (Number(changed.numUpdatedRows) !== 1)
          throw appError('INVALID_STATE', `Key request ${id} was decided concurrently`);
        await recordAudit(
          tx,
          actor,
          { action: 'key_request.rejected', objectType: 'key_request', objectId: id, details: { reason } },
          now,
        );
        return {
          ...current,
          status: 'rejected',
          decided_by: actor.id,
          decided_at: now,
          reason,
          live_slot: null,
          updated_at: now,
        };
      });
      const out = presentKeyRequest(row);
      events.onDecided?.(out);
      return out;
    },
  };
}

export type KeyRequestsService = ReturnType<typeof createKeyRequestsService>;
