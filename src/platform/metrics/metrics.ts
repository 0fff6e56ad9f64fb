import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Latency buckets in seconds: 1 ms … 10 s (gateway overhead lives in the first few). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type Surface = 'gateway' | 'admin' | 'portal';
export type LimiterDecision = 'allowed' | 'rate_limited' | 'quota_exceeded' | 'unavailable';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** One pre-labelled counter + histogram child per surface × status class, so recording does no label hashing. */
interface Recorder {
  count: Counter.Internal[];
  latency: Histogram.Internal<'surface' | 'status_class'>[];
}

/**
 * The process's Prometheus registry (prom-client), served at `/metrics` on every
 * surface. A registry per running Gatehouse, not the global one, so that several
 * instances in one test process do not collide. Gauges that mirror state elsewhere
 * (buffers, snapshot version) read it when scraped, through `gauge(..., collect)`.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly recorders = new Map<Surface, Recorder>();
  private readonly limiter: Record<LimiterDecision, Counter.Internal>;
  private readonly gatewayCodes: Counter<'code'>;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    const requests = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests answered, by surface and status class',
      labelNames: ['surface', 'status_class'] as const,
      registers: [this.registry],
    });
    const latency = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time from arrival to the end of the response, by surface and status class',
      labelNames: ['surface', 'status_class'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    for (const surface of ['gateway', 'admin', 'portal'] as const) {
      this.recorders.set(surface, {
        count: STATUS_CLASSES.map((c) => requests.labels(surface, c)),
        latency: STATUS_CLASSES.map((c) => latency.labels(surface, c)),
      });
    }
    const limiter = new Counter({
      name: 'gatehouse_limiter_decisions_total',
      help: 'Rate-limit and quota decisions taken by this node',
      labelNames: ['decision'] as const,
      registers: [this.registry],
    });
    this.limiter = {
      allowed: limiter.labels('allowed'),
      rate_limited: limiter.labels('rate_limited'),
      quota_exceeded: limiter.labels('quota_exceeded'),
      unavailable: limiter.labels('unavailable'),
    };
    this.gatewayCodes = new Counter({
      name: 'gatehouse_gateway_refusals_total',
      help: 'Gateway error responses by error code (KEY_INVALID, RATE_LIMITED, UPSTREAM_TIMEOUT, ...)',
      labelNames: ['code'] as const,
      registers: [this.registry],
    });
  }

  /** One answered request. `seconds` is the whole time in the surface. */
  request(surface: Surface, status: number, seconds: number): void {
    const r = this.recorders.get(surface);
    if (r === undefined) return;
    const i = Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
    (r.count[i] as Counter.Internal).inc();
    (r.latency[i] as Histogram.Internal<'surface' | 'status_class'>).observe(seconds);
  }

  gatewayRefusal(code: string): void {
    this.gatewayCodes.labels(code).inc();
  }

  limiterDecision(decision: LimiterDecision): void {
    this.limiter[decision].inc();
  }

  /** A gauge whose value is read when Prometheus scrapes. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
