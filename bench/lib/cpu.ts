import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time used by a process and all its descendants, from /proc (Linux only; null
 * elsewhere). Throughput drifts between passes on a shared 2-core box; CPU µs per
 * request is the steadier figure (NOTES.md), so the bench reports both.
 */
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux build.

interface Stat {
  pid: number;
  ppid: number;
  ticks: number;
}

function readStat(pid: string): Stat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { pid: Number(pid), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Seconds of CPU (user + system) used so far by `roots` and their descendants. */
export function cpuSecondsOfTrees(roots: number[]): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const stats = entries.map(readStat).filter((s): s is Stat => s !== null);
  const children = new Map<number, Stat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let ticks = 0;
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += byPid.get(pid)?.ticks ?? 0;
    for (const child of children.get(pid) ?? []) stack.push(child.pid);
  }
  return ticks / TICKS_PER_SECOND;
}

/** Resident memory of one process from /proc/<pid>/status, in MB: now (VmRSS) and its peak (VmHWM). */
export function memoryOfProcess(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    if (!Number.isFinite(rss)) return null;
    return { rssMb: Math.round(rss / 102.4) / 10, peakRssMb: Math.round(peak / 102.4) / 10 };
  } catch {
    return null;
  }
}
