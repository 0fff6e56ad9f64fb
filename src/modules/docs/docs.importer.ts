import type { Worker } from 'node:worker_threads';
import { startThread } from '../../platform/threads.js';
import type { ImportInput, ImportOutcome } from './docs.import.js';
import type { DocFormat } from './docs.formats.js';

/**
 * Runs the import pipeline. Parsing and validating a 10 MB description takes seconds
 * of CPU and hundreds of MB, and in `gatehouse start` the gateway shares this process
 * (DESIGN §7): so imports run one at a time in a worker thread with a heap limit and a
 * deadline. A hostile upload (YAML bomb, pathological nesting) can only kill that
 * worker, which is replaced on the next import.
 */
export interface SpecImporter {
  run(input: ImportInput): Promise<ImportOutcome>;
  close(): Promise<void>;
}

export interface WorkerImporterOptions {
  /** Wall-clock limit for one import. */
  timeoutMs?: number;
  /** Old-generation heap limit of the worker. */
  maxMemoryMb?: number;
}

/** In-process importer, for tests and tools that run nothing else. */
export const inlineImporter: SpecImporter = {
  run: async (input) => (await import('./docs.import.js')).importDocument(input),
  close: async () => undefined,
};

function refused(format: DocFormat | undefined, message: string): ImportOutcome {
  return { ok: false, format: format ?? 'openapi', problems: [{ message }], total: 1 };
}

function spawn(maxMemoryMb: number): Worker {
  return startThread(import.meta.url, 'docs.worker', {
    resourceLimits: { maxOldGenerationSizeMb: maxMemoryMb, maxYoungGenerationSizeMb: 64 },
  });
}

export function createWorkerImporter(options: WorkerImporterOptions = {}): SpecImporter {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxMemoryMb = options.maxMemoryMb ?? 768;
  let worker: Worker | null = null;
  let nextId = 1;
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  function runOne(input: ImportInput): Promise<ImportOutcome> {
    if (closed) return Promise.reject(new Error('documentation importer is closed'));
    const current = (worker ??= spawn(maxMemoryMb));
    const id = nextId++;
    return new Promise<ImportOutcome>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        current.off('message', onMessage);
        current.off('error', onError);
        current.off('exit', onExit);
        current.unref();
      };
      const discard = () => {
        if (worker === current) worker = null;
        void current.terminate();
      };
      const onMessage = (message: { id: number; outcome?: ImportOutcome; error?: string }) => {
        if (message.id !== id) return;
        done();
        if (message.outcome) resolve(message.outcome);
        else reject(new Error(message.error ?? 'documentation import failed'));
      };
      const onError = (error: Error & { code?: string }) => {
        done();
        discard();
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY')
          resolve(refused(input.format, `Refused: processing this document needed more than ${maxMemoryMb} MB`));
        else if (error instanceof RangeError)
          resolve(refused(input.format, 'Refused: the document is nested too deeply to process'));
        else reject(error);
      };
      const onExit = () => {
        done();
        if (worker === current) worker = null;
        reject(new Error('documentation worker exited'));
      };
      const timer = setTimeout(() => {
        done();
        discard();
        resolve(
          refused(input.format, `Refused: processing this document took longer than ${Math.round(timeoutMs / 1000)} s`),
        );
      }, timeoutMs);
      current.on('message', onMessage);
      current.on('error', onError);
      current.on('exit', onExit);
      current.ref();
      current.postMessage({ id, input });
    });
  }

  return {
    run(input) {
      const result = queue.then(() => runOne(input));
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      closed = true;
      const current = worker;
      worker = null;
      if (current) await current.terminate();
    },
  };
}
