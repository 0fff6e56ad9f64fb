import type { ChangeBus } from './change-bus.js';
import { MemoryChangeBus } from './change-bus.js';
import type { CounterStore } from './counters.js';
import { MemoryCounterStore } from './memory-counters.js';
import { RedisChangeBus } from './redis-change-bus.js';
import { connectRedis, parseRedisUrl, waitReady, type KvLogger } from './redis-connection.js';
import { RedisCounterStore, type RedisFailMode } from './redis-counters.js';

export type { ChangeBus, ChangeEvent, ChangeListener, ChangeTopic } from './change-bus.js';
export { MemoryChangeBus } from './change-bus.js';
export type { CounterStore, RateDecision, QuotaDecision, QuotaState } from './counters.js';
export { MemoryCounterStore } from './memory-counters.js';
export { RedisCounterStore, type RedisFailMode } from './redis-counters.js';
export { RedisChangeBus } from './redis-change-bus.js';
export type { KvLogger } from './redis-connection.js';

export interface KvBackends {
  bus: ChangeBus;
  counters: CounterStore;
  /** Which implementation was chosen, for logs and health output. */
  kind: 'memory' | 'redis';
  /** Shared-state health for `/__gatehouse/ready` and metrics; always ok in memory. */
  status(): KvStatus;
  /** Closes the bus, the counters and their connections. */
  close(): Promise<void>;
}

export interface KvStatus {
  kind: 'memory' | 'redis';
  /** Redis answers (always true in memory). */
  connected: boolean;
  /** The counters run in their fail mode (per-node memory, or refusing). */
  degraded: boolean;
}

export interface KvOptions {
  /** Unset = single node: in-memory counters and change bus. */
  redisUrl?: string;
  /** What the counters do while Redis is unreachable. Default `fail_open`. */
  failMode?: RedisFailMode;
  logger?: KvLogger;
  /** Shown in Redis's CLIENT LIST. */
  nodeId?: string;
  /** How long boot waits for Redis before starting degraded. Default 5 s. */
  connectWaitMs?: number;
}

const quiet: KvLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Chooses the counter store and change bus once at boot (STYLE 4): nothing else in
 * the product asks which one is in use. With a Redis URL, a node that cannot reach
 * Redis at boot still starts (in its fail mode) and joins as soon as Redis answers.
 */
export async function createKvBackends(options: KvOptions): Promise<KvBackends> {
  if (!options.redisUrl) {
    const bus = new MemoryChangeBus();
    const counters = new MemoryCounterStore();
    return {
      bus,
      counters,
      kind: 'memory',
      status: () => ({ kind: 'memory', connected: true, degraded: false }),
      async close() {
        await counters.close();
        await bus.close();
      },
    };
  }
  const logger = options.logger ?? quiet;
  const target = parseRedisUrl(options.redisUrl);
  const name = `gatehouse-${(options.nodeId ?? String(process.pid)).replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  // Three connections: counters (hot path, never blocked behind anything else), the
  // bus's publisher/poller, and the subscriber (a subscribed connection can do nothing else).
  const countersClient = connectRedis(target, { name: `${name}-counters` });
  const pubClient = connectRedis(target, { name: `${name}-bus` });
  const subClient = connectRedis(target, { name: `${name}-sub` });
  for (const c of [countersClient, pubClient, subClient]) c.on('error', () => undefined); // reported through the fail mode, once
  const wait = options.connectWaitMs ?? 5_000;
  const ready = await Promise.all([
    waitReady(countersClient, wait),
    waitReady(pubClient, wait),
    waitReady(subClient, wait),
  ]);
  if (!ready.every(Boolean))
    logger.error(
      { redis: `${new URL(target.url).host}` },
      'Redis is not reachable at boot; starting in the configured fail mode',
    );
  const counters = new RedisCounterStore(countersClient, {
    prefix: target.prefix,
    failMode: options.failMode ?? 'fail_open',
    logger,
  });
  const bus = new RedisChangeBus(pubClient, subClient, { prefix: target.prefix, logger });
  await bus.start().catch(() => false);
  return {
    bus,
    counters,
    kind: 'redis',
    status: () => ({
      kind: 'redis',
      connected: countersClient.status === 'ready',
      degraded: counters.isDegraded() || countersClient.status !== 'ready',
    }),
    async close() {
      await bus.close();
      await counters.close();
      for (const c of [countersClient, pubClient, subClient]) {
        if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
        else c.disconnect();
      }
    },
  };
}
