import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle<DB> {
  db: Kysely<DB>;
  dialect: DialectName;
  close(): Promise<void>;
}

// pg returns int8 (bigint) as text by default; our bigints are epoch ms and counters,
// all far below 2^53, so parse them as numbers once, for every pool.
pg.types.setTypeParser(20, (value: string) => Number(value));
pg.types.setTypeParser(1700, (value: string) => Number(value));

/** `sqlite:./data/gatehouse.db`, `sqlite::memory:` or `postgres://…`. */
export function dialectOf(url: string): DialectName {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('sqlite:')) return 'sqlite';
  throw new Error(`unsupported database URL scheme: ${url.split(':')[0] ?? ''}`);
}

/**
 * SQLite transactions start with `BEGIN IMMEDIATE`: the write lock is taken (waiting up
 * to busy_timeout) before the first read. A deferred transaction that reads and then
 * writes fails at once with SQLITE_BUSY_SNAPSHOT, without waiting, when another
 * connection (the analytics writer thread) committed in between.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

export interface OpenOptions {
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

export function openDatabase<DB>(url: string, options: OpenOptions = {}): DatabaseHandle<DB> {
  const dialect = dialectOf(url);
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
    return { db, dialect, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client losing its connection must not crash the process (DB restarts).
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect, close: () => db.destroy() };
}
