import { validationError } from '../../shared/errors.js';
import type { Clock } from '../../shared/time.js';
import { analyticsQuery, recentErrors } from '../analytics/index.js';
import type { Db } from '../database.js';
import type { KeyLimitsService, KeyLimitsView } from './key-limits.service.js';
import { keysRepository } from './keys.repository.js';

export interface UsageQuery {
  key_id?: string;
  from?: string;
  to?: string;
  resolution?: string;
}

const DAY = 86_400_000;

/**
 * What a developer sees of their own traffic (DESIGN §4 `GET /api/v1/usage`):
 * totals and a series over their keys (or one of them), recent errors, and each
 * key's current rate limit, quota remaining and renewal time.
 */
export function createUsageService(deps: { db: Db; clock: Clock; keyLimits: KeyLimitsService }) {
  const { db, clock, keyLimits } = deps;
  return {
    async usage(developerId: string, query: UsageQuery) {
      const keys = await keysRepository.list(db, { developerId, limit: 1000 });
      if (query.key_id !== undefined && !keys.some((k) => k.id === query.key_id)) {
        throw validationError([{ field: 'key_id', message: 'is not one of your keys' }]);
      }
      const keyIds = query.key_id !== undefined ? [query.key_id] : keys.map((k) => k.id);
      const now = clock.now();
      const resolution = query.resolution === 'day' ? 'day' : 'hour';
      const to = query.to ?? new Date(now).toISOString();
      const from = query.from ?? new Date(Date.parse(to) - (resolution === 'day' ? 30 * DAY : DAY)).toISOString();
      const result = await analyticsQuery(db, { from, to, resolution, keyIds });
      const limits: KeyLimitsView[] = [];
      for (const key of keys) {
        if (keyIds.includes(key.id) && key.status !== 'revoked') limits.push(await keyLimits.state(key.id));
      }
      const errors = await recentErrors(db, { keyIds, limit: 20 });
      return { ...result, key_id: query.key_id ?? null, limits, recent_errors: errors };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
