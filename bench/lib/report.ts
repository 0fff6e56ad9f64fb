import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult, LoadSettings } from './load.js';
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
  settings: LoadSettings & { tool: string; path: string };
  environment: Record<string, string | number>;
  targets: TargetOutcome[];
  ratios: Ratio[];
}

const SHORT: Record<TargetId, string> = {
  direct: 'direct',
  'bare-proxy': 'bare proxy',
  gatehouse: 'Gatehouse',
  nginx: 'nginx',
  'express-gateway': 'Express Gateway',
  'gatehouse-cluster': 'Gatehouse ×2',
};

/** Each proxy against the upstream alone, then Gatehouse against each peer. */
export function computeRatios(targets: TargetOutcome[]): Ratio[] {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const pairs: [TargetId, TargetId][] = [];
  if (byId.has('direct')) for (const t of targets) if (t.id !== 'direct') pairs.push([t.id, 'direct']);
  const ours: TargetId = byId.has('gatehouse-cluster') ? 'gatehouse-cluster' : 'gatehouse';
  for (const peer of ['bare-proxy', 'nginx', 'express-gateway'] as const)
    if (byId.has(peer) && byId.has(ours)) pairs.push([ours, peer]);
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

  lines.push('');
  lines.push('ratios within this run (req/s ratio > 1 = faster; latency and CPU ratio > 1 = slower / costlier)');
  const ratioRows: string[][] = [['', 'req/s', 'p50', 'p99', 'CPU/req']];
  for (const r of report.ratios) ratioRows.push([r.name, fmtX(r.rps), fmtX(r.p50), fmtX(r.p99), fmtX(r.cpuPerRequest)]);
  lines.push(table(ratioRows, [false, true, true, true, true]));
  return lines.join('\n');
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
