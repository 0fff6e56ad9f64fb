import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../database.js';
import type { PagesTable } from './content.table.js';

export const pagesRepository = {
  async insert(db: Executor, row: Insertable<PagesTable>): Promise<void> {
    await db.insertInto('pages').values(row).execute();
  },

  async findById(db: Executor, id: string): Promise<PagesTable | undefined> {
    return db.selectFrom('pages').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async findBySlug(db: Executor, slug: string): Promise<PagesTable | undefined> {
    return db.selectFrom('pages').selectAll().where('slug', '=', slug).executeTakeFirst();
  },

  async list(db: Executor, opts: { after?: string; limit: number }): Promise<PagesTable[]> {
    let q = db.selectFrom('pages').selectAll().orderBy('id').limit(opts.limit);
    if (opts.after) q = q.where('id', '>', opts.after);
    return q.execute();
  },

  async findHomepage(db: Executor): Promise<PagesTable | undefined> {
    return db
      .selectFrom('pages')
      .selectAll()
      .where('is_homepage', '=', 1)
      .where('published', '=', 1)
      .orderBy('updated_at', 'desc')
      .orderBy('id')
      .executeTakeFirst();
  },

  /** Published pages that have a menu position, in menu order. */
  async listMenu(db: Executor): Promise<PagesTable[]> {
    return db
      .selectFrom('pages')
      .selectAll()
      .where('published', '=', 1)
      .where('menu_position', 'is not', null)
      .orderBy('menu_position')
      .orderBy('id')
      .limit(50)
      .execute();
  },

  async update(db: Executor, id: string, patch: Updateable<PagesTable>): Promise<number> {
    const result = await db.updateTable('pages').set(patch).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  async clearHomepage(db: Executor, exceptId: string): Promise<void> {
    await db
      .updateTable('pages')
      .set({ is_homepage: 0 })
      .where('is_homepage', '=', 1)
      .where('id', '!=', exceptId)
      .execute();
  },

  async delete(db: Executor, id: string): Promise<number> {
    const result = await db.deleteFrom('pages').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
