import { createHash } from 'node:crypto';
import type { CounterStore } from '../../../platform/kv/index.js';

export interface LoginLimits {
  /** Failed log-ins allowed per account in one window. */
  perAccount: number;
  /** Failed log-ins allowed per client IP in one window (guessing across accounts). */
  perIp: number;
  windowMs: number;
}

export const DEFAULT_PORTAL_LOGIN_LIMITS: LoginLimits = { perAccount: 5, perIp: 20, windowMs: 15 * 60_000 };

/**
 * Developer log-in throttling, per account and per IP, kept in the shared CounterStore
 * (in memory on one node, Redis when scaled out) as quotas: a window starts at the
 * first failure, a good log-in clears the account's count. While either is exhausted
 * the portal answers 429 without checking the password, so the lock is no oracle.
 */
export function createLoginThrottle(counters: CounterStore, limits: LoginLimits, clock: { now(): number }) {
  const accountKey = (email: string) =>
    `portal-login:acct:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
  const ipKey = (ip: string) => `portal-login:ip:${ip}`;

  return {
    /** Seconds to wait when locked, else 0. */
    async retryAfter(email: string, ip: string): Promise<number> {
      const now = clock.now();
      const [account, byIp] = await Promise.all([
        counters.peekQuota(accountKey(email), limits.perAccount, now),
        counters.peekQuota(ipKey(ip), limits.perIp, now),
      ]);
      let until = 0;
      if (account.remaining <= 0) until = Math.max(until, account.resetAt ?? now + limits.windowMs);
      if (byIp.remaining <= 0) until = Math.max(until, byIp.resetAt ?? now + limits.windowMs);
      return until > now ? Math.ceil((until - now) / 1000) : 0;
    },

    async failed(email: string, ip: string): Promise<void> {
      const now = clock.now();
      await counters.admit([], { key: accountKey(email), max: limits.perAccount, periodMs: limits.windowMs }, now);
      await counters.admit([], { key: ipKey(ip), max: limits.perIp, periodMs: limits.windowMs }, now);
    },

    async succeeded(email: string): Promise<void> {
      await counters.resetQuota(accountKey(email));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
