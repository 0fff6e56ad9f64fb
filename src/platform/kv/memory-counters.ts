import type {
  AdmitDecision,
  CounterStore,
  QuotaDecision,
  QuotaLimit,
  QuotaState,
  RateDecision,
  RateLimit,
} from './counters.js';

/**
 * One key's sliding log: the times of its most recent accepted hits, oldest first,
 * in a ring buffer. The buffer grows by doubling up to the limit, so memory is
 * bounded by the limit (8 bytes a hit) and an idle or slow key costs a few bytes.
 */
interface RateLog {
  times: Float64Array;
  /** Index of the oldest counted hit. */
  head: number;
  count: number;
  /** Time of the newest hit; hits are appended in time order. */
  newest: number;
  /** Window of the last decision, for the sweep. */
  windowMs: number;
}

interface QuotaPeriod {
  used: number;
  /** Epoch ms when the running period ends. */
  endsAt: number;
}

export interface MemoryCounterStoreOptions {
  /** How often idle entries are dropped; 0 turns the timer off (tests call `sweep`). Default 60 s. */
  sweepIntervalMs?: number;
  /** Clock for the sweep timer only; decisions take `now` from the caller. */
  now?: () => number;
}

const INITIAL_CAPACITY = 8;

/**
 * The single-node CounterStore: an exact sliding log for rates and a period per
 * quota key. Everything happens synchronously inside one call, so `admit` is atomic
 * with respect to every other request in the process.
 */
export class MemoryCounterStore implements CounterStore {
  private readonly logs = new Map<string, RateLog>();
  private readonly periods = new Map<string, QuotaPeriod>();
  private readonly timer: NodeJS.Timeout | null;

  constructor(options: MemoryCounterStoreOptions = {}) {
    const interval = options.sweepIntervalMs ?? 60_000;
    const clock = options.now ?? Date.now;
    this.timer = interval > 0 ? setInterval(() => this.sweep(clock()), interval) : null;
    // A sweep timer must not keep the process alive on its own.
    this.timer?.unref();
  }

  admit(rates: readonly RateLimit[], quota: QuotaLimit | null, now: number): AdmitDecision {
    // Pass 1: decide without counting. Pass 2 counts only if everything accepted.
    const decisions: RateDecision[] = new Array<RateDecision>(rates.length);
    let refusedRate = -1;
    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i] as RateLimit;
      const log = this.logs.get(rate.key);
      const t = log ? Math.max(now, log.newest) : now;
      if (log) expire(log, rate.windowMs, t);
      const decision = decideRate(log, rate.limit, rate.windowMs, t);
      decisions[i] = decision;
      if (!decision.allowed && refusedRate < 0) refusedRate = i;
    }

    let period = quota ? this.periods.get(quota.key) : undefined;
    const running = period !== undefined && now < period.endsAt;
    let quotaDecision: QuotaDecision | null = null;
    let quotaRefused = false;
    if (quota) {
      const used = running ? (period as QuotaPeriod).used : 0;
      quotaRefused = refusedRate < 0 && used >= quota.max;
      quotaDecision = {
        allowed: used < quota.max,
        max: quota.max,
        remaining: Math.max(0, quota.max - used),
        resetAt: running ? (period as QuotaPeriod).endsAt : null,
      };
    }

    if (refusedRate >= 0 || quotaRefused) {
      // Nothing is counted anywhere; the decisions are peeks of the current state.
      return { allowed: false, refusedRate, quotaRefused, rates: decisions, quota: quotaDecision };
    }

    for (let i = 0; i < rates.length; i++) {
      const rate = rates[i] as RateLimit;
      const log = this.record(rate, now);
      const decision = decisions[i] as RateDecision;
      decision.remaining = Math.max(0, rate.limit - log.count);
      decision.resetAt = (log.times[log.head] as number) + rate.windowMs;
    }
    if (quota && quotaDecision) {
      if (!running || !period) {
        period = { used: 0, endsAt: now + quota.periodMs };
        this.periods.set(quota.key, period);
      }
      period.used++;
      quotaDecision.remaining = Math.max(0, quota.max - period.used);
      quotaDecision.resetAt = period.endsAt;
    }
    return { allowed: true, refusedRate: -1, quotaRefused: false, rates: decisions, quota: quotaDecision };
  }

  peekRate(key: string, limit: number, windowMs: number, now: number): Promise<RateDecision> {
    const log = this.logs.get(key);
    const t = log ? Math.max(now, log.newest) : now;
    if (log) expire(log, windowMs, t);
    // `allowed` answers "would one more hit get through"; `remaining` counts what is left.
    return Promise.resolve(decideRate(log, limit, windowMs, t));
  }

  peekQuota(key: string, max: number, now: number): Promise<QuotaState> {
    const period = this.periods.get(key);
    if (!period || now >= period.endsAt) return Promise.resolve({ max, used: 0, remaining: max, resetAt: null });
    return Promise.resolve({
      max,
      used: period.used,
      remaining: Math.max(0, max - period.used),
      resetAt: period.endsAt,
    });
  }

  resetQuota(key: string): Promise<void> {
    this.periods.delete(key);
    return Promise.resolve();
  }

  /** Drops rate logs with no hit left in their window and quota periods that ended. */
  sweep(now: number): void {
    for (const [key, log] of this.logs) {
      if (log.newest <= now - log.windowMs) this.logs.delete(key);
    }
    for (const [key, period] of this.periods) {
      if (now >= period.endsAt) this.periods.delete(key);
    }
  }

  /** Entries held, for tests and metrics. */
  size(): { rates: number; quotas: number } {
    return { rates: this.logs.size, quotas: this.periods.size };
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.logs.clear();
    this.periods.clear();
    return Promise.resolve();
  }

  /** Appends an accepted hit (the caller has checked it fits). */
  private record(rate: RateLimit, now: number): RateLog {
    let log = this.logs.get(rate.key);
    if (!log) {
      log = {
        times: new Float64Array(Math.min(INITIAL_CAPACITY, rate.limit)),
        head: 0,
        count: 0,
        newest: now,
        windowMs: rate.windowMs,
      };
      this.logs.set(rate.key, log);
    }
    // Clocks can step back; keeping the log in time order keeps the decision exact.
    const t = Math.max(now, log.newest);
    if (log.count === log.times.length) grow(log, rate.limit);
    log.times[(log.head + log.count) % log.times.length] = t;
    log.count++;
    log.newest = t;
    log.windowMs = rate.windowMs;
    return log;
  }
}

/** Forgets hits that left the window: a hit at t counts while `now - t < windowMs`. */
function expire(log: RateLog, windowMs: number, now: number): void {
  const cutoff = now - windowMs;
  const cap = log.times.length;
  while (log.count > 0 && (log.times[log.head] as number) <= cutoff) {
    log.head = (log.head + 1) % cap;
    log.count--;
  }
}

function decideRate(log: RateLog | undefined, limit: number, windowMs: number, now: number): RateDecision {
  const count = log ? log.count : 0;
  if (!log || count === 0) return { allowed: true, limit, remaining: limit, resetAt: now, retryAfterMs: 0 };
  const cap = log.times.length;
  const oldest = log.times[log.head] as number;
  if (count < limit)
    return { allowed: true, limit, remaining: limit - count, resetAt: oldest + windowMs, retryAfterMs: 0 };
  // Full (or over, when the limit was lowered): a hit fits once all but limit-1 hits left.
  const freeing = log.times[(log.head + count - limit) % cap] as number;
  return {
    allowed: false,
    limit,
    remaining: 0,
    resetAt: oldest + windowMs,
    retryAfterMs: Math.max(1, freeing + windowMs - now),
  };
}

/** Doubles the ring (up to the limit, or to hold what is counted when the limit was lowered). */
function grow(log: RateLog, limit: number): void {
  const cap = log.times.length;
  const next = new Float64Array(Math.max(cap + 1, Math.min(Math.max(cap * 2, INITIAL_CAPACITY), limit)));
  for (let i = 0; i < log.count; i++) next[i] = log.times[(log.head + i) % cap] as number;
  log.times = next;
  log.head = 0;
}
