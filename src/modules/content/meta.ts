import type { Executor } from '../database.js';

/** Small installation-wide values (generated secret, state version). */
export async function readMeta(db: Executor, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Writes `value` only if the key has none yet; returns the value that is stored. */
export async function initMeta(db: Executor, key: string, value: string, now: number): Promise<string> {
  await db
    .insertInto('meta')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await readMeta(db, key)) ?? value;
}
