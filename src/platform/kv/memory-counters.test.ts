import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCounterStore } from './memory-counters.js';
import type { RateLimit } from './counters.js';

const rate = (limit: number, windowMs: number, key = 'r'): RateLimit => ({ key, limit, windowMs });

function store(): MemoryCounterStore {
  return new MemoryCounterStore({ sweepIntervalMs: 0 });
}

/** True when no window of `windowMs` holds more than `limit` of the sorted times. */
function neverOver(times: number[], limit: number, windowMs: number): boolean {
  for (let i = 0; i + limit < times.length; i++) {
    if ((times[i + limit] as number) - (times[i] as number) < windowMs) return false;
  }
  return true;
}

void describe('MemoryCounterStore rate (sliding log)', () => {
  void it('admits exactly `limit` in a burst and refuses the rest with retry-after', () => {
    const s = store();
    const results = Array.from({ length: 15 }, () => s.admit([rate(10, 2000)], null, 1000));
    assert.equal(results.filter((r) => r.allowed).length, 10);
    const last = results[9]!;
    assert.equal(last.rates[0]!.remaining, 0);
    assert.equal(last.rates[0]!.resetAt, 3000);
    const refused = results[10]!;
    assert.equal(refused.refusedRate, 0);
    assert.equal(refused.rates[0]!.retryAfterMs, 2000);
  });

  void it('frees a slot exactly when the oldest hit leaves the window', () => {
    const s = store();
    for (let i = 0; i < 3; i++) assert.ok(s.admit([rate(3, 1000)], null, 100 * i).allowed);
    assert.equal(s.admit([rate(3, 1000)], null, 999).allowed, false);
    assert.equal(s.admit([rate(3, 1000)], null, 999).rates[0]!.retryAfterMs, 1);
    assert.equal(s.admit([rate(3, 1000)], null, 1000).allowed, true);
    assert.equal(s.admit([rate(3, 1000)], null, 1050).allowed, false);
    assert.equal(s.admit([rate(3, 1000)], null, 1100).allowed, true);
  });

  void it('never admits more than the limit in any rolling window under random load', () => {
    const s = store();
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const admitted: number[] = [];
    let t = 0;
    for (let i = 0; i < 20_000; i++) {
      t += Math.floor(random() * 60);
      if (s.admit([rate(10, 2000)], null, t).allowed) admitted.push(t);
    }
    assert.ok(admitted.length > 500);
    assert.ok(neverOver(admitted, 10, 2000));
  });

  void it('refused hits consume nothing', () => {
    const s = store();
    assert.ok(s.admit([rate(1, 1000)], null, 0).allowed);
    for (let t = 1; t < 1000; t += 10) assert.equal(s.admit([rate(1, 1000)], null, t).allowed, false);
    assert.ok(s.admit([rate(1, 1000)], null, 1000).allowed);
  });

  void it('follows a lowered and a raised limit', () => {
    const s = store();
    for (let i = 0; i < 10; i++) assert.ok(s.admit([rate(10, 1000)], null, i).allowed);
    const lowered = s.admit([rate(4, 1000)], null, 20);
    assert.equal(lowered.allowed, false);
    // Needs 7 of the 10 counted hits (t=0..6) to leave: a slot frees at 6 + 1000.
    assert.equal(lowered.rates[0]!.retryAfterMs, 1006 - 20);
    assert.ok(s.admit([rate(40, 1000)], null, 30).allowed);
    for (let i = 0; i < 29; i++) assert.ok(s.admit([rate(40, 1000)], null, 31).allowed);
    assert.equal(s.admit([rate(40, 1000)], null, 32).allowed, false);
  });

  void it('keeps exact order when the clock steps back', () => {
    const s = store();
    assert.ok(s.admit([rate(2, 1000)], null, 5000).allowed);
    assert.ok(s.admit([rate(2, 1000)], null, 4000).allowed);
    assert.equal(s.admit([rate(2, 1000)], null, 5500).allowed, false);
    assert.ok(s.admit([rate(2, 1000)], null, 6000).allowed);
  });
});

void describe('MemoryCounterStore admit across limits', () => {
  void it('a rate pass with a quota refusal gives nothing away', () => {
    const s = store();
    const quota = { key: 'q', max: 2, periodMs: 10_000 };
    assert.ok(s.admit([rate(5, 1000)], quota, 0).allowed);
    assert.ok(s.admit([rate(5, 1000)], quota, 1).allowed);
    const refused = s.admit([rate(5, 1000)], quota, 2);
    assert.equal(refused.allowed, false);
    assert.equal(refused.quotaRefused, true);
    assert.equal(refused.refusedRate, -1);
    assert.equal(refused.quota!.resetAt, 10_000);
    assert.equal(refused.rates[0]!.remaining, 3, 'the refused hit was not counted against the rate');
  });

  void it('a refusal by the second rate limit counts nothing on the first', async () => {
    const s = store();
    const key = rate(10, 1000, 'key');
    const api = rate(1, 1000, 'api');
    assert.ok(s.admit([key, api], null, 0).allowed);
    const refused = s.admit([key, api], null, 1);
    assert.equal(refused.refusedRate, 1);
    assert.equal((await s.peekRate('key', 10, 1000, 2)).remaining, 9);
  });

  void it('quota: exactly max per period, the period starts at the first hit after the last one ended', async () => {
    const s = store();
    const quota = { key: 'q', max: 3, periodMs: 1000 };
    assert.deepEqual(await s.peekQuota('q', 3, 0), { max: 3, used: 0, remaining: 3, resetAt: null });
    const results = [100, 200, 300, 400].map((t) => s.admit([], quota, t));
    assert.deepEqual(
      results.map((r) => r.allowed),
      [true, true, true, false],
    );
    assert.equal(results[0]!.quota!.resetAt, 1100);
    assert.equal(results[2]!.quota!.remaining, 0);
    assert.deepEqual(await s.peekQuota('q', 3, 500), { max: 3, used: 3, remaining: 0, resetAt: 1100 });
    // Period ended at 1100; nothing happens until 5000, which starts the next one.
    assert.equal((await s.peekQuota('q', 3, 2000)).resetAt, null);
    const renewed = s.admit([], quota, 5000);
    assert.ok(renewed.allowed);
    assert.equal(renewed.quota!.resetAt, 6000);
    assert.equal(renewed.quota!.remaining, 2);
  });

  void it('resetQuota starts afresh', async () => {
    const s = store();
    const quota = { key: 'q', max: 1, periodMs: 60_000 };
    assert.ok(s.admit([], quota, 0).allowed);
    assert.equal(s.admit([], quota, 1).allowed, false);
    await s.resetQuota('q');
    assert.ok(s.admit([], quota, 2).allowed);
  });

  void it('sweep drops idle entries only', () => {
    const s = store();
    s.admit([rate(5, 1000, 'a')], { key: 'q', max: 5, periodMs: 1000 }, 0);
    s.admit([rate(5, 10_000, 'b')], null, 0);
    s.sweep(500);
    assert.deepEqual(s.size(), { rates: 2, quotas: 1 });
    s.sweep(1000);
    assert.deepEqual(s.size(), { rates: 1, quotas: 0 });
  });

  void it('memory of a log is bounded by its limit', () => {
    const s = store();
    for (let t = 0; t < 100_000; t++) s.admit([rate(50, 1_000_000, 'x')], null, t);
    const log = (s as unknown as { logs: Map<string, { times: Float64Array }> }).logs.get('x')!;
    assert.ok(log.times.length <= 50);
  });
});
