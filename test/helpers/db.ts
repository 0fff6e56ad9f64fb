import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateToLatest, openDatabase, type DatabaseHandle, type DialectName } from '../../src/platform/db/index.js';
import type { Database } from '../../src/modules/database.js';

/** Dialects the integration tests run on: `DIALECTS=sqlite,postgres` (default sqlite). */
export function dialects(): DialectName[] {
  const raw = process.env.DIALECTS ?? 'sqlite';
  return raw
    .split(',')
    .map((d) => d.trim())
    .filter((d): d is DialectName => d === 'sqlite' || d === 'postgres');
}

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase extends DatabaseHandle<Database> {
  url: string;
  /** Closes the handle and drops the throw-away database. */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database: an in-file SQLite under the OS temp dir, or a new
 * PostgreSQL database created on the shared server and dropped afterwards.
 */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const name = `gh_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  let url: string;
  let drop: () => Promise<void>;
  if (dialect === 'sqlite') {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
    url = `sqlite:${join(dir, 'test.db')}`;
    drop = () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    };
  } else {
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const base = new URL(POSTGRES_ADMIN_URL);
    base.pathname = `/${name}`;
    url = base.toString();
    drop = async () => {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const handle = openDatabase<Database>(url);
  await migrateToLatest(handle.db);
  return {
    ...handle,
    url,
    async destroy() {
      await handle.close();
      await drop();
    },
  };
}
