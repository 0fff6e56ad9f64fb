import type { Logger } from 'pino';
import type { Db } from '../../modules/database.js';
import { keysRepository } from '../../modules/keys/index.js';
import {
  compileGrant,
  compileSnapshot,
  entryFor,
  loadSnapshotSource,
  type CompileOptions,
  type KeyEntry,
  type Snapshot,
} from './snapshot.js';

export type GatewayLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

export interface SnapshotManagerOptions {
  db: Db;
  logger: GatewayLogger;
  now: () => number;
  compile: CompileOptions;
  /** Called after every swap (the pool registry closes pools no longer routed). */
  onSwap?: (snapshot: Snapshot) => void;
  /** Bus events within this many ms are coalesced into one rebuild. */
  debounceMs?: number;
}

/** A burst of admin edits (or a bulk import) becomes one rebuild. */
const DEFAULT_DEBOUNCE_MS = 25;
/** Retry after a failed rebuild: doubling from here up to RETRY_MAX_MS. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;
/** Unknown hashes are remembered this long, so a spray of bad keys costs one query each. */
const NEGATIVE_TTL_MS = 10_000;
/** Caps of the two look-aside caches (insertion order: the oldest entry goes first). */
const CACHE_CAP = 10_000;
/** At most this many distinct fallback look-ups at once; beyond, a miss is simply invalid. */
const MAX_LOOKUPS = 16;

/**
 * Holds the current snapshot and replaces it: on change-bus events (debounced), on
 * `reload()`, and after a failed rebuild (with back-off) — the last good snapshot is
 * served meanwhile (DESIGN §7: the gateway keeps serving when the database is down).
 *
 * A key missing from the snapshot (created on another node a moment ago, or revoked
 * and so not listed) may be looked up once by hash; the answer is cached until the
 * next swap, and "no such key" for a few seconds.
 */
export class SnapshotManager {
  current!: Snapshot;
  private version = 0;
  private readonly debounceMs: number;
  private debounceTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay = RETRY_MIN_MS;
  private failing = false;
  private closed = false;
  /** The build running now, and the one queued behind it (which will see every change made so far). */
  private running: Promise<Error | null> | null = null;
  private queued: Promise<Error | null> | null = null;
  private late = new Map<string, KeyEntry>();
  private readonly negative = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<KeyEntry | null>>();

  constructor(private readonly options: SnapshotManagerOptions) {
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  }

  /** Loads the first snapshot; throws when the database cannot be read. */
  async init(): Promise<void> {
    const error = await this.build();
    if (error) throw error;
  }

  /** The change-bus listener: coalesces a burst of events into one rebuild. */
  schedule(): void {
    if (this.closed || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      void this.build();
    }, this.debounceMs);
  }

  /** Rebuilds now; rejects when the database could not be read (the old snapshot stays). */
  async reload(): Promise<void> {
    const error = await this.build();
    if (error) throw error;
  }

  /** A snapshot hit, or an entry found by an earlier fallback look-up. */
  lookup(hash: string): KeyEntry | undefined {
    return this.current.keys.get(hash) ?? (this.late.size > 0 ? this.late.get(hash) : undefined);
  }

  /**
   * One database look-up for a hash the snapshot does not know. Resolves null for an
   * unknown (or rolled-out) hash, and when the look-up is not possible right now.
   */
  fallback(hash: string, now: number): Promise<KeyEntry | null> {
    const known = this.negative.get(hash);
    if (known !== undefined) {
      if (known > now) return Promise.resolve(null);
      this.negative.delete(hash);
    }
    const pending = this.lookups.get(hash);
    if (pending) return pending;
    if (this.lookups.size >= MAX_LOOKUPS) return Promise.resolve(null);
    const snapshot = this.current;
    const lookup = keysRepository
      .findByHash(this.options.db, hash)
      .then((row) => {
        const entry = row ? entryFor(row, hash, compileGrant(row, snapshot, this.options.compile)) : null;
        // Only cache answers still true for the current snapshot (a swap may have raced us).
        if (this.current === snapshot) {
          if (entry) remember(this.late, hash, entry);
          else remember(this.negative, hash, now + NEGATIVE_TTL_MS);
        }
        return entry;
      })
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'gateway key look-up failed');
        return null;
      })
      .finally(() => this.lookups.delete(hash));
    this.lookups.set(hash, lookup);
    return lookup;
  }

  close(): void {
    this.closed = true;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.debounceTimer = null;
    this.retryTimer = null;
  }

  /**
   * Starts a build unless one is already queued behind the running one (that queued
   * build starts after the running one ends, so it reads every change made so far).
   */
  private build(): Promise<Error | null> {
    if (this.queued) return this.queued;
    const previous = this.running ?? Promise.resolve(null);
    const next = previous.then(() => {
      this.queued = null;
      const run = this.buildOnce();
      this.running = run;
      return run.finally(() => {
        if (this.running === run) this.running = null;
      });
    });
    this.queued = next;
    return next;
  }

  private async buildOnce(): Promise<Error | null> {
    const { db, logger, now, compile, onSwap } = this.options;
    try {
      const source = await loadSnapshotSource(db);
      const snapshot = compileSnapshot(source, this.version + 1, now(), compile);
      this.version = snapshot.version;
      this.current = snapshot;
      this.late = new Map();
      this.negative.clear();
      if (this.failing)
        logger.info({ snapshot_version: snapshot.version }, 'gateway snapshot rebuilt again; database reachable');
      this.failing = false;
      this.retryDelay = RETRY_MIN_MS;
      onSwap?.(snapshot);
      logger.debug(
        { snapshot_version: snapshot.version, routes: snapshot.apis.size, keys: snapshot.keys.size },
        'gateway snapshot swapped',
      );
      return null;
    } catch (error) {
      // Log once per outage, not once per retry.
      if (!this.failing && this.current)
        logger.error(
          { err: error },
          'gateway snapshot rebuild failed; serving the last snapshot until the database answers',
        );
      this.failing = true;
      if (this.current && !this.closed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          void this.build();
        }, this.retryDelay);
        this.retryTimer.unref();
        this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
      }
      return error instanceof Error ? error : new Error(String(error));
    }
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= CACHE_CAP) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
