import type { Kysely } from 'kysely';

/**
 * Frozen: never edit after it has shipped; add a new migration instead.
 * Portable types only: text ids, bigint epoch ms, JSON as text, integer booleans.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are typed against no schema (Kysely docs)
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('admin_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('last_login_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('admin_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('admin_id', 'text', (c) => c.notNull().references('admin_users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('admin_tokens_admin_idx').on('admin_tokens').columns(['admin_id', 'id']).execute();

  await db.schema
    .createTable('apis')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('listen_path', 'text', (c) => c.notNull().unique())
    .addColumn('target_url', 'text', (c) => c.notNull())
    .addColumn('strip_listen_path', 'integer', (c) => c.notNull())
    .addColumn('auth', 'text', (c) => c.notNull())
    .addColumn('key_query_param', 'text')
    .addColumn('rate', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('per', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('upstream_timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('rate', 'integer', (c) => c.notNull())
    .addColumn('per', 'integer', (c) => c.notNull())
    .addColumn('quota_max', 'integer', (c) => c.notNull())
    .addColumn('quota_renewal_rate', 'integer', (c) => c.notNull())
    .addColumn('key_expires_in', 'integer', (c) => c.notNull())
    .addColumn('access_rights', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // Which policy grants which API, so "is this API still referenced?" is one indexed query.
  await db.schema
    .createTable('policy_apis')
    .addColumn('policy_id', 'text', (c) => c.notNull().references('policies.id').onDelete('cascade'))
    .addColumn('api_id', 'text', (c) => c.notNull().references('apis.id'))
    .addPrimaryKeyConstraint('policy_apis_pk', ['policy_id', 'api_id'])
    .execute();
  await db.schema.createIndex('policy_apis_api_idx').on('policy_apis').columns(['api_id', 'policy_id']).execute();

  await db.schema
    .createTable('catalogue_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('short_description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('long_description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('policy_id', 'text', (c) => c.notNull().references('policies.id'))
    .addColumn('approval', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('key_request_fields', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('allow_multiple_keys', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('catalogue_policy_idx').on('catalogue_entries').columns(['policy_id', 'id']).execute();

  await db.schema
    .createTable('documentation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('catalogue_id', 'text', (c) => c.notNull().references('catalogue_entries.id').onDelete('cascade'))
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('openapi', 'text')
    .addColumn('html', 'text')
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('is_current', 'integer', (c) => c.notNull())
    .addColumn('uploaded_by', 'text')
    .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('documentation_entry_idx')
    .on('documentation')
    .columns(['catalogue_id', 'uploaded_at', 'id'])
    .execute();

  await db.schema
    .createTable('developers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('email_verified_at', 'bigint')
    .addColumn('last_login_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('developer_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('developer_id', 'text', (c) => c.notNull().references('developers.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('developer_tokens_dev_idx')
    .on('developer_tokens')
    .columns(['developer_id', 'id'])
    .execute();

  await db.schema
    .createTable('keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('developer_id', 'text', (c) => c.references('developers.id').onDelete('cascade'))
    .addColumn('catalogue_id', 'text', (c) => c.references('catalogue_entries.id').onDelete('set null'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('policy_ids', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text')
    .addColumn('last4', 'text')
    .addColumn('hash', 'text', (c) => c.unique())
    .addColumn('previous_hash', 'text', (c) => c.unique())
    .addColumn('previous_hash_expires_at', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('keys_developer_idx').on('keys').columns(['developer_id', 'id']).execute();

  // A key belongs to one or more policies: the join table answers "which keys use this policy".
  await db.schema
    .createTable('key_policies')
    .addColumn('key_id', 'text', (c) => c.notNull().references('keys.id').onDelete('cascade'))
    .addColumn('policy_id', 'text', (c) => c.notNull().references('policies.id'))
    .addPrimaryKeyConstraint('key_policies_pk', ['key_id', 'policy_id'])
    .execute();
  await db.schema.createIndex('key_policies_policy_idx').on('key_policies').columns(['policy_id', 'key_id']).execute();

  await db.schema
    .createTable('key_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('developer_id', 'text', (c) => c.notNull().references('developers.id').onDelete('cascade'))
    .addColumn('catalogue_id', 'text', (c) => c.notNull().references('catalogue_entries.id').onDelete('cascade'))
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('reason', 'text')
    .addColumn('key_id', 'text', (c) => c.references('keys.id').onDelete('set null'))
    // Non-null while the request (or the key it produced) is live; unique per developer,
    // so a double submission cannot create a second request or key (see key-requests service).
    .addColumn('live_slot', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('key_requests_live_uq')
    .on('key_requests')
    .columns(['developer_id', 'live_slot'])
    .unique()
    .execute();
  await db.schema
    .createIndex('key_requests_status_idx')
    .on('key_requests')
    .columns(['status', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('pages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('template', 'text', (c) => c.notNull().defaultTo('page'))
    .addColumn('published', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_homepage', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('menu_position', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('portal_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .createIndex('audit_object_idx')
    .on('audit_events')
    .columns(['object_type', 'object_id', 'id'])
    .execute();

  await db.schema
    .createTable('analytics_rollups')
    .addColumn('resolution', 'text', (c) => c.notNull())
    .addColumn('bucket', 'bigint', (c) => c.notNull())
    .addColumn('api_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('developer_id', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('hits', 'bigint', (c) => c.notNull())
    .addColumn('successes', 'bigint', (c) => c.notNull())
    .addColumn('errors', 'bigint', (c) => c.notNull())
    .addColumn('bytes_in', 'bigint', (c) => c.notNull())
    .addColumn('bytes_out', 'bigint', (c) => c.notNull())
    .addColumn('latency_sum', 'bigint', (c) => c.notNull())
    .addColumn('latency_min', 'integer', (c) => c.notNull())
    .addColumn('latency_max', 'integer', (c) => c.notNull())
    .addColumn('upstream_latency_sum', 'bigint', (c) => c.notNull())
    .addColumn('histogram', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_rollups_pk', [
      'resolution',
      'bucket',
      'api_id',
      'key_id',
      'developer_id',
      'status',
    ])
    .execute();
  await db.schema
    .createIndex('analytics_rollups_key_idx')
    .on('analytics_rollups')
    .columns(['key_id', 'resolution', 'bucket'])
    .execute();
  await db.schema
    .createIndex('analytics_rollups_dev_idx')
    .on('analytics_rollups')
    .columns(['developer_id', 'resolution', 'bucket'])
    .execute();

  await db.schema
    .createTable('analytics_records')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('node_id', 'text', (c) => c.notNull())
    .addColumn('api_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('developer_id', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('upstream_latency_ms', 'integer', (c) => c.notNull())
    .addColumn('bytes_in', 'bigint', (c) => c.notNull())
    .addColumn('bytes_out', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('analytics_records_at_idx').on('analytics_records').columns(['at', 'id']).execute();
  await db.schema.createIndex('analytics_records_key_idx').on('analytics_records').columns(['key_id', 'at']).execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'analytics_records',
    'analytics_rollups',
    'audit_events',
    'portal_settings',
    'pages',
    'key_requests',
    'key_policies',
    'keys',
    'developer_tokens',
    'developers',
    'documentation',
    'catalogue_entries',
    'policy_apis',
    'policies',
    'apis',
    'admin_tokens',
    'admin_users',
    'meta',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
