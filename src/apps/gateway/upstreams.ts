import { Pool } from 'undici';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Default headers/body timeout; each route passes its own per request. */
  timeoutMs: number;
}

/**
 * One keep-alive undici Pool per upstream origin, shared by every route and every
 * snapshot that points there. Pools of origins no snapshot routes any more are closed
 * gracefully (their in-flight requests finish first).
 */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: UpstreamOptions) {}

  get(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connectTimeout: this.options.connectTimeoutMs,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        // One request per connection at a time: pipelining makes one slow response stall others.
        pipelining: 1,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes the pools of origins not in `origins`. */
  retain(origins: ReadonlySet<string>): void {
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  /** Closes every pool; requests still running after `graceMs` are cut. */
  async close(graceMs: number): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(
      pools.map(async (pool) => {
        let timer: NodeJS.Timeout | undefined;
        const cut = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            void pool
              .destroy()
              .catch(() => undefined)
              .then(resolve);
          }, graceMs);
        });
        await Promise.race([pool.close().catch(() => undefined), cut]);
        clearTimeout(timer);
      }),
    );
  }
}
