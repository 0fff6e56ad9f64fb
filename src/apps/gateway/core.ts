import type { Config } from '../../config/index.js';
import type { AnalyticsSink } from '../../modules/analytics/index.js';
import type { CounterStore } from '../../platform/kv/counters.js';
import type { LastUsedBatcher } from './last-used.js';
import type { SnapshotManager, GatewayLogger } from './snapshots.js';
import type { Upstreams } from './upstreams.js';

/** What the per-request code reads: built once by createGateway, never per request. */
export interface GatewayCore {
  config: Pick<Config, 'max_url_length' | 'trust_proxy' | 'redis_fail_mode'>;
  nodeId: string;
  now: () => number;
  logger: GatewayLogger;
  analytics: AnalyticsSink;
  counters: CounterStore;
  snapshots: SnapshotManager;
  upstreams: Upstreams;
  lastUsed: LastUsedBatcher;
  /** Requests in progress, for draining on close. */
  inFlight: number;
  /** True once close() started: `/__gatehouse/ready` answers 503 so balancers stop sending. */
  draining: boolean;
  /** Readiness details and the Prometheus text, from the composition root (absent in unit tests). */
  ops: GatewayOps | null;
  /** Next X-Request-Id for requests that came without one. */
  nextRequestId: () => string;
}

export interface GatewayOps {
  /** Extra readiness details (shared-state status) for `/__gatehouse/ready`. */
  readiness(): Record<string, unknown>;
  metrics(): Promise<{ contentType: string; body: string }>;
}
