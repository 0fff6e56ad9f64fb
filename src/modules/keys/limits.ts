import type { CounterStore, QuotaLimit, RateLimit } from '../../platform/kv/counters.js';
import type { MergedPolicy } from '../policies/index.js';

/**
 * Counter naming and read/reset helpers shared by the gateway (which counts) and the
 * control plane (which shows a key's limits and resets its quota). Counters are keyed
 * by key id, not by secret, so rolling a key keeps its usage.
 */

export function keyRateCounter(keyId: string): string {
  return `rl:k:${keyId}`;
}

export function keyQuotaCounter(keyId: string): string {
  return `q:k:${keyId}`;
}

/** The API-wide limit (`api.rate` per `api.per` seconds across every key). */
export function apiRateCounter(apiId: string): string {
  return `rl:a:${apiId}`;
}

/** A quota that never renews (renewal ≤ 0 with a positive maximum) runs for a century. */
const NEVER_RENEWS_MS = 100 * 365 * 24 * 3600 * 1000;

/** The key's rate limit as the CounterStore wants it; null when the merged policy has none. */
export function keyRateLimit(keyId: string, merged: MergedPolicy): RateLimit | null {
  if (merged.rate <= 0 || merged.per <= 0) return null;
  return { key: keyRateCounter(keyId), limit: merged.rate, windowMs: merged.per * 1000 };
}

/** The key's quota as the CounterStore wants it; null when unlimited. */
export function keyQuotaLimit(keyId: string, merged: MergedPolicy): QuotaLimit | null {
  if (merged.quotaMax <= 0) return null;
  const periodMs = merged.quotaRenewalRate > 0 ? merged.quotaRenewalRate * 1000 : NEVER_RENEWS_MS;
  return { key: keyQuotaCounter(keyId), max: merged.quotaMax, periodMs };
}

/** An API-wide rate limit; null when the API has none. */
export function apiRateLimit(api: { id: string; rate: number; per: number }): RateLimit | null {
  if (api.rate <= 0 || api.per <= 0) return null;
  return { key: apiRateCounter(api.id), limit: api.rate, windowMs: api.per * 1000 };
}

export interface KeyLimitsState {
  /** Null = no rate limit. */
  rate: {
    limit: number;
    /** Window in seconds. */
    per: number;
    /** Requests that would be accepted right now. */
    remaining: number;
    /** Epoch ms when the oldest counted request leaves the window (now, when none is counted). */
    resetAt: number;
  } | null;
  /** Null = unlimited. */
  quota: {
    max: number;
    used: number;
    remaining: number;
    /** Period length in seconds (0 = never renews). */
    renewalRate: number;
    /** Epoch ms when the running period ends; null when none is running (full quota available). */
    resetAt: number | null;
  } | null;
}

/** A key's current rate-limit and quota state, without counting anything. */
export async function keyLimitsState(
  counters: CounterStore,
  grant: { keyId: string; merged: MergedPolicy },
  now: number = Date.now(),
): Promise<KeyLimitsState> {
  const rate = keyRateLimit(grant.keyId, grant.merged);
  const quota = keyQuotaLimit(grant.keyId, grant.merged);
  const [rateState, quotaState] = await Promise.all([
    rate ? counters.peekRate(rate.key, rate.limit, rate.windowMs, now) : null,
    quota ? counters.peekQuota(quota.key, quota.max, now) : null,
  ]);
  return {
    rate:
      rate && rateState
        ? { limit: rate.limit, per: grant.merged.per, remaining: rateState.remaining, resetAt: rateState.resetAt }
        : null,
    quota:
      quota && quotaState
        ? {
            max: quota.max,
            used: quotaState.used,
            remaining: quotaState.remaining,
            renewalRate: Math.max(0, grant.merged.quotaRenewalRate),
            resetAt: quotaState.resetAt,
          }
        : null,
  };
}

/** Forgets a key's quota usage (admin "reset quota"): its next request starts a new period. */
export async function resetKeyQuota(counters: CounterStore, keyId: string): Promise<void> {
  await counters.resetQuota(keyQuotaCounter(keyId));
}
