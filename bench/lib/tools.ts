import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd, type ProcessGroup } from './processes.js';

/** Debian packages the bench needs, by the binary that proves they are installed. */
const APT_PACKAGES: Record<string, string> = { wrk: 'wrk', nginx: 'nginx-light' };

export const EXPRESS_GATEWAY_VERSION = '1.16.11';

/** `apt-get update` runs at most once per bench run, and only when something is missing. */
let aptUpdated = false;

/** Absolute path of `binary` on PATH (plus the sbin folders nginx lives in), or null. */
export function findBinary(binary: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Installs the missing ones of `binaries` with apt-get (one `apt-get update` first).
 * Returns binary → absolute path; throws with a readable message when that fails.
 */
export async function ensureAptBinaries(
  group: ProcessGroup,
  binaries: string[],
  log: (line: string) => void,
): Promise<Record<string, string>> {
  const missing = binaries.filter((b) => findBinary(b) === null);
  if (missing.length > 0) {
    const packages = missing.map((b) => APT_PACKAGES[b] ?? b);
    if (process.getuid?.() !== 0) {
      throw new Error(
        `missing ${missing.join(', ')}; install them with: sudo apt-get install -y ${packages.join(' ')}`,
      );
    }
    log(`installing ${packages.join(' ')} with apt-get …`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      const update = await runToEnd(group, 'apt-get update', 'apt-get', ['update', '-q'], { env, timeoutMs: 180_000 });
      if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.stderr.slice(-2000)}`);
      aptUpdated = true;
    }
    const install = await runToEnd(
      group,
      'apt-get install',
      'apt-get',
      ['install', '-y', '-q', '--no-install-recommends', ...packages],
      {
        env,
        timeoutMs: 300_000,
      },
    );
    if (install.code !== 0)
      throw new Error(`apt-get install ${packages.join(' ')} failed:\n${install.stderr.slice(-2000)}`);
  }
  const paths: Record<string, string> = {};
  for (const binary of binaries) {
    const path = findBinary(binary);
    if (!path) throw new Error(`${binary} still not found after installing it`);
    paths[binary] = path;
  }
  return paths;
}

/**
 * Installs Express Gateway into `peersDir` (git-ignored) unless that exact version is
 * already there. Its own package.json keeps npm from touching the project's.
 */
export async function ensureExpressGateway(
  group: ProcessGroup,
  peersDir: string,
  log: (line: string) => void,
): Promise<void> {
  const installed = join(peersDir, 'node_modules', 'express-gateway', 'package.json');
  if (existsSync(installed)) {
    const { version } = JSON.parse(readFileSync(installed, 'utf8')) as { version?: string };
    if (version === EXPRESS_GATEWAY_VERSION) return;
  }
  mkdirSync(peersDir, { recursive: true });
  const manifest = join(peersDir, 'package.json');
  if (!existsSync(manifest)) {
    writeFileSync(
      manifest,
      `${JSON.stringify({ name: 'gatehouse-bench-peers', private: true, description: 'Installed by npm run bench; git-ignored' }, null, 2)}\n`,
    );
  }
  log(`installing express-gateway@${EXPRESS_GATEWAY_VERSION} into ${peersDir} (about 30 s, once) …`);
  const result = await runToEnd(
    group,
    'npm install express-gateway',
    'npm',
    [
      'install',
      '--prefix',
      peersDir,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `express-gateway@${EXPRESS_GATEWAY_VERSION}`,
    ],
    { timeoutMs: 300_000 },
  );
  if (result.code !== 0) throw new Error(`npm install express-gateway failed:\n${result.stderr.slice(-2000)}`);
}

/** First line of `<binary> <versionFlag>` (stdout or stderr), for the results file. */
export async function versionOf(group: ProcessGroup, binary: string, args: string[]): Promise<string> {
  try {
    const r = await runToEnd(group, `${binary} version`, binary, args, { timeoutMs: 5000 });
    return (
      (r.stdout + r.stderr)
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
}
