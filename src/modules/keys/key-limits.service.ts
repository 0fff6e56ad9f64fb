import { notFound } from '../../shared/errors.js';
import { toIso, type Clock } from '../../shared/time.js';
import type { CounterStore } from '../../platform/kv/counters.js';
import type { Db } from '../database.js';
import { mergePolicies, policiesRepository, policyFromRow } from '../policies/index.js';
import { keysRepository } from './keys.repository.js';
import { keyFromRow } from './keys.table.js';
import { keyLimitsState, resetKeyQuota } from './limits.js';

/** A key's live limits as the admin and developer APIs show them. */
export interface KeyLimitsView {
  key_id: string;
  rate_limit: { limit: number; per: number; remaining: number; reset_at: string | null } | null;
  quota: { max: number; used: number; remaining: number; renewal_rate: number; resets_at: string | null } | null;
}

export function createKeyLimitsService(deps: { db: Db; counters: CounterStore; clock: Clock }) {
  const { db, counters, clock } = deps;
  return {
    async state(keyId: string): Promise<KeyLimitsView> {
      const row = await keysRepository.findById(db, keyId);
      if (!row) throw notFound('Key', keyId);
      const key = keyFromRow(row);
      const merged = mergePolicies((await policiesRepository.findByIds(db, key.policyIds)).map(policyFromRow));
      const state = await keyLimitsState(counters, { keyId, merged }, clock.now());
      return {
        key_id: keyId,
        rate_limit: state.rate && {
          limit: state.rate.limit,
          per: state.rate.per,
          remaining: state.rate.remaining,
          reset_at: toIso(state.rate.resetAt),
        },
        quota: state.quota && {
          max: state.quota.max,
          used: state.quota.used,
          remaining: state.quota.remaining,
          renewal_rate: state.quota.renewalRate,
          resets_at: toIso(state.quota.resetAt),
        },
      };
    },
    resetQuota: (keyId: string) => resetKeyQuota(counters, keyId),
  };
}

export type KeyLimitsService = ReturnType<typeof createKeyLimitsService>;
