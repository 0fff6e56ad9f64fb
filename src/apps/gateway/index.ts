import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../../config/index.js';
import type { AnalyticsSink } from '../../modules/analytics/index.js';
import type { Db } from '../../modules/database.js';
import type { ChangeBus } from '../../platform/kv/change-bus.js';
import type { CounterStore } from '../../platform/kv/counters.js';
import { randomBytes } from 'node:crypto';
import type { GatewayCore, GatewayOps } from './core.js';
import { rawErrorResponse, PREPARED, type GatewayErrorCode } from './errors.js';
import { LastUsedBatcher } from './last-used.js';
import { handleRequest } from './pipeline.js';
import { SnapshotManager, type GatewayLogger } from './snapshots.js';
import { Upstreams } from './upstreams.js';

export { GATEWAY_ERRORS, type GatewayErrorCode } from './errors.js';
export type { GatewayOps } from './core.js';
export { HEALTH_PATH } from './pipeline.js';

export interface GatewayOptions {
  config: Config;
  db: Db;
  bus: ChangeBus;
  counters: CounterStore;
  analytics: AnalyticsSink;
  /** pino-compatible. */
  logger: GatewayLogger;
  nodeId: string;
  /** Epoch ms clock for limits, expiry and analytics; default Date.now. */
  now?: () => number;
  /** How long close() waits for in-flight requests before cutting them. Default 10 s. */
  drainTimeoutMs?: number;
  /** How often keys' last_used_at is written. Default 5 s. */
  lastUsedFlushMs?: number;
  /** Change-bus events within this window become one rebuild. Default 25 ms. */
  snapshotDebounceMs?: number;
  /** `/__gatehouse/ready` details and `/metrics`; without it those paths are not served. */
  ops?: GatewayOps;
}

export interface Gateway {
  server: http.Server;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Rebuilds the snapshot now; rejects if the database cannot be read (the old snapshot stays). */
  reload(): Promise<void>;
  snapshotVersion(): number;
  /**
   * Stops accepting, lets in-flight requests finish (up to `drainTimeoutMs`), closes
   * the upstream pools and writes the last batch of last_used_at. Does not close the
   * injected db, bus, counters or analytics sink: their owner does, after this.
   */
  close(): Promise<void>;
}

/**
 * Builds the data plane (DESIGN §4, §7) and loads its first snapshot; throws when the
 * database cannot be read at boot. Call `listen` to start serving.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, db, bus, logger } = options;
  const now = options.now ?? Date.now;
  const upstreams = new Upstreams({
    connectTimeoutMs: config.upstream_connect_timeout_ms,
    timeoutMs: config.upstream_timeout_ms,
  });
  const snapshots = new SnapshotManager({
    db,
    logger,
    now,
    debounceMs: options.snapshotDebounceMs,
    compile: {
      defaultTimeoutMs: config.upstream_timeout_ms,
      onWarning: (message, details) => logger.warn(details, message),
    },
    onSwap: (snapshot) => upstreams.retain(snapshot.origins),
  });
  await snapshots.init();

  const core: GatewayCore = {
    config,
    nodeId: options.nodeId,
    now,
    logger,
    analytics: options.analytics,
    counters: options.counters,
    snapshots,
    upstreams,
    lastUsed: new LastUsedBatcher(db, logger, options.lastUsedFlushMs ?? 5_000),
    inFlight: 0,
    draining: false,
    ops: options.ops ?? null,
    nextRequestId: requestIds(),
  };

  const server = http.createServer(
    {
      // Longer header sections get 431 from node's parser (see clientError below).
      maxHeaderSize: config.max_header_bytes,
      noDelay: true,
    },
    (req, res) => handleRequest(core, req, res),
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => onClientError(core, error, socket));

  const unsubscribe = bus.subscribe(() => snapshots.schedule());

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    core.draining = true;
    unsubscribe();
    snapshots.close();
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + (options.drainTimeoutMs ?? 10_000);
    while (core.inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Keep-alive connections that finished their request are idle now: close them.
      server.closeIdleConnections();
    }
    server.closeAllConnections();
    await stopped;
    await upstreams.close(1_000);
    await core.lastUsed.close();
  }

  return {
    server,
    listen(port, host) {
      return new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    reload: () => snapshots.reload(),
    snapshotVersion: () => snapshots.current.version,
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * X-Request-Id values for requests that came without one: a random per-process
 * prefix and a counter, unique across nodes and restarts without a random draw per
 * request.
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let sequence = 0;
  return () => `${prefix}-${(sequence++).toString(36)}`;
}

/**
 * Requests node:http refused before a handler saw them: header section over
 * `max_header_bytes` (431), malformed requests (400), header timeout (408). Answered
 * with the gateway's JSON error straight on the socket, and recorded.
 */
function onClientError(core: GatewayCore, error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: GatewayErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'BAD_REQUEST';
  const response = rawErrorResponse(code);
  socket.end(response);
  try {
    core.analytics.record({
      at: core.now(),
      apiId: '',
      keyId: '',
      developerId: '',
      method: '',
      path: '',
      status: PREPARED[code].status,
      code,
      latencyMs: 0,
      upstreamLatencyMs: 0,
      bytesIn: 0,
      bytesOut: Buffer.byteLength(response),
    });
  } catch {
    // The sink must not throw; if it does, the refusal still stands.
  }
}
