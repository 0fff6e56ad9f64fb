import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database.js';
import { updateVersioned } from '../versioned.js';
import type { CatalogueEntriesTable } from './catalogue.table.js';

export const catalogueRepository = {
  async insert(db: Executor, row: Insertable<CatalogueEntriesTable>): Promise<void> {
    await db.insertInto('catalogue_entries').values(row).execute();
  },

  async findById(db: Executor, id: string): Promise<CatalogueEntriesTable | undefined> {
    return db.selectFrom('catalogue_entries').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findBySlug(db: Executor, slug: string): Promise<CatalogueEntriesTable | undefined> {
    return db.selectFrom('catalogue_entries').selectAll().where('slug', '=', slug).executeTakeFirst();
  },

  async list(
    db: Executor,
    opts: { visibilities?: string[]; after?: string; limit: number },
  ): Promise<CatalogueEntriesTable[]> {
    let q = db.selectFrom('catalogue_entries').selectAll().orderBy('id').limit(opts.limit);
    if (opts.visibilities) q = q.where('visibility', 'in', opts.visibilities);
    if (opts.after) q = q.where('id', '>', opts.after);
    return q.execute();
  },

  update(db: Executor, id: string, version: number, patch: Updateable<CatalogueEntriesTable>): Promise<number> {
    return updateVersioned(db, 'catalogue_entries', id, version, patch);
  },

  async delete(db: Executor, id: string): Promise<number> {
    const result = await db.deleteFrom('catalogue_entries').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async countKeys(db: Executor, id: string): Promise<number> {
    const row = await db
      .selectFrom('keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('catalogue_id', '=', id)
      .where('status', '!=', 'revoked')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },
};
