import type { ChangeBus } from './change-bus.js';
import { MemoryChangeBus } from './change-bus.js';
import type { CounterStore } from './counters.js';
import { MemoryCounterStore } from './memory-counters.js';

export type { ChangeBus, ChangeEvent, ChangeListener, ChangeTopic } from './change-bus.js';
export { MemoryChangeBus } from './change-bus.js';
export type { CounterStore, RateDecision, QuotaDecision, QuotaState } from './counters.js';
export { MemoryCounterStore } from './memory-counters.js';

export interface KvBackends {
  bus: ChangeBus;
  counters: CounterStore;
  /** Which implementation was chosen, for logs and health output. */
  kind: 'memory' | 'redis';
}

export interface KvOptions {
  /** Unset = single node: in-memory counters and change bus. */
  redisUrl?: string;
}

/**
 * Chooses the counter store and change bus once at boot (STYLE 4): nothing else in
 * the product asks which one is in use.
 */
export async function createKvBackends(options: KvOptions): Promise<KvBackends> {
  if (options.redisUrl) {
    throw new Error('GATEHOUSE_REDIS_URL is set but this build has no Redis backend yet');
  }
  return { bus: new MemoryChangeBus(), counters: new MemoryCounterStore(), kind: 'memory' };
}
