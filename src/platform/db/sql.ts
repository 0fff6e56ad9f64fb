/**
 * The only place that knows how the two dialects differ (DESIGN §6).
 * One function per concept.
 */

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectName } from './database.js';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

/** True when `error` is a unique-constraint violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  // PostgreSQL: SQLSTATE 23505; better-sqlite3: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY.
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Names the violated unique constraint or column list, where the driver tells. */
export function violatedConstraint(error: unknown): string {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return '';
  if (typeof e.constraint === 'string') return e.constraint;
  // SQLite: "UNIQUE constraint failed: apis.listen_path"
  return typeof e.message === 'string' ? e.message.replace(/^UNIQUE constraint failed: /, '') : '';
}

/** True when `error` is a foreign-key violation on either dialect. */
export function isForeignKeyViolation(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  return e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** True when the error means the database cannot be reached right now. */
export function isConnectionError(error: unknown): boolean {
  const e = error as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P03', '08006', '08001', '08003'].includes(
    code,
  );
}

/** Booleans are stored as 0/1 integers on both dialects. */
export function toDbBool(value: boolean): number {
  return value ? 1 : 0;
}

export function fromDbBool(value: number | boolean | null | undefined): boolean {
  return value === 1 || value === true;
}

/** JSON is stored as text on both dialects. */
export function toDbJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromDbJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

// ── Query building (analytics) ─────────────────────────────────────────────────────
// SQL text that cannot be written once for both dialects. Each function takes the
// Kysely instance (or transaction) it will run on.

/** Which dialect `db` talks to, read from the placeholder style its compiler emits (`$1` vs `?`). */
export function dialectOfDb<DB>(db: Kysely<DB>): DialectName {
  const compiled = db.selectNoFrom(sql<number>`${1}`.as('probe')).compile();
  return compiled.sql.includes('$1') ? 'postgres' : 'sqlite';
}

/**
 * Element `index` of a JSON array of integers stored in a text column, as a number
 * (0 when missing), e.g. to `sum()` stored histograms inside the database.
 */
export function jsonArrayInt<DB>(db: Kysely<DB>, column: string, index: number): RawBuilder<number> {
  if (!Number.isInteger(index) || index < 0) throw new Error(`bad JSON array index: ${index}`);
  if (dialectOfDb(db) === 'postgres') {
    return sql<number>`coalesce((${sql.ref(column)}::json ->> ${sql.lit(index)})::bigint, 0)`;
  }
  return sql<number>`coalesce(json_extract(${sql.ref(column)}, ${sql.lit(`$[${index}]`)}), 0)`;
}
