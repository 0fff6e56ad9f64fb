import type { Db } from '../../modules/database.js';
import { keysRepository } from '../../modules/keys/index.js';
import type { GatewayLogger } from './snapshots.js';

/**
 * Keys' `last_used_at`, batched in memory and written every few seconds, so the hot
 * path never issues a query (DESIGN §7). Only the latest time per key is kept.
 */
export class LastUsedBatcher {
  private pending = new Map<string, number>();
  private flushing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly logger: GatewayLogger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Hot path: one Map.set; an existing key is updated in place. */
  touch(keyId: string, at: number): void {
    this.pending.set(keyId, at);
  }

  /** Writes what has accumulated; a failed batch is merged back for the next flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = keysRepository
      .touchLastUsed(this.db, batch)
      .catch((error: unknown) => {
        this.logger.warn({ err: error, keys: batch.size }, 'could not record keys last used; will retry');
        for (const [id, at] of batch) if ((this.pending.get(id) ?? 0) < at) this.pending.set(id, at);
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.flushing) await this.flushing;
    await this.flush();
  }
}
