import { Worker, type ResourceLimits } from 'node:worker_threads';

export interface ThreadOptions {
  /** Handed to the thread as `workerData` (structured-cloned). */
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
}

/**
 * Starts a worker thread on a module that sits beside the caller: `name` is the file
 * name without extension, resolved against `callerUrl` (the caller's `import.meta.url`)
 * as `.ts` when running from sources and `.js` when compiled.
 *
 * Node 20 does not pass tsx's loader to worker threads, so from TypeScript sources the
 * thread first loads tsx and imports its entry through it.
 */
export function startThread(callerUrl: string, name: string, options: ThreadOptions = {}): Worker {
  const fromSources = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}${fromSources ? '.ts' : '.js'}`, callerUrl).href;
  const settings = { workerData: options.workerData, resourceLimits: options.resourceLimits };
  if (!fromSources) return new Worker(new URL(entry), settings);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}))`;
  return new Worker(boot, { ...settings, eval: true });
}
