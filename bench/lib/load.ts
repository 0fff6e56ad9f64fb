import { runToEnd, type ProcessGroup } from './processes.js';

/** The one load-generator setting used for every target in a run. */
export interface LoadSettings {
  connections: number;
  threads: number;
  durationS: number;
  warmupS: number;
  /** Timed passes per target, interleaved across targets. */
  rounds: number;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: { avg: number; p50: number; p75: number; p90: number; p99: number; max: number };
  /** Responses that were not 2xx/3xx: a target that refuses under load is not fast, it is wrong. */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/**
 * Runs wrk once against `url` with `headers`. wrk reports latency without coordinated
 * omission correction (it is closed-loop); that is the same for every target.
 */
export async function runWrk(
  group: ProcessGroup,
  wrkPath: string,
  url: string,
  headers: Record<string, string>,
  settings: { connections: number; threads: number; durationS: number },
  script?: string,
): Promise<LoadResult> {
  const args = [
    ...(script ? ['-s', script] : []),
    `-c${settings.connections}`,
    `-t${settings.threads}`,
    `-d${settings.durationS}s`,
    '--latency',
    '--timeout',
    '5s',
    ...Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    url,
  ];
  const result = await runToEnd(group, 'wrk', wrkPath, args, { timeoutMs: (settings.durationS + 30) * 1000 });
  if (result.code !== 0)
    throw new Error(`wrk exited with ${result.code ?? 'a signal'}: ${result.stderr || result.stdout}`);
  return parseWrk(result.stdout);
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Reads wrk 4.x text output (with `--latency`). Exported for checking by hand. */
export function parseWrk(output: string): LoadResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(output);
    if (!m) throw new Error(`wrk output has no ${what}:\n${output}`);
    return m;
  };
  const latency = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'latency line');
  const pct = (p: number): number => durationMs(need(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm'), `${p}% line`)[1]!);
  const total = need(/(\d+) requests in ([\d.]+)(us|ms|s|m)/, 'request count');
  const rps = need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(total[1]),
    durationS: durationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(rps[1]),
    latencyMs: {
      avg: durationMs(latency[1]!),
      p50: pct(50),
      p75: pct(75),
      p90: pct(90),
      p99: pct(99),
      max: durationMs(latency[3]!),
    },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: sock ? Number(sock[1]) : 0,
      read: sock ? Number(sock[2]) : 0,
      write: sock ? Number(sock[3]) : 0,
      timeout: sock ? Number(sock[4]) : 0,
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * One figure from several timed passes of the same target: throughput pooled (all
 * requests ÷ all seconds), each latency percentile the median of the passes'
 * (wrk gives no histogram to merge), max the max, error counts summed.
 */
export function combineRounds(rounds: LoadResult[]): LoadResult {
  if (rounds.length === 0) throw new Error('no rounds to combine');
  if (rounds.length === 1) return rounds[0]!;
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const durationS = rounds.reduce((n, r) => n + r.durationS, 0);
  const pick = (key: keyof LoadResult['latencyMs']): number => median(rounds.map((r) => r.latencyMs[key]));
  const sum = (key: keyof LoadResult['socketErrors']): number => rounds.reduce((n, r) => n + r.socketErrors[key], 0);
  return {
    requests,
    durationS,
    rps: requests / durationS,
    latencyMs: {
      avg: pick('avg'),
      p50: pick('p50'),
      p75: pick('p75'),
      p90: pick('p90'),
      p99: pick('p99'),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    socketErrors: { connect: sum('connect'), read: sum('read'), write: sum('write'), timeout: sum('timeout') },
  };
}
