import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ChangeBus, ChangeEvent, ChangeListener, ChangeTopic } from './change-bus.js';
import type { KvLogger } from './redis-connection.js';

/** Every topic, for "something may have changed" (a missed message, an outage). */
const ALL_TOPICS: readonly ChangeTopic[] = [
  'apis',
  'policies',
  'keys',
  'catalogue',
  'developers',
  'settings',
  'docs',
  'pages',
];

/** INCRs the version and publishes the event with it, in one step. KEYS: version; ARGV: channel, payload prefix. */
const PUBLISH = `
local v = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '|' .. v)
return v
`;

interface ScriptedRedis extends Redis {
  ghPublish(versionKey: string, channel: string, payload: string): Promise<number>;
}

export interface RedisChangeBusOptions {
  prefix: string;
  logger: KvLogger;
  /** How often the version counter is compared with the last one seen. Default 1 s. */
  pollMs?: number;
  /** While Redis is unreachable, listeners hear "everything may have changed" this often (they re-read the database). Default 5 s. */
  outagePollMs?: number;
}

/**
 * The change bus across nodes (DESIGN §7): an event goes to this process's listeners
 * at once, then to every other node through Redis pub/sub. Pub/sub is fire-and-forget
 * (a node that was reconnecting misses the message), so every publish also increments
 * a version counter in Redis, which each node compares every `pollMs`: a missed
 * message costs at most one poll interval. A reconnect counts as a missed message.
 * While Redis is down, events cannot cross nodes at all; listeners then hear a
 * periodic "everything may have changed" so that gateways still pick up changes from
 * the database (slower, every `outagePollMs`), and the publishing node bumps the
 * version once Redis is back.
 */
export class RedisChangeBus implements ChangeBus {
  private readonly listeners = new Set<ChangeListener>();
  private readonly origin = randomBytes(6).toString('hex');
  private readonly channel: string;
  private readonly versionKey: string;
  private readonly pub: ScriptedRedis;
  private lastVersion: number | null = null;
  private pendingBump = false;
  private down = false;
  private closed = false;
  private readonly pollTimer: NodeJS.Timeout;
  private outageTimer: NodeJS.Timeout | null = null;

  constructor(
    pub: Redis,
    private readonly sub: Redis,
    private readonly options: RedisChangeBusOptions,
  ) {
    this.channel = `${options.prefix}changes`;
    this.versionKey = `${options.prefix}changes:version`;
    pub.defineCommand('ghPublish', { lua: PUBLISH, numberOfKeys: 1 });
    this.pub = pub as ScriptedRedis;

    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
    sub.on('ready', () => {
      sub
        .subscribe(this.channel)
        .catch((error: unknown) => options.logger.warn({ err: error }, 'change bus could not subscribe'));
      if (this.down) this.up();
    });
    sub.on('close', () => this.lost());
    pub.on('ready', () => {
      if (this.pendingBump) this.flushPending();
    });
    this.pollTimer = setInterval(() => void this.poll(), options.pollMs ?? 1_000);
    this.pollTimer.unref();
  }

  /** Subscribes and reads the current version; resolves false when Redis is not reachable yet (the bus recovers by itself). */
  async start(): Promise<boolean> {
    if (this.sub.status !== 'ready') {
      this.lost();
      return false;
    }
    await this.sub.subscribe(this.channel);
    await this.poll();
    return true;
  }

  publish(event: ChangeEvent): void {
    this.deliver(event);
    if (this.pub.status !== 'ready') {
      this.pendingBump = true;
      return;
    }
    const payload = `${this.origin}|${event.topic}|${event.id ?? ''}`;
    this.pub.ghPublish(this.versionKey, this.channel, payload).then(
      (version) => this.seen(version),
      () => {
        this.pendingBump = true;
      },
    );
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    if (this.outageTimer) clearInterval(this.outageTimer);
    this.listeners.clear();
    return Promise.resolve();
  }

  private onMessage(message: string): void {
    // origin|topic|id|version
    const parts = message.split('|');
    const version = Number(parts[3]);
    if (Number.isFinite(version)) this.seen(version);
    if (parts[0] === this.origin) return; // delivered locally when published
    const topic = parts[1] as ChangeTopic;
    if (!ALL_TOPICS.includes(topic)) return;
    this.deliver(parts[2] ? { topic, id: parts[2] } : { topic });
  }

  private seen(version: number): void {
    if (this.lastVersion === null || version > this.lastVersion) this.lastVersion = version;
  }

  private async poll(): Promise<void> {
    if (this.closed || this.pub.status !== 'ready') return;
    try {
      const raw = await this.pub.get(this.versionKey);
      const version = raw === null ? 0 : Number(raw);
      // A smaller version means Redis lost its data (restart without persistence): also a change.
      if (this.lastVersion !== null && version !== this.lastVersion) {
        this.options.logger.info(
          { version, last_seen: this.lastVersion },
          'change bus: missed change detected by version check',
        );
        this.lastVersion = version;
        this.deliverAll();
      } else this.lastVersion = version;
    } catch {
      // The outage handling below covers an unreachable Redis.
    }
  }

  private flushPending(): void {
    this.pendingBump = false;
    this.pub.ghPublish(this.versionKey, this.channel, `${this.origin}|settings|`).then(
      (version) => this.seen(version),
      () => {
        this.pendingBump = true;
      },
    );
  }

  private lost(): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.options.logger.warn(
      {},
      'change bus: Redis unreachable; re-reading configuration from the database every few seconds until it returns',
    );
    this.outageTimer = setInterval(() => this.deliverAll(), this.options.outagePollMs ?? 5_000);
    this.outageTimer.unref();
  }

  private up(): void {
    this.down = false;
    if (this.outageTimer) clearInterval(this.outageTimer);
    this.outageTimer = null;
    this.options.logger.info({}, 'change bus: Redis reachable again');
    // Messages published while we were away are lost: treat the reconnect as a change.
    this.deliverAll();
    if (this.pendingBump) this.flushPending();
  }

  private deliverAll(): void {
    for (const topic of ALL_TOPICS) this.deliver({ topic });
  }

  private deliver(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not stop the others from hearing the change.
      }
    }
  }
}
