import type { Kysely } from 'kysely';

/**
 * Analytics look-ups by developer: the developer dashboard's "recent errors" reads raw
 * records by developer_id, newest first, which the initial indexes (at, key_id) do not
 * serve. Frozen: imports no domain code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and typed loosely (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('analytics_records_dev_idx')
    .ifNotExists()
    .on('analytics_records')
    .columns(['developer_id', 'at'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_records_dev_idx').ifExists().execute();
}
