import { sql, type Kysely } from 'kysely';

/**
 * Raw analytics records are read by key and by developer only for their errors
 * (recent errors: status >= 400). Indexing every record by key and developer cost each
 * insert two more B-tree updates (≈ 1 µs a row of the writer's time on SQLite); partial
 * indexes over the errors serve the same queries and leave successful requests to the
 * primary key and the time index. Frozen: imports no domain code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and typed loosely (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_records_key_idx').ifExists().execute();
  await db.schema.dropIndex('analytics_records_dev_idx').ifExists().execute();
  await db.schema
    .createIndex('analytics_records_key_errors_idx')
    .ifNotExists()
    .on('analytics_records')
    .columns(['key_id', 'at'])
    .where(sql.ref('status'), '>=', sql.lit(400))
    .execute();
  await db.schema
    .createIndex('analytics_records_dev_errors_idx')
    .ifNotExists()
    .on('analytics_records')
    .columns(['developer_id', 'at'])
    .where(sql.ref('status'), '>=', sql.lit(400))
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('analytics_records_key_errors_idx').ifExists().execute();
  await db.schema.dropIndex('analytics_records_dev_errors_idx').ifExists().execute();
  await db.schema.createIndex('analytics_records_key_idx').on('analytics_records').columns(['key_id', 'at']).execute();
  await db.schema
    .createIndex('analytics_records_dev_idx')
    .on('analytics_records')
    .columns(['developer_id', 'at'])
    .execute();
}
