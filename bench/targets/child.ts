/**
 * The tiny protocol between bench/run.ts and the target processes it starts: settings
 * come in through environment variables, and the child prints one line when it is
 * ready (`READY {json}`) or cannot run (`UNAVAILABLE reason`, exit code 3).
 */
export const READY_PATTERN = /^(READY|UNAVAILABLE)\b/;
export const EXIT_UNAVAILABLE = 3;

/** What the upstream answers on every path; checks compare proxied bodies with it. */
export const UPSTREAM_BODY = JSON.stringify({ ok: true, service: 'bench-upstream', items: [1, 2, 3] });

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

export function envPort(name: string): number {
  const port = Number(requiredEnv(name));
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new Error(`${name} is not a port: ${process.env[name]}`);
  return port;
}

export function announceReady(info: Record<string, unknown> = {}): void {
  process.stdout.write(`READY ${JSON.stringify(info)}\n`);
}

export function announceUnavailable(reason: string): never {
  process.stdout.write(`UNAVAILABLE ${reason.replace(/\s+/g, ' ')}\n`);
  process.exit(EXIT_UNAVAILABLE);
}

/** Runs `close` on SIGTERM/SIGINT, then exits; a second signal exits at once. */
export function onStop(close: () => Promise<void> | void): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    void Promise.resolve()
      .then(close)
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
