import type { Insertable } from 'kysely';
import type { Executor } from '../database.js';
import type { DocumentationTable } from './docs.table.js';

/** A documentation row without its (possibly large) bodies, for version lists. */
export type DocumentationMeta = Omit<DocumentationTable, 'source' | 'openapi' | 'html'>;

const META_COLUMNS = [
  'id',
  'catalogue_id',
  'format',
  'source_type',
  'content_hash',
  'is_current',
  'uploaded_by',
  'uploaded_at',
] as const;

export const docsRepository = {
  async insert(db: Executor, row: Insertable<DocumentationTable>): Promise<void> {
    await db.insertInto('documentation').values(row).execute();
  },

  async findCurrent(db: Executor, catalogueId: string): Promise<DocumentationTable | undefined> {
    return db
      .selectFrom('documentation')
      .selectAll()
      .where('catalogue_id', '=', catalogueId)
      .where('is_current', '=', 1)
      .executeTakeFirst();
  },

  async findCurrentMeta(db: Executor, catalogueId: string): Promise<DocumentationMeta | undefined> {
    return db
      .selectFrom('documentation')
      .select(META_COLUMNS)
      .where('catalogue_id', '=', catalogueId)
      .where('is_current', '=', 1)
      .executeTakeFirst();
  },

  async findById(db: Executor, catalogueId: string, id: string): Promise<DocumentationTable | undefined> {
    return db
      .selectFrom('documentation')
      .selectAll()
      .where('catalogue_id', '=', catalogueId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** Newest first; ids are time-sortable, so they break ties between equal timestamps. */
  async listVersions(
    db: Executor,
    catalogueId: string,
    opts: { before?: string; limit: number },
  ): Promise<DocumentationMeta[]> {
    let q = db
      .selectFrom('documentation')
      .select(META_COLUMNS)
      .where('catalogue_id', '=', catalogueId)
      .orderBy('uploaded_at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit);
    if (opts.before) q = q.where('id', '<', opts.before);
    return q.execute();
  },

  async clearCurrent(db: Executor, catalogueId: string): Promise<number> {
    const result = await db
      .updateTable('documentation')
      .set({ is_current: 0 })
      .where('catalogue_id', '=', catalogueId)
      .where('is_current', '=', 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Deletes all but the newest `keep` versions of an entry's documentation. */
  async prune(db: Executor, catalogueId: string, keep: number): Promise<number> {
    const old = await db
      .selectFrom('documentation')
      .select('id')
      .where('catalogue_id', '=', catalogueId)
      .orderBy('uploaded_at', 'desc')
      .orderBy('id', 'desc')
      .offset(keep)
      .limit(1000)
      .execute();
    if (old.length === 0) return 0;
    const result = await db
      .deleteFrom('documentation')
      .where(
        'id',
        'in',
        old.map((r) => r.id),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
