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

export const DEFAULT_LOGIN_LIMITS: LoginThrottleLimits = { perAccount: 5, perIp: 20, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

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

  async function bump(key: string, max: number, now: number): Promise<void> {
    await db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      const fresh = !row || now - row.window_start >= limits.windowMs;
      const failures = fresh ? 1 : row.failures + 1;
      const values = {
        failures,
        window_start: fresh ? now : row.window_start,
        locked_until: failures >= max ? now + limits.lockMs : fresh ? null : row.locked_until,
      };
      await tx
        .insertInto('login_throttle')
        .values({ key, ...values })
        .onConflict((oc) => oc.column('key').doUpdateSet(values))
        .execute();
    });
  }

  return {
    limits,

    /** Throws 429 when the account or the IP is locked. Call before checking the password. */
    async check(email: string, ip: string): Promise<void> {
      const now = clock.now();
      const rows = await db.selectFrom('login_throttle').selectAll().where('key', 'in', keysFor(email, ip)).orderBy('key').execute();
      const until = Math.max(0, ...rows.map((r) => r.locked_until ?? 0));
      if (until > now) {
        const retryAfter = Math.ceil((until - now) / 1000);
        throw appError('TOO_MANY_REQUESTS', `Too many failed sign-ins; try again in ${Math.ceil(retryAfter / 60)} minute(s)`, { retry_after: retryAfter });
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
