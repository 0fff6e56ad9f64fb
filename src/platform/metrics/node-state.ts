import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What a node notes about itself every second, to tell after a crash what was lost. */
export interface NodeHeartbeat {
  pid: number;
  at: number;
  /** Requests recorded in memory and not yet written to the database. */
  unflushed: number;
  /** Raw records waiting in the buffer. */
  buffered: number;
  /** False while running; true after a clean shutdown. */
  clean: boolean;
}

export interface NodeStateLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface NodeStateOptions {
  /** One file per node identity (e.g. data_dir + the ports it serves). */
  file: string;
  logger: NodeStateLogger;
  read: () => { unflushed: number; buffered: number };
  intervalMs?: number;
}

export interface NodeState {
  /** Writes the final heartbeat, marked clean. Call after the last analytics flush. */
  close(): void;
}

/**
 * A heartbeat file that lets a node say, when it starts, whether its previous run
 * ended without a clean shutdown (SIGKILL, OOM, power) and how many analytics were
 * at stake: the requests it held unflushed at its last heartbeat (those recorded
 * after that heartbeat are lost too and cannot be known).
 */
export function startNodeState(options: NodeStateOptions): NodeState {
  const { file, logger } = options;
  try {
    const previous = JSON.parse(readFileSync(file, 'utf8')) as NodeHeartbeat;
    if (!previous.clean) {
      logger.warn(
        {
          previous_pid: previous.pid,
          last_heartbeat: new Date(previous.at).toISOString(),
          unflushed: previous.unflushed,
          buffered_records: previous.buffered,
        },
        `previous run (pid ${previous.pid}) stopped without a clean shutdown: about ${previous.unflushed} requests recorded before its last heartbeat were never written to analytics (plus any after it)`,
      );
    }
  } catch {
    // No file (first start) or unreadable: nothing to report.
  }
  mkdirSync(dirname(file), { recursive: true });
  const beat = (clean: boolean): NodeHeartbeat => ({ pid: process.pid, at: Date.now(), ...options.read(), clean });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(beat(false)));
  renameSync(tmp, file);
  let writing = false;
  const timer = setInterval(() => {
    if (writing) return;
    writing = true;
    // Write-then-rename so a kill mid-write never leaves half a file.
    writeFile(tmp, JSON.stringify(beat(false)))
      .then(() => rename(tmp, file))
      .catch(() => undefined)
      .finally(() => {
        writing = false;
      });
  }, options.intervalMs ?? 1_000);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      try {
        writeFileSync(tmp, JSON.stringify(beat(true)));
        renameSync(tmp, file);
      } catch {
        // Best effort: a read-only data dir only costs the crash report.
      }
    },
  };
}
