import type { Redis } from 'ioredis';
import { appError } from '../../shared/errors.js';
import type {
  AdmitDecision,
  CounterStore,
  QuotaDecision,
  QuotaLimit,
  QuotaState,
  RateDecision,
  RateLimit,
} from './counters.js';
import { MemoryCounterStore } from './memory-counters.js';
import type { KvLogger } from './redis-connection.js';

/**
 * The sliding log and quota of memory-counters.ts, as Lua run inside Redis, so that a
 * request's whole decision (every rate limit, then the quota, then counting the hit
 * against all of them or none) is ONE atomic script call (NOTES: one call ≈ 10 µs of
 * Redis CPU + 9 µs of client CPU per request).
 *
 * Data layout, per counter:
 * - rate: a LIST of accepted hit times (epoch ms), oldest first; never longer than the
 *   limit (a hit is appended only when it fits), expired from the head.
 * - quota: a HASH {used, ends}; the period starts at the first accepted hit after the
 *   previous one ended.
 * Both get a TTL so idle counters disappear by themselves (the memory store's sweep).
 *
 * Clock: by default the script reads Redis's own TIME, so every gateway node decides
 * on one clock and skew between nodes cannot widen a window. Tests that replay the
 * memory store's cases pass `clock: 'caller'` and use the `now` they give.
 */
const PREAMBLE = `
-- Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to
-- replicate effects; from 5 on this is the default (and 7 keeps the call as a no-op).
if redis.replicate_commands then redis.replicate_commands() end

local function clock(arg)
  if arg == '' then
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return math.floor(tonumber(arg))
end

-- Expires hits that left the window (a hit at t counts while now - t < window) and
-- decides one more hit without counting it. Returns t (never before the newest hit:
-- clocks can step back), count, allowed, remaining, resetAt, retryAfterMs.
local function decide(key, limit, window, now)
  local count = redis.call('LLEN', key)
  local t = now
  if count > 0 then
    local newest = tonumber(redis.call('LINDEX', key, -1))
    if newest > t then t = newest end
    local cutoff = t - window
    while count > 0 and tonumber(redis.call('LINDEX', key, 0)) <= cutoff do
      redis.call('LPOP', key)
      count = count - 1
    end
  end
  if count == 0 then return t, 0, 1, limit, t, 0 end
  local oldest = tonumber(redis.call('LINDEX', key, 0))
  if count < limit then return t, count, 1, limit - count, oldest + window, 0 end
  -- Full (or over, after the limit was lowered): a hit fits once all but limit-1 left.
  local freeing = tonumber(redis.call('LINDEX', key, count - limit))
  return t, count, 0, 0, oldest + window, math.max(1, freeing + window - t)
end
`;

/**
 * KEYS: rate logs 1..n, then the quota hash when ARGV[3] == '1'.
 * ARGV: now ('' = Redis TIME), n, hasQuota, limit_1, window_1, ..., quotaMax, periodMs.
 * Reply: allowed, refusedRate, quotaRefused, now, then 4 per rate (allowed, remaining,
 * resetAt, retryAfterMs), then 3 for the quota (allowed, remaining, resetAt or -1).
 */
const ADMIT = `${PREAMBLE}
local now = clock(ARGV[1])
local n = tonumber(ARGV[2])
local out = {0, -1, 0, now}
local ts, counts = {}, {}
local refused = -1
for i = 1, n do
  local limit, window = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local t, count, allowed, remaining, resetAt, retry = decide(KEYS[i], limit, window, now)
  ts[i], counts[i] = t, count
  if allowed == 0 and refused < 0 then refused = i - 1 end
  local b = 4 + (i - 1) * 4
  out[b + 1], out[b + 2], out[b + 3], out[b + 4] = allowed, remaining, resetAt, retry
end
local hasQuota = ARGV[3] == '1'
local qkey, qmax, period, used, ends, running, quotaRefused = nil, 0, 0, 0, -1, false, false
if hasQuota then
  qkey = KEYS[n + 1]
  qmax, period = tonumber(ARGV[4 + 2 * n]), tonumber(ARGV[5 + 2 * n])
  local h = redis.call('HMGET', qkey, 'used', 'ends')
  if h[2] and now < tonumber(h[2]) then
    running, used, ends = true, tonumber(h[1]) or 0, tonumber(h[2])
  end
  quotaRefused = refused < 0 and used >= qmax
  local q = 4 + n * 4
  out[q + 1] = (used < qmax) and 1 or 0
  out[q + 2] = math.max(0, qmax - used)
  out[q + 3] = running and ends or -1
end
out[2] = refused
if refused >= 0 or quotaRefused then
  if quotaRefused then out[3] = 1 end
  return out
end
-- Everything accepted: count the hit against every limit.
for i = 1, n do
  local key, limit, window = KEYS[i], tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('RPUSH', key, ts[i])
  local count = counts[i] + 1
  local oldest = ts[i]
  if counts[i] > 0 then oldest = tonumber(redis.call('LINDEX', key, 0)) end
  redis.call('PEXPIRE', key, ts[i] - now + window + 1000)
  local b = 4 + (i - 1) * 4
  out[b + 2], out[b + 3] = math.max(0, limit - count), oldest + window
end
if hasQuota then
  if not running then
    ends = now + period
    redis.call('HSET', qkey, 'used', 0, 'ends', ends)
    redis.call('PEXPIRE', qkey, period + 1000)
  end
  used = redis.call('HINCRBY', qkey, 'used', 1)
  local q = 4 + n * 4
  out[q + 2], out[q + 3] = math.max(0, qmax - used), ends
end
out[1] = 1
return out
`;

/** KEYS: the rate log. ARGV: now, limit, window. Reply: allowed, remaining, resetAt, retryAfterMs. */
const PEEK_RATE = `${PREAMBLE}
local now = clock(ARGV[1])
local t, count, allowed, remaining, resetAt, retry = decide(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), now)
return {allowed, remaining, resetAt, retry}
`;

/** KEYS: the quota hash. ARGV: now. Reply: used, ends (-1 when no period is running). */
const PEEK_QUOTA = `
local now = ARGV[1]
if now == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(now)
end
local h = redis.call('HMGET', KEYS[1], 'used', 'ends')
if h[2] and now < tonumber(h[2]) then return {tonumber(h[1]) or 0, tonumber(h[2])} end
return {0, -1}
`;

interface ScriptedRedis extends Redis {
  ghAdmit(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  ghPeekRate(key: string, now: string, limit: number, window: number): Promise<number[]>;
  ghPeekQuota(key: string, now: string): Promise<number[]>;
}

/** How long the fail mode is used without trying Redis after a failed call. */
const SKIP_AFTER_FAILURE_MS = 1_000;

export type RedisFailMode = 'fail_open' | 'fail_closed';

export interface RedisCounterStoreOptions {
  /** Prepended to every key (see parseRedisUrl). */
  prefix: string;
  /** Redis unreachable: count per node in memory (approximate), or refuse. */
  failMode: RedisFailMode;
  logger: KvLogger;
  /** 'redis' (default): decide on Redis's clock; 'caller': use the `now` passed in (tests). */
  clock?: 'redis' | 'caller';
  /** Called on every switch between Redis and the fallback, for metrics. */
  onModeChange?: (degraded: boolean) => void;
}

/**
 * Redis key of a counter, with a Redis-Cluster hash tag: the id inside `{}`. The
 * counters of one key (`rl:k:<id>`, `q:k:<id>`) share a tag and so a slot; an API-wide
 * limit (`rl:a:<api id>`) has its own. `rl:k:key_01J…` → `<prefix>rl:k:{key_01J…}`.
 */
export function redisCounterKey(prefix: string, counter: string): string {
  const cut = counter.lastIndexOf(':');
  return cut < 0 ? `${prefix}{${counter}}` : `${prefix}${counter.slice(0, cut + 1)}{${counter.slice(cut + 1)}}`;
}

/**
 * CounterStore on Redis (DESIGN §7), exact across gateway nodes. When Redis cannot be
 * reached, `failMode` decides: `fail_open` counts in a per-node MemoryCounterStore (each
 * node then enforces the full limit on its own, so N nodes may admit up to N× —
 * approximate, documented), `fail_closed` refuses (the gateway answers 503
 * LIMITS_UNAVAILABLE). Either way it logs once per outage and goes back to Redis as
 * soon as the client is ready again.
 */
export class RedisCounterStore implements CounterStore {
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly callerClock: boolean;
  private fallback = new MemoryCounterStore();
  private degraded = false;
  /**
   * After a failed call (a timeout: Redis hung, or a half-open connection the client
   * still calls ready), go straight to the fail mode until this time instead of making
   * every request wait for its own timeout; then one call tries Redis again.
   */
  private skipUntil = 0;
  /** Counter name → Redis key, so the hot path does not build the same string per request. */
  private readonly keyCache = new Map<string, string>();

  constructor(
    redis: Redis,
    private readonly options: RedisCounterStoreOptions,
  ) {
    this.prefix = options.prefix;
    this.callerClock = options.clock === 'caller';
    redis.defineCommand('ghAdmit', { lua: ADMIT });
    redis.defineCommand('ghPeekRate', { lua: PEEK_RATE, numberOfKeys: 1 });
    redis.defineCommand('ghPeekQuota', { lua: PEEK_QUOTA, numberOfKeys: 1 });
    this.redis = redis as ScriptedRedis;
    redis.on('ready', () => this.recovered());
  }

  /** True while Redis is unreachable and the fail mode is in force. */
  isDegraded(): boolean {
    return this.degraded;
  }

  admit(rates: readonly RateLimit[], quota: QuotaLimit | null, now: number): AdmitDecision | Promise<AdmitDecision> {
    // Not connected: decide at once rather than wait for a timeout on every request.
    if (!this.usable()) return this.unavailable(null, () => this.fallback.admit(rates, quota, now));
    const n = rates.length;
    const args: (string | number)[] = new Array<string | number>(n + (quota ? 1 : 0) + 3 + n * 2 + (quota ? 2 : 0));
    let a = 0;
    for (let i = 0; i < n; i++) args[a++] = this.key((rates[i] as RateLimit).key);
    if (quota) args[a++] = this.key(quota.key);
    args[a++] = this.callerClock ? now : '';
    args[a++] = n;
    args[a++] = quota ? '1' : '0';
    for (let i = 0; i < n; i++) {
      const rate = rates[i] as RateLimit;
      args[a++] = rate.limit;
      args[a++] = rate.windowMs;
    }
    if (quota) {
      args[a++] = quota.max;
      args[a++] = quota.periodMs;
    }
    return this.redis.ghAdmit(n + (quota ? 1 : 0), ...args).then(
      (reply) => this.toDecision(reply, rates, quota),
      (error: unknown) => this.unavailable(error, () => this.fallback.admit(rates, quota, now)),
    );
  }

  async peekRate(key: string, limit: number, windowMs: number, now: number): Promise<RateDecision> {
    if (!this.usable()) return this.unavailable(null, () => this.fallback.peekRate(key, limit, windowMs, now));
    try {
      const r = await this.redis.ghPeekRate(this.key(key), this.callerClock ? String(now) : '', limit, windowMs);
      return {
        allowed: r[0] === 1,
        limit,
        remaining: r[1] as number,
        resetAt: r[2] as number,
        retryAfterMs: r[3] as number,
      };
    } catch (error) {
      return this.unavailable(error, () => this.fallback.peekRate(key, limit, windowMs, now));
    }
  }

  async peekQuota(key: string, max: number, now: number): Promise<QuotaState> {
    if (!this.usable()) return this.unavailable(null, () => this.fallback.peekQuota(key, max, now));
    try {
      const [used = 0, ends = -1] = await this.redis.ghPeekQuota(this.key(key), this.callerClock ? String(now) : '');
      return { max, used, remaining: Math.max(0, max - used), resetAt: ends < 0 ? null : ends };
    } catch (error) {
      return this.unavailable(error, () => this.fallback.peekQuota(key, max, now));
    }
  }

  async resetQuota(key: string): Promise<void> {
    await this.fallback.resetQuota(key);
    if (this.redis.status !== 'ready') return this.unavailable(null, () => Promise.resolve());
    try {
      await this.redis.del(this.key(key));
    } catch (error) {
      return this.unavailable(error, () => Promise.resolve());
    }
  }

  async close(): Promise<void> {
    await this.fallback.close();
  }

  private usable(): boolean {
    return this.redis.status === 'ready' && (this.skipUntil === 0 || Date.now() >= this.skipUntil);
  }

  private key(counter: string): string {
    let k = this.keyCache.get(counter);
    if (k === undefined) {
      if (this.keyCache.size >= 100_000) this.keyCache.clear();
      k = redisCounterKey(this.prefix, counter);
      this.keyCache.set(counter, k);
    }
    return k;
  }

  /** Redis failed or is not connected: the fail mode decides. */
  private unavailable<T>(error: unknown, open: () => T): T {
    if (error !== null) this.skipUntil = Date.now() + SKIP_AFTER_FAILURE_MS;
    if (!this.degraded) {
      this.degraded = true;
      // Once per outage; recovery is logged by recovered().
      this.options.logger.error(
        { err: error ?? undefined, fail_mode: this.options.failMode, redis_status: this.redis.status },
        this.options.failMode === 'fail_open'
          ? 'Redis unreachable: rate limits and quotas are now counted per node in memory (approximate) until it returns'
          : 'Redis unreachable: refusing limited requests (503 LIMITS_UNAVAILABLE) until it returns',
      );
      this.options.onModeChange?.(true);
    }
    if (this.options.failMode === 'fail_open') return open();
    // The gateway turns any refusal into 503 LIMITS_UNAVAILABLE; the control plane's
    // error handler sends this one as 503 SERVICE_UNAVAILABLE.
    throw appError('SERVICE_UNAVAILABLE', 'Rate-limit counters are unavailable (Redis is unreachable)');
  }

  private recovered(): void {
    this.skipUntil = 0;
    if (!this.degraded) return;
    this.degraded = false;
    // Per-node counts from the outage are dropped: Redis is the one truth again.
    const old = this.fallback;
    this.fallback = new MemoryCounterStore();
    void old.close();
    this.options.logger.info({}, 'Redis reachable again: rate limits and quotas are shared across nodes again');
    this.options.onModeChange?.(false);
  }

  private toDecision(r: number[], rates: readonly RateLimit[], quota: QuotaLimit | null): AdmitDecision {
    if (this.degraded && this.redis.status === 'ready') this.recovered();
    const n = rates.length;
    const decisions = new Array<RateDecision>(n);
    for (let i = 0; i < n; i++) {
      const b = 4 + i * 4;
      decisions[i] = {
        allowed: r[b] === 1,
        limit: (rates[i] as RateLimit).limit,
        remaining: r[b + 1] as number,
        resetAt: r[b + 2] as number,
        retryAfterMs: r[b + 3] as number,
      };
    }
    let quotaDecision: QuotaDecision | null = null;
    if (quota) {
      const q = 4 + n * 4;
      const resetAt = r[q + 2] as number;
      quotaDecision = {
        allowed: r[q] === 1,
        max: quota.max,
        remaining: r[q + 1] as number,
        resetAt: resetAt < 0 ? null : resetAt,
      };
    }
    return {
      allowed: r[0] === 1,
      refusedRate: r[1] as number,
      quotaRefused: r[2] === 1,
      rates: decisions,
      quota: quotaDecision,
    };
  }
}
