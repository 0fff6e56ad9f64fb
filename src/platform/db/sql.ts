/**
 * The only place that knows how the two dialects differ (DESIGN §6).
 * One function per concept.
 */

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
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', '57P01', '57P03', '08006', '08001', '08003'].includes(code);
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
