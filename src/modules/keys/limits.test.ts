import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCounterStore } from '../../platform/kv/memory-counters.js';
import type { MergedPolicy } from '../policies/index.js';
import { keyLimitsState, keyQuotaLimit, keyRateLimit, resetKeyQuota } from './limits.js';

const merged: MergedPolicy = {
  policyIds: ['p'],
  rate: 5,
  per: 10,
  quotaMax: 3,
  quotaRenewalRate: 60,
  keyExpiresIn: 0,
  accessRights: [],
};

void describe('key limits', () => {
  void it('peeks and resets what the gateway counted', async () => {
    const counters = new MemoryCounterStore({ sweepIntervalMs: 0 });
    const rate = keyRateLimit('key_1', merged)!;
    const quota = keyQuotaLimit('key_1', merged)!;
    assert.deepEqual(await keyLimitsState(counters, { keyId: 'key_1', merged }, 1000), {
      rate: { limit: 5, per: 10, remaining: 5, resetAt: 1000 },
      quota: { max: 3, used: 0, remaining: 3, renewalRate: 60, resetAt: null },
    });
    counters.admit([rate], quota, 1000);
    counters.admit([rate], quota, 2000);
    assert.deepEqual(await keyLimitsState(counters, { keyId: 'key_1', merged }, 3000), {
      rate: { limit: 5, per: 10, remaining: 3, resetAt: 11_000 },
      quota: { max: 3, used: 2, remaining: 1, renewalRate: 60, resetAt: 61_000 },
    });
    await resetKeyQuota(counters, 'key_1');
    assert.equal((await keyLimitsState(counters, { keyId: 'key_1', merged }, 3000)).quota!.used, 0);
    await counters.close();
  });

  void it('reports no limits for an unlimited policy', async () => {
    const counters = new MemoryCounterStore({ sweepIntervalMs: 0 });
    const state = await keyLimitsState(counters, {
      keyId: 'k',
      merged: { ...merged, rate: 0, per: 0, quotaMax: 0, quotaRenewalRate: 0 },
    });
    assert.deepEqual(state, { rate: null, quota: null });
  });
});
