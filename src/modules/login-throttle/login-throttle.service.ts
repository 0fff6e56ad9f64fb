import { sql } from 'kysely';
import { appError } from '../../shared/errors.js';
import type { Clock } from '../../shared/time.js';
import type { Db } from '../database.js';

export interface LoginThrottleLimits {
  /** Failures allowed per account in one window before it is locked. */
  perAccount: number;
  /** Failures allowed per client IP in one window (covers guessing across many accounts). */
  perIp: number;
  windowMs: number;
  lockMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginThrottleLimits = {
  perAccount: 5,
  perIp: 20,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/**
 * Admin sign-in throttle, per account and per IP, kept in the database so every node
 * counts the same failures. A locked account or IP gets 429 TOO_MANY_REQUESTS with
 * `retry_after` seconds, whether or not the password would have been right — so the
 * lock cannot be used as an oracle.
 */
export function createLoginThrottle(deps: { db: Db; clock: Clock; limits?: Partial<LoginThrottleLimits> }) {
  const { db, clock } = deps;
  const limits = { ...DEFAULT_LOGIN_LIMITS, ...deps.limits };
  const keysFor = (email: string, ip: string) => [`email:${email.trim().toLowerCase()}`, `ip:${ip}`];

  /**
   * One atomic upsert, so failures arriving at once on several nodes are all counted
   * (a read-then-write would lose increments under PostgreSQL's read committed).
   * In DO UPDATE every column reference is the row before the update.
   */
  async function bump(key: string, max: number, now: number): Promise<void> {
    const fresh = sql<boolean>`${now} - login_throttle.window_start >= ${limits.windowMs}`;
    const failures = sql<number>`case when ${fresh} then 1 else login_throttle.failures + 1 end`;
    await db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, locked_until: max <= 1 ? now + limits.lockMs : null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures,
          window_start: sql<number>`case when ${fresh} then ${now} else login_throttle.window_start end`,
          locked_until: sql<
            number | null
          >`case when ${failures} >= ${max} then ${now + limits.lockMs} when ${fresh} then null else login_throttle.locked_until end`,
        }),
      )
      .execute();
  }

  return {
    limits,

    /** Throws 429 when the account or the IP is locked. Call before checking the password. */
    async check(email: string, ip: string): Promise<void> {
      const now = clock.now();
      const rows = await db
        .selectFrom('login_throttle')
        .selectAll()
        .where('key', 'in', keysFor(email, ip))
        .orderBy('key')
        .execute();
      const until = Math.max(0, ...rows.map((r) => r.locked_until ?? 0));
      if (until > now) {
        const retryAfter = Math.ceil((until - now) / 1000);
        throw appError(
          'TOO_MANY_REQUESTS',
          `Too many failed sign-ins; try again in ${Math.ceil(retryAfter / 60)} minute(s)`,
          { retry_after: retryAfter },
        );
      }
    },

    async recordFailure(email: string, ip: string): Promise<void> {
      const now = clock.now();
      const [accountKey, ipKey] = keysFor(email, ip) as [string, string];
      await bump(accountKey, limits.perAccount, now);
      await bump(ipKey, limits.perIp, now);
    },

    /** A good sign-in clears the account's count (not the IP's). */
    async recordSuccess(email: string): Promise<void> {
      const [accountKey] = keysFor(email, '') as [string];
      await db.deleteFrom('login_throttle').where('key', '=', accountKey).execute();
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
