/**
 * Rate-limit and quota counters. One interface, two implementations chosen once at
 * boot (memory now; Redis with atomic Lua scripts when scaled out). Nothing outside
 * the implementations knows which one is in use.
 *
 * Semantics (DESIGN §4), identical in every implementation:
 * - rate: never more than `limit` accepted hits in any rolling `windowMs`; a refused
 *   hit consumes nothing.
 * - quota: exactly `max` accepted hits per period; the period starts at the first hit
 *   after the previous period ended.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Hits still allowed right now (after this one, when allowed). */
  remaining: number;
  /** Epoch ms when the oldest counted hit leaves the window (a slot frees up). */
  resetAt: number;
  /** When refused: ms until a hit would be accepted. 0 when allowed. */
  retryAfterMs: number;
}

export interface QuotaDecision {
  allowed: boolean;
  max: number;
  /** Hits left in the current period (after this one, when allowed). */
  remaining: number;
  /** Epoch ms when the current period ends (renewal); null if no period has started. */
  resetAt: number | null;
}

export interface QuotaState {
  max: number;
  used: number;
  remaining: number;
  /** Null when no period is running (nothing used yet, or the last one ended). */
  resetAt: number | null;
}

export interface CounterStore {
  /** Counts one hit against a rolling-window limit, unless it would exceed it. */
  hitRate(key: string, limit: number, windowMs: number, now: number): Promise<RateDecision>;
  /** Current rate-limit state without counting a hit. */
  peekRate(key: string, limit: number, windowMs: number, now: number): Promise<RateDecision>;
  /** Counts one hit against a quota, unless it is exhausted. */
  hitQuota(key: string, max: number, periodMs: number, now: number): Promise<QuotaDecision>;
  /** Gives back one hit counted by `hitQuota` (the request was refused later, e.g. by the rate limit). */
  refundQuota(key: string, now: number): Promise<void>;
  peekQuota(key: string, max: number, now: number): Promise<QuotaState>;
  resetQuota(key: string): Promise<void>;
  close(): Promise<void>;
}
