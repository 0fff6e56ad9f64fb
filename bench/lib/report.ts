import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult, LoadSettings } from './load.js';
import type { Percentiles, RateLoadResult } from './rate-load.js';
import type { Mode } from './options.js';
import type { Check, TargetId } from './targets.js';

export interface TargetOutcome {
  id: TargetId;
  label: string;
  /** measured: timed; unavailable: could not run here (reason); failed: ran but was wrong or crashed. */
  status: 'measured' | 'unavailable' | 'failed';
  reason?: string;
  checks: Check[];
  load?: LoadResult;
  /** CPU of the target's own processes per timed request (µs); null where /proc is missing. */
  cpuUsPerRequest?: number | null;
  /** CPU of the shared upstream per timed request (µs), to see what the upstream cost in that pass. */
  upstreamCpuUsPerRequest?: number | null;
  /** Each timed pass; `load` and the CPU figures above combine them. */
  rounds?: { round: number; load: LoadResult; cpuSeconds: number | null; upstreamCpuSeconds: number | null }[];
  /** Requests sent during the warm-up (not timed). */
  warmupRequests?: number;
  /** What the target reported when it was stopped (Gatehouse: its analytics recorder's stats). */
  details?: Record<string, unknown>;
  /** The constant-rate pass (open loop, `--rate` req/s): each round, and the rounds combined. */
  fixedRate?: FixedRateOutcome;
}

export interface FixedRateOutcome {
  /** Why the target was not run at the fixed rate (e.g. its throughput is below the rate). */
  skipped?: string;
  rounds: { round: number; result: RateLoadResult; cpuSeconds: number | null }[];
  /** Percentiles: the median of the rounds'; counts summed. */
  combined?: {
    rate: number;
    completed: number;
    non2xx: number;
    errors: number;
    latencyMs: Percentiles;
    serviceLatencyMs: Percentiles;
    cpuUsPerRequest: number | null;
  };
}

/** One target of issue 3 ("What it must show"), judged from this run. */
export interface Goal {
  name: string;
  want: string;
  got: string;
  /** null when this run did not measure it. */
  met: boolean | null;
}

export interface Ratio {
  name: string;
  numerator: TargetId;
  denominator: TargetId;
  /** numerator ÷ denominator; null when either side was not measured. */
  rps: number | null;
  p50: number | null;
  p99: number | null;
  cpuPerRequest: number | null;
}

export interface BenchReport {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  mode: Mode;
  settings: LoadSettings & {
    tool: string;
    path: string;
    fixedRate: { rate: number; durationS: number; warmupS: number; rounds: number; tool: string } | null;
    keys: number;
  };
  environment: Record<string, string | number>;
  targets: TargetOutcome[];
  ratios: Ratio[];
  /** p99 at the fixed rate, Gatehouse minus bare proxy (ms), both ways of measuring. */
  fixedRate?: { rate: number; p99DiffMs: number | null; serviceP99DiffMs: number | null };
  goals?: Goal[];
}

const SHORT: Record<TargetId, string> = {
  direct: 'direct',
  'bare-proxy': 'bare proxy',
  gatehouse: 'Gatehouse',
  'gatehouse-100k-keys': 'Gatehouse 100k keys',
  nginx: 'nginx',
  'express-gateway': 'Express Gateway',
  'gatehouse-redis': 'Gatehouse on Redis',
  'gatehouse-cluster': 'Gatehouse ×2 on Redis',
};

/** Each proxy against the upstream alone, then Gatehouse against each peer. */
export function computeRatios(targets: TargetOutcome[]): Ratio[] {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const pairs: [TargetId, TargetId][] = [];
  if (byId.has('direct')) for (const t of targets) if (t.id !== 'direct') pairs.push([t.id, 'direct']);
  const ours: TargetId = byId.has('gatehouse-cluster') ? 'gatehouse-cluster' : 'gatehouse';
  for (const peer of ['bare-proxy', 'nginx', 'express-gateway'] as const)
    if (byId.has(peer) && byId.has(ours)) pairs.push([ours, peer]);
  if (byId.has('gatehouse-100k-keys') && byId.has('gatehouse')) pairs.push(['gatehouse-100k-keys', 'gatehouse']);
  // Scale-out: what Redis costs one node, and what a second node adds, within one run.
  if (byId.has('gatehouse-redis') && byId.has('gatehouse')) pairs.push(['gatehouse-redis', 'gatehouse']);
  if (byId.has('gatehouse-cluster') && byId.has('gatehouse')) pairs.push(['gatehouse-cluster', 'gatehouse']);
  if (byId.has('gatehouse-cluster') && byId.has('gatehouse-redis'))
    pairs.push(['gatehouse-cluster', 'gatehouse-redis']);
  return pairs.map(([a, b]) => {
    const x = byId.get(a);
    const y = byId.get(b);
    const ratio = (pick: (t: TargetOutcome) => number | null | undefined): number | null => {
      if (x?.status !== 'measured' || y?.status !== 'measured') return null;
      const top = pick(x);
      const bottom = pick(y);
      return top == null || bottom == null || bottom === 0 ? null : top / bottom;
    };
    return {
      name: `${SHORT[a]} / ${SHORT[b]}`,
      numerator: a,
      denominator: b,
      rps: ratio((t) => t.load?.rps),
      p50: ratio((t) => t.load?.latencyMs.p50),
      p99: ratio((t) => t.load?.latencyMs.p99),
      cpuPerRequest: ratio((t) => t.cpuUsPerRequest),
    };
  });
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number): string => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const fmtX = (n: number | null): string => (n === null ? '—' : `${n.toFixed(2)}×`);

function table(rows: string[][], alignRight: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (alignRight[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The human-readable summary printed at the end of a run. */
export function formatReport(report: BenchReport): string {
  const s = report.settings;
  const lines: string[] = [];
  lines.push(
    `Gatehouse bench — mode ${report.mode}; ${s.tool} -c${s.connections} -t${s.threads}; per target ${s.warmupS} s warm-up + ` +
      `${s.rounds > 1 ? `${s.rounds} interleaved rounds × ` : ''}${s.durationS} s; GET ${s.path}; ` +
      `${String(report.environment.cpus)} CPUs, node ${String(report.environment.node)}`,
  );
  lines.push('');
  const rows: string[][] = [
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'upstream µs/req', 'non-2xx', 'sock err'],
  ];
  for (const t of report.targets) {
    if (t.status !== 'measured' || !t.load) {
      rows.push([t.label, t.status === 'unavailable' ? 'unavailable' : 'FAILED', '', '', '', '', '', '']);
      continue;
    }
    const l = t.load;
    const sockErr = l.socketErrors.connect + l.socketErrors.read + l.socketErrors.write + l.socketErrors.timeout;
    rows.push([
      t.label,
      fmtInt(l.rps),
      fmtMs(l.latencyMs.p50),
      fmtMs(l.latencyMs.p99),
      t.cpuUsPerRequest == null ? '—' : fmtInt(t.cpuUsPerRequest),
      t.id === 'direct' || t.upstreamCpuUsPerRequest == null ? '—' : fmtInt(t.upstreamCpuUsPerRequest),
      String(l.non2xx),
      String(sockErr),
    ]);
  }
  lines.push(table(rows, [false, true, true, true, true, true, true, true]));

  const notes = report.targets.filter((t) => t.status !== 'measured');
  if (notes.length > 0) {
    lines.push('');
    for (const t of notes)
      lines.push(`${t.status === 'unavailable' ? 'unavailable' : 'FAILED'}: ${t.label} — ${t.reason ?? ''}`);
  }
  const gatehouse = report.targets.find((t) => t.id === 'gatehouse' && t.status === 'measured');
  const recorder = gatehouse?.details?.analytics as Record<string, unknown> | undefined;
  if (gatehouse?.load && recorder && typeof recorder.flushed === 'number') {
    const sent = gatehouse.load.requests + (gatehouse.warmupRequests ?? 0);
    lines.push('');
    lines.push(
      `Gatehouse analytics: ${fmtInt(recorder.flushed)} requests in the rollups, ${fmtInt(Number(recorder.flushedRecords))} raw records written, ` +
        `${fmtInt(Number(recorder.dropped))} raw records dropped, ${fmtInt(Number(recorder.droppedHits))} not counted ` +
        `(wrk sent ${fmtInt(sent)} in warm-up + timing, plus the checks)`,
    );
  }
  const failedChecks = report.targets.flatMap((t) =>
    t.checks.filter((c) => !c.ok).map((c) => `${t.label}: ${c.required ? 'FAILED' : 'note'} "${c.name}" → ${c.detail}`),
  );
  if (failedChecks.length > 0) {
    lines.push('');
    lines.push(...failedChecks);
  }

  const rated = report.targets.filter((t) => t.fixedRate);
  const fr = report.settings.fixedRate;
  if (fr && rated.length > 0) {
    lines.push('');
    lines.push(
      `fixed rate: ${fmtInt(fr.rate)} req/s open loop (${fr.tool}), ${fr.warmupS} s warm-up + ${fr.rounds > 1 ? `${fr.rounds} interleaved rounds × ` : ''}${fr.durationS} s; ` +
        'latency from the time each request was due (coordinated omission corrected) and from when it was written',
    );
    const frRows: string[][] = [
      [
        'target',
        'answered',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'p99 written→done',
        'CPU µs/req',
        'non-2xx',
        'errors',
      ],
    ];
    for (const t of rated) {
      const c = t.fixedRate!.combined;
      if (!c) {
        frRows.push([t.label, `skipped: ${t.fixedRate!.skipped ?? ''}`, '', '', '', '', '', '', '', '']);
        continue;
      }
      frRows.push([
        t.label,
        fmtInt(c.completed),
        fmtMs(c.latencyMs.p50),
        fmtMs(c.latencyMs.p99),
        fmtMs(c.latencyMs.p999),
        fmtMs(c.latencyMs.max),
        fmtMs(c.serviceLatencyMs.p99),
        c.cpuUsPerRequest == null ? '—' : fmtInt(c.cpuUsPerRequest),
        String(c.non2xx),
        String(c.errors),
      ]);
    }
    lines.push(table(frRows, [false, true, true, true, true, true, true, true, true, true]));
    if (report.fixedRate) {
      const d = report.fixedRate;
      const fmtD = (n: number | null): string => (n === null ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(2)} ms`);
      lines.push(
        `Gatehouse − bare proxy at ${fmtInt(d.rate)} req/s: p99 ${fmtD(d.p99DiffMs)} (due→done), ${fmtD(d.serviceP99DiffMs)} (written→done)`,
      );
    }
  }

  const memoryRows: string[][] = [
    ['target', 'keys', 'snapshot build ms', 'RSS at ready MB', 'RSS after load MB', 'peak RSS MB', 'heap with keys MB'],
  ];
  for (const t of report.targets) {
    const memory = t.details?.memory as
      { atReady: { rssMb: number } | null; afterLoad: { rssMb: number; peakRssMb: number } | null } | undefined;
    if (!memory) continue;
    const keys = t.details?.keys as { count: number; snapshotBuildMs: number; heapLoadedMb: number } | undefined;
    memoryRows.push([
      t.label,
      fmtInt(keys?.count ?? 1),
      keys ? fmtInt(keys.snapshotBuildMs) : '—',
      memory.atReady ? memory.atReady.rssMb.toFixed(1) : '—',
      memory.afterLoad ? memory.afterLoad.rssMb.toFixed(1) : '—',
      memory.afterLoad ? memory.afterLoad.peakRssMb.toFixed(1) : '—',
      keys ? keys.heapLoadedMb.toFixed(1) : '—',
    ]);
  }
  if (memoryRows.length > 1) {
    lines.push('');
    lines.push('memory (VmRSS from /proc; "at ready" = database loaded, snapshot built, before any load)');
    lines.push(table(memoryRows, [false, true, true, true, true, true, true]));
  }

  lines.push('');
  lines.push('ratios within this run (req/s ratio > 1 = faster; latency and CPU ratio > 1 = slower / costlier)');
  const ratioRows: string[][] = [['', 'req/s', 'p50', 'p99', 'CPU/req']];
  for (const r of report.ratios) ratioRows.push([r.name, fmtX(r.rps), fmtX(r.p50), fmtX(r.p99), fmtX(r.cpuPerRequest)]);
  lines.push(table(ratioRows, [false, true, true, true, true]));

  if (report.goals && report.goals.length > 0) {
    lines.push('');
    lines.push('issue 3 targets, judged from this run');
    const goalRows: string[][] = [['', 'target', 'this run', '']];
    for (const g of report.goals)
      goalRows.push([g.name, g.want, g.got, g.met === null ? 'not measured' : g.met ? 'met' : 'NOT met']);
    lines.push(table(goalRows, [false, false, false, false]));
  }
  return lines.join('\n');
}

/** Issue 3's targets, from the ratios, the fixed-rate pass and the many-keys target of this one run. */
export function computeGoals(report: Pick<BenchReport, 'ratios' | 'targets' | 'fixedRate'>): Goal[] {
  const ratio = (name: string): number | null => report.ratios.find((r) => r.name === name)?.rps ?? null;
  const goal = (
    name: string,
    want: string,
    value: number | null,
    ok: (v: number) => boolean,
    show: (v: number) => string,
  ): Goal => ({
    name,
    want,
    got: value === null ? '—' : show(value),
    met: value === null ? null : ok(value),
  });
  // Three decimals: 0.896× must not print as a "0.90×" that is not met.
  const x = (v: number): string => `${v.toFixed(3)}×`;
  const goals = [
    goal('throughput vs bare proxy', '≥ 0.9×', ratio('Gatehouse / bare proxy'), (v) => v >= 0.9, x),
    goal('throughput vs Express Gateway', '≥ 10×', ratio('Gatehouse / Express Gateway'), (v) => v >= 10, x),
    goal('throughput vs nginx', '≥ 0.4×', ratio('Gatehouse / nginx'), (v) => v >= 0.4, x),
    goal(
      `p99 at ${report.fixedRate ? fmtInt(report.fixedRate.rate) : '—'} req/s vs bare proxy`,
      '≤ +1 ms',
      report.fixedRate?.p99DiffMs ?? null,
      (v) => v <= 1,
      (v) => `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`,
    ),
  ];
  const many = report.targets.find((t) => t.id === 'gatehouse-100k-keys');
  const keys = many?.details?.keys as { count: number } | undefined;
  const memory = many?.details?.memory as { afterLoad: { rssMb: number; peakRssMb: number } | null } | undefined;
  // While serving, after the timed rounds (the peak, also in the memory table, includes
  // the snapshot build's transient garbage).
  const serving = many?.status === 'measured' && memory?.afterLoad ? memory.afterLoad.rssMb : null;
  goals.push(
    goal(
      `RSS with ${keys ? fmtInt(keys.count) : '100,000'} keys, serving`,
      '< 300 MB',
      serving,
      (v) => v < 300,
      (v) => `${v.toFixed(1)} MB`,
    ),
  );
  return goals;
}

/** Writes bench-<timestamp>.json and latest.json; returns the timestamped path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `bench-${stamp}.json`);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}
