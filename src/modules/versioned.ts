import type { Updateable } from 'kysely';
import type { Database, Executor } from './database.js';

/** Tables whose rows carry a `version` for optimistic concurrency. */
export type VersionedTable = 'apis' | 'policies' | 'catalogue_entries' | 'keys';

/**
 * Applies `patch` only if the row is still at `version`, bumping it; returns the rows
 * changed (0 = someone else changed it first, or it is gone). One statement, so two
 * concurrent edits cannot both win.
 */
export async function updateVersioned<T extends VersionedTable>(
  db: Executor,
  table: T,
  id: string,
  version: number,
  patch: Updateable<Database[T]>,
): Promise<number> {
  // Kysely cannot narrow a union of table names per call; the columns used here exist on all four.
  const result = await db
    .updateTable(table as 'apis')
    .set({ ...(patch as Updateable<Database['apis']>), version: version + 1 })
    .where('id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
