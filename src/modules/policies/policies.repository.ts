import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database.js';
import { updateVersioned } from '../versioned.js';
import type { PoliciesTable } from './policies.table.js';

export const policiesRepository = {
  async insert(db: Executor, row: Insertable<PoliciesTable>, apiIds: string[]): Promise<void> {
    await db.insertInto('policies').values(row).execute();
    await this.setApis(db, row.id, apiIds);
  },

  async setApis(db: Executor, policyId: string, apiIds: string[]): Promise<void> {
    await db.deleteFrom('policy_apis').where('policy_id', '=', policyId).execute();
    const unique = [...new Set(apiIds)];
    if (unique.length > 0) {
      await db
        .insertInto('policy_apis')
        .values(unique.map((api_id) => ({ policy_id: policyId, api_id })))
        .execute();
    }
  },

  async findById(db: Executor, id: string): Promise<PoliciesTable | undefined> {
    return db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findByIds(db: Executor, ids: string[]): Promise<PoliciesTable[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('policies').selectAll().where('id', 'in', ids).orderBy('id').execute();
  },

  async list(db: Executor, opts: { after?: string; limit: number }): Promise<PoliciesTable[]> {
    let q = db.selectFrom('policies').selectAll().orderBy('id').limit(opts.limit);
    if (opts.after) q = q.where('id', '>', opts.after);
    return q.execute();
  },

  async listAll(db: Executor): Promise<PoliciesTable[]> {
    return db.selectFrom('policies').selectAll().orderBy('id').execute();
  },

  update(db: Executor, id: string, version: number, patch: Updateable<PoliciesTable>): Promise<number> {
    return updateVersioned(db, 'policies', id, version, patch);
  },

  async delete(db: Executor, id: string): Promise<number> {
    const result = await db.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async countKeysUsing(db: Executor, policyId: string): Promise<number> {
    const row = await db
      .selectFrom('key_policies')
      .innerJoin('keys', 'keys.id', 'key_policies.key_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key_policies.policy_id', '=', policyId)
      .where('keys.status', '!=', 'revoked')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  async catalogueIdsUsing(db: Executor, policyId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('catalogue_entries')
      .select('id')
      .where('policy_id', '=', policyId)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  },
};
