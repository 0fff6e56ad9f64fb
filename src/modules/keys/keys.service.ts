import type { Updateable } from 'kysely';
import { appError, notFound, validationError } from '../../shared/errors.js';
import { newSecret, sha256Hex } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { fromIso } from '../../shared/time.js';
import { toDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { pageOf } from '../context.js';
import type { Executor } from '../database.js';
import type { DomainEvents } from '../events.js';
import { developersRepository } from '../developers/index.js';
import { policiesRepository, policyFromRow } from '../policies/index.js';
import { keysRepository, type KeyListFilter } from './keys.repository.js';
import type { KeyIssueBody, KeyPatchBody, KeyResponse } from './keys.schemas.js';
import { keyFromRow, type Key, type KeysTable } from './keys.table.js';
import { presentKey } from './keys.presenter.js';

/** API key format (DESIGN §3): `gh_` + 40 base62 characters (≈238 bits). */
export const KEY_SECRET_PREFIX = 'gh_';

export interface SecretParts {
  secret: string;
  hash: string;
  prefix: string;
  last4: string;
}

export function makeSecret(): SecretParts {
  const secret = newSecret(KEY_SECRET_PREFIX, 40);
  return { secret, hash: sha256Hex(secret), prefix: secret.slice(0, 8), last4: secret.slice(-4) };
}

/**
 * Expiry of a new key from its policies: a policy with key_expires_in 0 (never)
 * wins, otherwise the longest lifetime, as Tyk merges partitioned policies.
 */
export function expiryFor(policies: { keyExpiresIn: number }[], now: number): number | null {
  if (policies.length === 0 || policies.some((p) => p.keyExpiresIn <= 0)) return null;
  return now + Math.max(...policies.map((p) => p.keyExpiresIn)) * 1000;
}

export interface IssueInput {
  developerId: string | null;
  catalogueId: string | null;
  name: string;
  policyIds: string[];
  /** Null = never; undefined = from the policies' key_expires_in. */
  expiresAt?: number | null;
  /** False for keys approved by an admin: the developer's first roll ("reveal") creates the secret. */
  withSecret: boolean;
  meta?: Record<string, unknown>;
}

async function checkPolicies(db: Executor, ids: string[], field: string) {
  const rows = await policiesRepository.findByIds(db, ids);
  const known = new Set(rows.map((r) => r.id));
  const problems = ids.filter((id) => !known.has(id)).map((id) => ({ field, message: `no policy ${id}` }));
  if (problems.length > 0) throw validationError(problems);
  return rows.map(policyFromRow);
}

/** Issues a key inside the caller's transaction; returns the key and, if made, its secret. */
export async function issueKey(
  db: Executor,
  actor: Actor,
  input: IssueInput,
  now: number,
): Promise<{ key: Key; secret?: string }> {
  const policies = await checkPolicies(db, input.policyIds, 'policy_ids');
  const parts = input.withSecret ? makeSecret() : null;
  const row: KeysTable = {
    id: newId('key', now),
    developer_id: input.developerId,
    catalogue_id: input.catalogueId,
    name: input.name,
    policy_ids: toDbJson([...new Set(input.policyIds)]),
    prefix: parts?.prefix ?? null,
    last4: parts?.last4 ?? null,
    hash: parts?.hash ?? null,
    previous_hash: null,
    previous_hash_expires_at: null,
    status: 'active',
    expires_at: input.expiresAt === undefined ? expiryFor(policies, now) : input.expiresAt,
    last_used_at: null,
    meta: toDbJson(input.meta ?? {}),
    version: 1,
    created_at: now,
    updated_at: now,
  };
  await keysRepository.insert(db, row, input.policyIds);
  await recordAudit(
    db,
    actor,
    {
      action: 'key.created',
      objectType: 'key',
      objectId: row.id,
      details: { developer_id: input.developerId, policy_ids: input.policyIds },
    },
    now,
  );
  return { key: keyFromRow(row), secret: parts?.secret };
}

/** Frees the key request's slot so the developer may request this entry again. */
async function releaseSlot(db: Executor, keyId: string): Promise<void> {
  await db.updateTable('key_requests').set({ live_slot: null }).where('key_id', '=', keyId).execute();
}

/** `events` (optional) hears key.created / key.rolled / key.revoked after commit (webhooks). */
export function createKeysService(ctx: ModuleContext, events?: DomainEvents) {
  const { db, bus, clock } = ctx;

  async function load(id: string): Promise<Key> {
    const row = await keysRepository.findById(db, id);
    if (!row) throw notFound('Key', id);
    return keyFromRow(row);
  }

  /** Loads a key that must belong to `developerId` (404 otherwise: no probing of other ids). */
  async function loadOwned(developerId: string, id: string): Promise<Key> {
    const key = await load(id).catch(() => null);
    if (!key || key.developerId !== developerId) throw notFound('Key', id);
    return key;
  }

  return {
    load,
    loadOwned,
    get: async (id: string): Promise<KeyResponse> => presentKey(await load(id)),

    async list(filter: Omit<KeyListFilter, 'after'> & { cursor?: string }): Promise<Page<KeyResponse>> {
      const rows = await keysRepository.list(db, { ...filter, after: filter.cursor, limit: filter.limit + 1 });
      return pageOf(rows, filter.limit, (r) => presentKey(keyFromRow(r)));
    },

    async issue(actor: Actor, body: KeyIssueBody): Promise<KeyResponse> {
      const now = clock.now();
      const expiresAt = body.expires_at === undefined ? undefined : fromIso(body.expires_at);
      const result = await db.transaction().execute(async (tx) => {
        if (!(await developersRepository.findById(tx, body.developer_id))) {
          throw validationError([{ field: 'developer_id', message: `no developer ${body.developer_id}` }]);
        }
        return issueKey(
          tx,
          actor,
          {
            developerId: body.developer_id,
            catalogueId: body.catalogue_id ?? null,
            name: body.name,
            policyIds: body.policy_ids,
            expiresAt,
            withSecret: true,
          },
          now,
        );
      });
      bus.publish({ topic: 'keys', id: result.key.id });
      events?.emit('key.created', presentKey(result.key));
      return presentKey(result.key, result.secret);
    },

    async update(actor: Actor, id: string, body: KeyPatchBody): Promise<KeyResponse> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const current = await keysRepository.findById(tx, id);
        if (!current) throw notFound('Key', id);
        if (current.status === 'revoked') throw appError('INVALID_STATE', `Key ${id} is revoked and cannot be changed`);
        if (body.version !== undefined && body.version !== current.version) {
          throw appError(
            'CONFLICT',
            `Key ${id} was changed by someone else (version ${current.version}); reload and retry`,
          );
        }
        const patch: Updateable<KeysTable> = { updated_at: now };
        if (body.name !== undefined) patch.name = body.name;
        if (body.status !== undefined) patch.status = body.status;
        if (body.expires_at !== undefined) patch.expires_at = fromIso(body.expires_at);
        if (body.policy_ids !== undefined) {
          await checkPolicies(tx, body.policy_ids, 'policy_ids');
          patch.policy_ids = toDbJson([...new Set(body.policy_ids)]);
        }
        if ((await keysRepository.update(tx, id, current.version, patch)) !== 1) {
          throw appError('CONFLICT', `Key ${id} was changed concurrently; reload and retry`);
        }
        if (body.policy_ids !== undefined) await keysRepository.setPolicies(tx, id, body.policy_ids);
        await recordAudit(
          tx,
          actor,
          { action: 'key.updated', objectType: 'key', objectId: id, details: { fields: Object.keys(body) } },
          now,
        );
      });
      bus.publish({ topic: 'keys', id });
      return presentKey(await load(id));
    },

    /** Revokes a key for good (the gateway refuses it within a second). Idempotent. */
    async revoke(actor: Actor, id: string, ownerId?: string): Promise<KeyResponse> {
      const now = clock.now();
      const changed = await db.transaction().execute(async (tx) => {
        const current = await keysRepository.findById(tx, id);
        if (!current || (ownerId !== undefined && current.developer_id !== ownerId)) throw notFound('Key', id);
        if (current.status === 'revoked') return false;
        await tx
          .updateTable('keys')
          .set({
            status: 'revoked',
            previous_hash: null,
            previous_hash_expires_at: null,
            updated_at: now,
            version: current.version + 1,
          })
          .where('id', '=', id)
          .execute();
        await releaseSlot(tx, id);
        await recordAudit(tx, actor, { action: 'key.revoked', objectType: 'key', objectId: id, details: {} }, now);
        return true;
      });
      bus.publish({ topic: 'keys', id });
      const revoked = presentKey(await load(id));
      if (changed) events?.emit('key.revoked', revoked);
      return revoked;
    },

    /**
     * New secret for a key; the old one stops at once (or after the configured grace).
     * For a key approved by an admin this is the "reveal": its first secret.
     */
    async roll(actor: Actor, id: string, ownerId?: string): Promise<KeyResponse> {
      const now = clock.now();
      const parts = makeSecret();
      const revealed = await db.transaction().execute(async (tx) => {
        const current = await keysRepository.findById(tx, id);
        if (!current || (ownerId !== undefined && current.developer_id !== ownerId)) throw notFound('Key', id);
        if (current.status === 'revoked') throw appError('INVALID_STATE', `Key ${id} is revoked`);
        const grace = ctx.keyRollGraceSeconds * 1000;
        const patch: Updateable<KeysTable> = {
          hash: parts.hash,
          prefix: parts.prefix,
          last4: parts.last4,
          previous_hash: current.hash !== null && grace > 0 ? current.hash : null,
          previous_hash_expires_at: current.hash !== null && grace > 0 ? now + grace : null,
          updated_at: now,
        };
        // Optimistic on version: two rolls at once → one wins, the other gets 409.
        if ((await keysRepository.update(tx, id, current.version, patch)) !== 1) {
          throw appError('CONFLICT', `Key ${id} was changed concurrently; retry`);
        }
        await recordAudit(
          tx,
          actor,
          {
            action: current.hash === null ? 'key.revealed' : 'key.rolled',
            objectType: 'key',
            objectId: id,
            details: {},
          },
          now,
        );
        return current.hash === null;
      });
      bus.publish({ topic: 'keys', id });
      const key = await load(id);
      events?.emit('key.rolled', { ...presentKey(key), first_secret: revealed });
      return presentKey(key, parts.secret);
    },
  };
}

export type KeysService = ReturnType<typeof createKeysService>;
