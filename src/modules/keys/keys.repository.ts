import { sql, type Insertable, type Updateable } from 'kysely';
import type { Executor } from '../database.js';
import { updateVersioned } from '../versioned.js';
import { GATEWAY_KEY_COLUMNS, type GatewayKeyRow, type KeysTable } from './keys.table.js';

export interface KeyListFilter {
  developerId?: string;
  /** Keys that carry this policy. */
  policyId?: string;
  prefix?: string;
  status?: string;
  after?: string;
  limit: number;
}

export const keysRepository = {
  async insert(db: Executor, row: Insertable<KeysTable>, policyIds: string[]): Promise<void> {
    await db.insertInto('keys').values(row).execute();
    await this.setPolicies(db, row.id, policyIds);
  },

  async setPolicies(db: Executor, keyId: string, policyIds: string[]): Promise<void> {
    await db.deleteFrom('key_policies').where('key_id', '=', keyId).execute();
    const unique = [...new Set(policyIds)];
    if (unique.length > 0) {
      await db
        .insertInto('key_policies')
        .values(unique.map((policy_id) => ({ key_id: keyId, policy_id })))
        .execute();
    }
  },

  async findById(db: Executor, id: string): Promise<KeysTable | undefined> {
    return db.selectFrom('keys').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** The gateway's fallback on a snapshot miss: by current or (unexpired) previous hash. */
  async findByHash(db: Executor, hash: string): Promise<KeysTable | undefined> {
    return db
      .selectFrom('keys')
      .selectAll()
      .where((eb) => eb.or([eb('hash', '=', hash), eb('previous_hash', '=', hash)]))
      .executeTakeFirst();
  },

  async list(db: Executor, filter: KeyListFilter): Promise<KeysTable[]> {
    let q = db.selectFrom('keys').selectAll().orderBy('id').limit(filter.limit);
    if (filter.developerId) q = q.where('developer_id', '=', filter.developerId);
    if (filter.policyId) {
      const policyId = filter.policyId;
      q = q.where('id', 'in', (eb) => eb.selectFrom('key_policies').select('key_id').where('policy_id', '=', policyId));
    }
    // Key prefixes contain `_` (gh_…), a LIKE wildcard: escape it instead of dropping it.
    if (filter.prefix)
      q = q.where(sql<boolean>`prefix like ${`${filter.prefix.replace(/[%_\\]/g, (c) => `\\${c}`)}%`} escape '\\'`);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.after) q = q.where('id', '>', filter.after);
    return q.execute();
  },

  /** Every key the gateway may admit (not revoked, with a secret). */
  /** Keys that can still admit a request, with the gateway's columns only. */
  async listLive(db: Executor): Promise<GatewayKeyRow[]> {
    return db
      .selectFrom('keys')
      .select(GATEWAY_KEY_COLUMNS)
      .where('status', '!=', 'revoked')
      .where('hash', 'is not', null)
      .orderBy('id')
      .execute();
  },

  update(db: Executor, id: string, version: number, patch: Updateable<KeysTable>): Promise<number> {
    return updateVersioned(db, 'keys', id, version, patch);
  },

  async touchLastUsed(db: Executor, ids: Map<string, number>): Promise<void> {
    for (const [id, at] of ids) {
      await db.updateTable('keys').set({ last_used_at: at }).where('id', '=', id).execute();
    }
  },
};
