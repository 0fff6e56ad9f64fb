import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Every process the bench starts, so that all of them stop on success, on error and on
 * Ctrl-C. Each child leads its own process group (`detached`), so signalling `-pid`
 * also reaches what it forked (nginx's worker, npm's children).
 */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Last lines of stdout/stderr, for error messages when it dies early. */
  tail(): string;
  /** Calls `listener` with each later stdout line; returns the unsubscribe function. */
  onStdoutLine(listener: (line: string) => void): () => void;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const TAIL_LINES = 30;

export class ProcessGroup {
  private readonly children = new Set<Child>();
  private closed = false;

  /** True once `stopAll` began: nothing new may start. */
  get stopping(): boolean {
    return this.closed;
  }

  spawn(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
    if (this.closed) throw new Error(`${name}: not started, the bench is stopping`);
    const proc = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    const lines: string[] = [];
    const keep = (line: string): void => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    };
    const stdoutListeners = new Set<(line: string) => void>();
    createInterface({ input: proc.stdout }).on('line', (line) => {
      keep(line);
      for (const listener of stdoutListeners) listener(line);
    });
    createInterface({ input: proc.stderr }).on('line', keep);
    const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
    const child: Child = {
      name,
      pid: proc.pid,
      process: proc,
      tail: () => lines.join('\n'),
      onStdoutLine: (listener) => {
        stdoutListeners.add(listener);
        return () => stdoutListeners.delete(listener);
      },
      exited,
    };
    this.children.add(child);
    void exited.then(() => this.children.delete(child));
    return child;
  }

  /** SIGTERM to each group, then SIGKILL to whatever is left after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    this.closed = true;
    const running = [...this.children];
    for (const child of running) signalGroup(child.pid, 'SIGTERM');
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(running.map((c) => c.exited)), deadline]);
    this.killAllNow();
  }

  async stop(child: Child, graceMs = 3000): Promise<void> {
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), graceMs);
    await child.exited;
    clearTimeout(timer);
    // The leader is gone; make sure nothing it forked outlives it.
    signalGroup(child.pid, 'SIGKILL');
  }

  /** Synchronous last resort, usable from a process 'exit' handler. */
  killAllNow(): void {
    for (const child of this.children) signalGroup(child.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Resolves with the first stdout line matching `pattern`; rejects if the child exits or
 * `timeoutMs` passes first (with the child's last output in the message).
 */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${child.name}: not ready after ${timeoutMs} ms\n${child.tail()}`));
    }, timeoutMs);
    const unsubscribe = child.onStdoutLine((line) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(line);
    });
    void child.exited.then((code) => {
      clearTimeout(timer);
      unsubscribe();
      reject(new Error(`${child.name}: exited (code ${code ?? 'signal'}) before it was ready\n${child.tail()}`));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion as a member of `group` (so Ctrl-C stops it too) and
 * returns its exit code and whole output.
 */
export async function runToEnd(
  group: ProcessGroup,
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  const child = group.spawn(name, command, args, options);
  let stdout = '';
  let stderr = '';
  child.process.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.process.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = options.timeoutMs ? setTimeout(() => void group.stop(child, 1000), options.timeoutMs) : undefined;
  const code = await child.exited;
  if (timer) clearTimeout(timer);
  return { code, stdout, stderr };
}
