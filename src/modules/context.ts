import type { ChangeBus } from '../platform/kv/change-bus.js';
import type { Clock } from '../shared/time.js';
import type { Db } from './database.js';

/** What every service needs, built once at boot and passed in. */
export interface ModuleContext {
  db: Db;
  bus: ChangeBus;
  clock: Clock;
  /** Seconds an old secret keeps working after a roll (0 = stops at once). */
  keyRollGraceSeconds: number;
}

/** Who did something, for the audit log. */
export interface Actor {
  type: 'admin' | 'developer' | 'system';
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

/** A page of results and the cursor of the next page (DESIGN §4 list shape). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function pageOf<T, R extends { id: string }>(rows: R[], limit: number, present: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(present), next_cursor: more ? (kept[kept.length - 1]?.id ?? null) : null };
}
