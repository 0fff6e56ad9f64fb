import { Redis, type RedisOptions } from 'ioredis';

/** The part of a pino logger the Redis backends use. */
export interface KvLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedisTarget {
  /** The URL without Gatehouse's own query parameters, as ioredis takes it. */
  url: string;
  /** Prepended to every key and channel: several installations (or tests) can share one Redis. */
  prefix: string;
}

export const DEFAULT_KEY_PREFIX = 'gatehouse:';

/**
 * Splits `redis://host:port/db?key_prefix=xyz:` into the connection URL and the key
 * prefix. The prefix rides on the URL so that one setting (`GATEHOUSE_REDIS_URL`)
 * says everything about where the shared state lives.
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const url = new URL(raw);
  const prefix = url.searchParams.get('key_prefix') ?? DEFAULT_KEY_PREFIX;
  url.searchParams.delete('key_prefix');
  if (!/^[A-Za-z0-9_.:-]*$/.test(prefix))
    throw new Error('redis_url key_prefix may hold only letters, digits and _ . : -');
  return { url: url.toString(), prefix };
}

export interface ConnectOptions {
  /** A command without a reply after this long fails (and the fail mode takes over). */
  commandTimeoutMs?: number;
  /** Name shown by `CLIENT LIST`. */
  name: string;
}

/**
 * A client tuned for the gateway's hot path: no offline queue (a command while
 * disconnected fails at once instead of waiting), no per-command retries (the caller
 * degrades instead), a short command timeout, and reconnection forever with a capped
 * back-off so that the node recovers by itself when Redis returns.
 */
export function connectRedis(target: RedisTarget, options: ConnectOptions): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: 2_000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
  };
  return new Redis(target.url, redisOptions);
}

/** Waits until the client is ready, up to `ms`; false when it is not (the caller degrades). */
export async function waitReady(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(client.status === 'ready'), ms);
    client.on('ready', onReady);
  });
}
