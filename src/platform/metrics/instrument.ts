import type { FastifyInstance } from 'fastify';
import type { AdmitDecision, CounterStore } from '../kv/counters.js';
import type { Metrics, Surface } from './metrics.js';

/**
 * Decorators that feed the metrics without the instrumented code knowing: the
 * gateway's analytics sink (every request passes through it once, with its status,
 * latency and error code) and the counter store (every limiter decision).
 */

/** The fields of a gateway request record that metrics read. */
interface RecordLike {
  status: number;
  latencyMs: number;
  code: string | null;
}

/** Wraps a sink so every recorded gateway request is also counted and timed. */
export function instrumentSink<R extends RecordLike, S extends { record(record: R): void }>(
  sink: S,
  metrics: Metrics,
): S {
  const record = (rec: R): void => {
    try {
      metrics.request('gateway', rec.status, rec.latencyMs / 1000);
      if (rec.code !== null) metrics.gatewayRefusal(rec.code);
    } catch {
      // Metrics must never fail a request.
    }
    sink.record(rec);
  };
  return new Proxy(sink, {
    get(target, prop, receiver) {
      if (prop === 'record') return record;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function count(metrics: Metrics, d: AdmitDecision): AdmitDecision {
  metrics.limiterDecision(d.allowed ? 'allowed' : d.refusedRate >= 0 ? 'rate_limited' : 'quota_exceeded');
  return d;
}

/** Wraps a counter store so every admit decision is counted; keeps a synchronous store synchronous. */
export function instrumentCounters(store: CounterStore, metrics: Metrics): CounterStore {
  return {
    admit(rates, quota, now) {
      let d: AdmitDecision | Promise<AdmitDecision>;
      try {
        d = store.admit(rates, quota, now);
      } catch (error) {
        metrics.limiterDecision('unavailable');
        throw error;
      }
      if (typeof (d as { then?: unknown }).then !== 'function') return count(metrics, d as AdmitDecision);
      return (d as Promise<AdmitDecision>).then(
        (decision) => count(metrics, decision),
        (error: unknown) => {
          metrics.limiterDecision('unavailable');
          throw error;
        },
      );
    },
    peekRate: (key, limit, windowMs, now) => store.peekRate(key, limit, windowMs, now),
    peekQuota: (key, max, now) => store.peekQuota(key, max, now),
    resetQuota: (key) => store.resetQuota(key),
    close: () => store.close(),
  };
}

export interface ReadinessReport {
  ready: boolean;
  [detail: string]: unknown;
}

/**
 * Adds `/__gatehouse/ready` and `/metrics` to a control-plane surface, plus request
 * counting and timing. Call before `listen`.
 */
export function addOperationsRoutes(
  app: FastifyInstance,
  surface: Surface,
  metrics: Metrics,
  readiness: () => Promise<ReadinessReport>,
): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.request(surface, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/__gatehouse/ready', { schema: { hide: true } }, async (_request, reply) => {
    const report = await readiness();
    return reply
      .status(report.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await metrics.exposition();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  });
}
