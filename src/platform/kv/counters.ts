/**
 * Rate-limit and quota counters. One interface, two implementations chosen once at
 * boot (memory now; Redis with atomic Lua scripts when scaled out). Nothing outside
 * the implementations knows which one is in use.
 *
 * Semantics (DESIGN §4), identical in every implementation:
 * - rate: never more than `limit` accepted hits in any rolling `windowMs` (a hit at
 *   time t counts while `now - t < windowMs`); a refused hit consumes nothing.
 * - quota: exactly `max` accepted hits per period; the period starts at the first
 *   accepted hit after the previous period ended and lasts `periodMs`.
 * - `admit` decides every limit of one request at once and counts the hit against
 *   all of them only when all of them accept it. So a request that passes its rate
 *   limit but fails its quota (or an API-wide limit) consumes nothing anywhere, with
 *   no refund step and no window for a concurrent request to slip in between.
 */

/** A rolling-window limit: at most `limit` hits in any `windowMs`. */
export interface RateLimit {
  /** Counter key, e.g. `rl:k:<key id>` (see modules/keys/limits.ts). */
  key: string;
  /** > 0. */
  limit: number;
  /** > 0. */
  windowMs: number;
}

/** A quota: `max` hits per period of `periodMs`, starting at the first hit. */
export interface QuotaLimit {
  key: string;
  /** > 0. */
  max: number;
  /** > 0. */
  periodMs: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Hits still allowed right now (after this one, when allowed). */
  remaining: number;
  /** Epoch ms when the oldest counted hit leaves the window (a slot frees up); `now` when none is counted. */
  resetAt: number;
  /** When refused: ms until a hit would be accepted. 0 when allowed. */
  retryAfterMs: number;
}

export interface QuotaDecision {
  allowed: boolean;
  max: number;
  /** Hits left in the current period (after this one, when allowed). */
  remaining: number;
  /** Epoch ms when the current period ends (renewal); null if no period is running. */
  resetAt: number | null;
}

export interface QuotaState {
  max: number;
  used: number;
  remaining: number;
  /** Null when no period is running (nothing used yet, or the last one ended). */
  resetAt: number | null;
}

export interface AdmitDecision {
  /** True when every limit accepted the hit (and it was counted against all of them). */
  allowed: boolean;
  /**
   * Index in `rates` of the first rate limit that refused, or -1. Rate limits are
   * checked before the quota, so when this is ≥ 0 the quota was not consulted
   * (its decision is still filled in, as a peek, for the response headers).
   */
  refusedRate: number;
  /** True when the rate limits passed and the quota refused. */
  quotaRefused: boolean;
  /** One decision per entry of `rates`, same order. When refused, nothing was counted. */
  rates: RateDecision[];
  /** Null when no quota was given. */
  quota: QuotaDecision | null;
}

export interface CounterStore {
  /**
   * Decides one request against its rate limits (checked in order) and its quota,
   * atomically: the hit is counted against all of them, or against none.
   *
   * May return synchronously: the in-memory store decides in the calling tick and
   * skips a promise per request on the gateway's hot path; callers must accept both.
   */
  admit(rates: readonly RateLimit[], quota: QuotaLimit | null, now: number): AdmitDecision | Promise<AdmitDecision>;
  /** Current rate-limit state without counting a hit. */
  peekRate(key: string, limit: number, windowMs: number, now: number): Promise<RateDecision>;
  /** Current quota state without counting a hit. */
  peekQuota(key: string, max: number, now: number): Promise<QuotaState>;
  /** Forgets the quota usage of `key`: the next hit starts a fresh period. */
  resetQuota(key: string): Promise<void>;
  close(): Promise<void>;
}
