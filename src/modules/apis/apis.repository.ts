import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database.js';
import { updateVersioned } from '../versioned.js';
import type { ApisTable } from './apis.table.js';

export const apisRepository = {
  async insert(db: Executor, row: Insertable<ApisTable>): Promise<void> {
    await db.insertInto('apis').values(row).execute();
  },

  async findById(db: Executor, id: string): Promise<ApisTable | undefined> {
    return db.selectFrom('apis').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async list(db: Executor, opts: { after?: string; limit: number }): Promise<ApisTable[]> {
    let q = db.selectFrom('apis').selectAll().orderBy('id').limit(opts.limit);
    if (opts.after) q = q.where('id', '>', opts.after);
    return q.execute();
  },

  async listAll(db: Executor): Promise<ApisTable[]> {
    return db.selectFrom('apis').selectAll().orderBy('id').execute();
  },

  async findByIds(db: Executor, ids: string[]): Promise<ApisTable[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('apis').selectAll().where('id', 'in', ids).orderBy('id').execute();
  },

  /** Optimistic update: only when the stored version is still `version`. Returns rows changed. */
  update(db: Executor, id: string, version: number, patch: Updateable<ApisTable>): Promise<number> {
    return updateVersioned(db, 'apis', id, version, patch);
  },

  async delete(db: Executor, id: string): Promise<number> {
    const result = await db.deleteFrom('apis').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async policyIdsUsing(db: Executor, apiId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('policy_apis')
      .select('policy_id')
      .where('api_id', '=', apiId)
      .orderBy('policy_id')
      .execute();
    return rows.map((r) => r.policy_id);
  },
};
