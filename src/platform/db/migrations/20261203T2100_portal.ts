import type { Kysely } from 'kysely';

/**
 * Developer portal: single-use, expiring account tokens for password reset and email
 * verification (only their SHA-256 is stored). Login throttling needs no table: it
 * counts failures in the shared CounterStore. Frozen: imports no domain code.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and typed loosely (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('developer_account_tokens')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('developer_id', 'text', (c) => c.notNull().references('developers.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('developer_account_tokens_dev_idx')
    .ifNotExists()
    .on('developer_account_tokens')
    .columns(['developer_id', 'purpose', 'id'])
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('developer_account_tokens').ifExists().execute();
}
