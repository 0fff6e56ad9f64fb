import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/20261203T1900_initial.js';
import * as analytics from './migrations/20261203T2000_analytics.js';
import * as portal from './migrations/20261203T2100_portal.js';
import * as admin from './migrations/20261203T2120_admin.js';
import * as analyticsErrorIndexes from './migrations/20261204T0700_analytics_error_indexes.js';
import * as analyticsRecordChunks from './migrations/20261204T0800_analytics_record_chunks.js';

/** Migrations listed statically so they survive bundling and need no file-system scan. */
const MIGRATIONS: Record<string, Migration> = {
  '20261203T1900_initial': initial,
  '20261203T2000_analytics': analytics,
  '20261203T2100_portal': portal,
  '20261203T2120_admin': admin,
  '20261204T0700_analytics_error_indexes': analyticsErrorIndexes,
  '20261204T0800_analytics_record_chunks': analyticsRecordChunks,
};

class StaticProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(MIGRATIONS);
  }
}

/**
 * Runs pending migrations. Kysely's migrator takes a lock (a lock table, row-locked on
 * PostgreSQL), so several nodes starting at once migrate once.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export function migrationNames(): string[] {
  return Object.keys(MIGRATIONS);
}
