import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database.js';
import type { DevelopersTable, DeveloperTokensTable } from './developers.table.js';

export interface DeveloperListFilter {
  status?: string;
  /** Case-insensitive substring of the email. */
  email?: string;
  after?: string;
  limit: number;
}

export const developersRepository = {
  async insert(db: Executor, row: Insertable<DevelopersTable>): Promise<void> {
    await db.insertInto('developers').values(row).execute();
  },

  async findById(db: Executor, id: string): Promise<DevelopersTable | undefined> {
    return db.selectFrom('developers').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findByEmail(db: Executor, emailNormalized: string): Promise<DevelopersTable | undefined> {
    return db.selectFrom('developers').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();
  },

  async list(db: Executor, filter: DeveloperListFilter): Promise<DevelopersTable[]> {
    let q = db.selectFrom('developers').selectAll().orderBy('id').limit(filter.limit);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.email) q = q.where('email_normalized', 'like', `%${filter.email.toLowerCase().replace(/[%_\\]/g, '')}%`);
    if (filter.after) q = q.where('id', '>', filter.after);
    return q.execute();
  },

  /** Developers whose keys the gateway must refuse (DESIGN: deactivation stops keys at once). */
  async listNotActiveIds(db: Executor): Promise<string[]> {
    const rows = await db.selectFrom('developers').select('id').where('status', '!=', 'active').orderBy('id').execute();
    return rows.map((r) => r.id);
  },

  async update(db: Executor, id: string, patch: Updateable<DevelopersTable>): Promise<number> {
    const result = await db.updateTable('developers').set(patch).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  async delete(db: Executor, id: string): Promise<number> {
    const result = await db.deleteFrom('developers').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async insertToken(db: Executor, row: Insertable<DeveloperTokensTable>): Promise<void> {
    await db.insertInto('developer_tokens').values(row).execute();
  },

  async findToken(db: Executor, tokenHash: string): Promise<DeveloperTokensTable | undefined> {
    return db.selectFrom('developer_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  },

  async deleteToken(db: Executor, tokenHash: string): Promise<void> {
    await db.deleteFrom('developer_tokens').where('token_hash', '=', tokenHash).execute();
  },

  async deleteTokensOf(db: Executor, developerId: string): Promise<void> {
    await db.deleteFrom('developer_tokens').where('developer_id', '=', developerId).execute();
  },
};
