import type { Kysely } from 'kysely';

/**
 * The raw request log stored a flushed batch per row (up to 500 records, packed), so
 * that keeping every request costs the writer one insert per batch instead of one per
 * request. `analytics_records` keeps failed requests (status >= 400) one per row, for
 * the look-ups by key, developer and code. Frozen: imports no domain code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and typed loosely (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('analytics_record_chunks')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('first_at', 'bigint', (c) => c.notNull())
    .addColumn('last_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('analytics_record_chunks_first_idx')
    .ifNotExists()
    .on('analytics_record_chunks')
    .columns(['first_at', 'id'])
    .execute();
  await db.schema
    .createIndex('analytics_record_chunks_last_idx')
    .ifNotExists()
    .on('analytics_record_chunks')
    .columns(['last_at'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('analytics_record_chunks').ifExists().execute();
}
