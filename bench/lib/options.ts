import type { TargetId } from './targets.js';

/**
 * `single`: one Gatehouse node next to its peers (what exists today).
 * `cluster`: two Gatehouse nodes on one Redis — the hook for scale-out numbers; its
 * Gatehouse target reports "unavailable" until the Redis adapters exist.
 */
export type Mode = 'single' | 'cluster';

export const MODE_TARGETS: Record<Mode, TargetId[]> = {
  single: ['direct', 'bare-proxy', 'gatehouse', 'gatehouse-100k-keys', 'nginx', 'express-gateway'],
  // One node in memory, one node on Redis, two nodes on Redis: ratios within one run.
  cluster: ['direct', 'gatehouse', 'gatehouse-redis', 'gatehouse-cluster'],
};

export interface BenchOptions {
  mode: Mode;
  targets: TargetId[];
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  rounds: number;
  /** Keep the temp dir (configs, SQLite file, logs) for a look afterwards. */
  keepTmp: boolean;
  /** Constant-rate pass: requests per second (0 = no such pass) and timed seconds per round. */
  rate: number;
  rateDurationS: number;
  /** Active keys loaded by the gatehouse-100k-keys target. */
  keys: number;
}

const HELP = `npm run bench [-- options]

  --mode single|cluster   single (default): one Gatehouse node beside its peers;
                          cluster: one node (memory), one node on Redis and two
                          nodes on one Redis (wrk threads split across the nodes)
  --targets a,b,…         subset of: direct, bare-proxy, gatehouse, gatehouse-100k-keys,
                          nginx, express-gateway
  --duration N            timed seconds per target        (env BENCH_DURATION, default 10)
  --warmup N              warm-up seconds per target      (env BENCH_WARMUP, default 2)
  --connections N         wrk connections                 (env BENCH_CONNECTIONS, default 50)
  --threads N             wrk threads                     (env BENCH_THREADS, default 1;
                          2 in cluster mode, one per node)
  --rounds N              timed passes per target, interleaved (env BENCH_ROUNDS, default 2)
  --rate N                constant-rate pass, req/s; 0 = none (env BENCH_RATE, default 1000)
  --rate-duration N       timed seconds per round of it   (env BENCH_RATE_DURATION, default 10)
  --keys N                keys of gatehouse-100k-keys     (env BENCH_KEYS, default 100000)
  --keep-tmp              keep the temp dir               (env BENCH_KEEP_TMP=1)
`;

function integer(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${text}"`);
  return value;
}

/** Flags win over environment variables, which win over defaults. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n\n${HELP}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--keep-tmp') flags.set('keep-tmp', '1');
    else flags.set(arg.slice(2), argv[++i] ?? '');
  }
  const known = new Set([
    'mode',
    'targets',
    'duration',
    'warmup',
    'connections',
    'threads',
    'rounds',
    'keep-tmp',
    'rate',
    'rate-duration',
    'keys',
  ]);
  for (const name of flags.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}\n\n${HELP}`);

  const mode = flags.get('mode') ?? env.BENCH_MODE ?? 'single';
  if (mode !== 'single' && mode !== 'cluster') throw new Error(`--mode must be single or cluster, got "${mode}"`);
  const planned = MODE_TARGETS[mode];
  const wanted = flags.get('targets') ?? env.BENCH_TARGETS;
  let targets = planned;
  if (wanted) {
    const list = wanted
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const unknown = list.filter((t) => !(planned as string[]).includes(t));
    if (unknown.length > 0)
      throw new Error(`unknown target(s) for mode ${mode}: ${unknown.join(', ')} (known: ${planned.join(', ')})`);
    targets = planned.filter((t) => list.includes(t));
  }
  return {
    mode,
    targets,
    durationS: integer('duration', flags.get('duration') ?? env.BENCH_DURATION, 10, 1),
    warmupS: integer('warmup', flags.get('warmup') ?? env.BENCH_WARMUP, 2, 0),
    connections: integer('connections', flags.get('connections') ?? env.BENCH_CONNECTIONS, 50, 1),
    // Cluster mode spreads wrk's threads over the two nodes, so it needs two of them.
    threads: integer('threads', flags.get('threads') ?? env.BENCH_THREADS, mode === 'cluster' ? 2 : 1, 1),
    rounds: integer('rounds', flags.get('rounds') ?? env.BENCH_ROUNDS, 2, 1),
    keepTmp: flags.has('keep-tmp') || env.BENCH_KEEP_TMP === '1',
    rate: integer('rate', flags.get('rate') ?? env.BENCH_RATE, 1000, 0),
    rateDurationS: integer('rate-duration', flags.get('rate-duration') ?? env.BENCH_RATE_DURATION, 10, 1),
    keys: integer('keys', flags.get('keys') ?? env.BENCH_KEYS, 100_000, 2),
  };
}

export { HELP };
