/**
 * `npm run bench`: Gatehouse's gateway beside its peers, in one run, on 127.0.0.1.
 *
 * One small upstream (its own process) and, side by side: the upstream direct, a bare
 * node:http + undici proxy, Gatehouse with its whole pipeline, nginx, Express Gateway.
 * Every target is checked for correct answers first, then loaded in turn with the same
 * wrk settings (warm-up, then timed); the table, the ratios within this run and the
 * JSON in bench/results/ come out at the end. Every process started here is stopped on
 * success, error and Ctrl-C. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSecondsOfTrees } from './lib/cpu.js';
import { combineRounds, runWrk, type LoadSettings } from './lib/load.js';
import { freePort, HOST } from './lib/net.js';
import { HELP, parseOptions, type BenchOptions } from './lib/options.js';
import { ProcessGroup, runToEnd } from './lib/processes.js';
import type { RateLoadArgs, RateLoadResult } from './lib/rate-load.js';
import {
  computeGoals,
  computeRatios,
  formatReport,
  writeReport,
  type BenchReport,
  type FixedRateOutcome,
  type TargetOutcome,
} from './lib/report.js';
import {
  BENCH_PATH,
  startNodeChild,
  keysTarget,
  TARGETS,
  TargetUnavailable,
  type BenchContext,
  type RunningTarget,
  type TargetId,
} from './lib/targets.js';
import { ensureAptBinaries, ensureExpressGateway, EXPRESS_GATEWAY_VERSION, versionOf } from './lib/tools.js';

const ROOT = join(import.meta.dirname, '..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const PEERS_DIR = join(ROOT, 'bench', '.peers');

const started = Date.now();
function log(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function main(options: BenchOptions, group: ProcessGroup, tmpDir: string): Promise<number> {
  const startedAt = new Date().toISOString();
  keysTarget.count = options.keys;
  const wants = (id: TargetId): boolean => options.targets.includes(id);

  // --- Tools: wrk is required; nginx and Express Gateway only make their own target unavailable. ---
  const binaries: BenchContext['binaries'] = await ensureAptBinaries(group, ['wrk'], log);
  const installProblems: BenchContext['installProblems'] = {};
  if (wants('nginx')) {
    try {
      Object.assign(binaries, await ensureAptBinaries(group, ['nginx'], log));
    } catch (error) {
      installProblems.nginx = errorText(error);
    }
  }
  if (wants('express-gateway')) {
    try {
      await ensureExpressGateway(group, PEERS_DIR, log);
    } catch (error) {
      installProblems['express-gateway'] = errorText(error);
    }
  }

  // --- The upstream, in its own process. ---
  const upstreamPort = await freePort();
  const upstream = await startNodeChild({ group, root: ROOT }, 'upstream', 'upstream', {
    BENCH_PORT: String(upstreamPort),
  });
  const ctx: BenchContext = {
    group,
    root: ROOT,
    tmpDir,
    peersDir: PEERS_DIR,
    upstreamPort,
    upstreamUrl: `http://${HOST}:${upstreamPort}`,
    upstreamPid: upstream.child.pid,
    binaries,
    installProblems,
    log,
  };
  log(`upstream on ${ctx.upstreamUrl}`);

  // --- Start every target, then check each answers correctly before any timing. ---
  const outcomes: TargetOutcome[] = [];
  const running = new Map<TargetId, RunningTarget>();
  for (const id of options.targets) {
    if (group.stopping) throw new Error('interrupted');
    const spec = TARGETS[id];
    const outcome: TargetOutcome = { id, label: spec.label, status: 'measured', checks: [] };
    outcomes.push(outcome);
    try {
      log(`starting ${spec.label}`);
      running.set(id, await spec.start(ctx));
    } catch (error) {
      outcome.status = error instanceof TargetUnavailable ? 'unavailable' : 'failed';
      outcome.reason = errorText(error);
      log(`${outcome.status}: ${spec.label}: ${outcome.reason}`);
    }
  }
  for (const outcome of outcomes) {
    const target = running.get(outcome.id);
    if (!target) continue;
    outcome.checks = await target.verify();
    for (const c of outcome.checks)
      log(`  check ${outcome.id}: ${c.ok ? 'ok  ' : c.required ? 'FAIL' : 'note'} ${c.name} (${c.detail})`);
    const failed = outcome.checks.filter((c) => c.required && !c.ok);
    if (failed.length > 0) {
      outcome.status = 'failed';
      outcome.reason = `answers wrongly: ${failed.map((c) => `${c.name} → ${c.detail}`).join('; ')}`;
      running.delete(outcome.id);
    }
  }

  // --- Time the targets in turn, same wrk settings for all. With several rounds the
  // order repeats (A B C A B C …) so a slow drift of the machine hits every target alike.
  const settings: LoadSettings = {
    connections: options.connections,
    threads: options.threads,
    durationS: options.durationS,
    warmupS: options.warmupS,
    rounds: options.rounds,
  };
  const wrk = binaries.wrk!;
  for (let round = 1; round <= settings.rounds; round++) {
    for (const outcome of outcomes) {
      if (group.stopping) throw new Error('interrupted');
      const target = running.get(outcome.id);
      if (!target || outcome.status !== 'measured') continue;
      try {
        if (round === 1 && settings.warmupS > 0) {
          log(`warm-up ${outcome.id} (${settings.warmupS} s)`);
          const warmup = await runWrk(
            group,
            wrk,
            target.url,
            target.headers,
            { ...settings, durationS: settings.warmupS },
            target.wrkScript,
          );
          outcome.warmupRequests = warmup.requests;
        }
        log(
          `timing ${outcome.id} (${settings.durationS} s${settings.rounds > 1 ? `, round ${round}/${settings.rounds}` : ''})`,
        );
        const cpuBefore = target.pids.length > 0 ? cpuSecondsOfTrees(target.pids) : null;
        const upstreamBefore = cpuSecondsOfTrees([ctx.upstreamPid]);
        const load = await runWrk(group, wrk, target.url, target.headers, settings, target.wrkScript);
        const cpuAfter = target.pids.length > 0 ? cpuSecondsOfTrees(target.pids) : null;
        const upstreamAfter = cpuSecondsOfTrees([ctx.upstreamPid]);
        const spent = (before: number | null, after: number | null): number | null =>
          before === null || after === null ? null : after - before;
        outcome.rounds = [
          ...(outcome.rounds ?? []),
          {
            round,
            load,
            cpuSeconds: spent(cpuBefore, cpuAfter),
            upstreamCpuSeconds: spent(upstreamBefore, upstreamAfter),
          },
        ];
        log(
          `  ${outcome.id}: ${Math.round(load.rps)} req/s, p50 ${load.latencyMs.p50} ms, p99 ${load.latencyMs.p99} ms, non-2xx ${load.non2xx}`,
        );
      } catch (error) {
        outcome.status = 'failed';
        outcome.reason = errorText(error);
        log(`failed: ${outcome.id}: ${outcome.reason}`);
      }
    }
  }
  for (const outcome of outcomes) {
    if (outcome.status !== 'measured' || !outcome.rounds) continue;
    const rounds = outcome.rounds;
    const load = combineRounds(rounds.map((r) => r.load));
    outcome.load = load;
    const perRequest = (seconds: (number | null)[]): number | null =>
      seconds.some((x) => x === null) || load.requests === 0
        ? null
        : (seconds.reduce<number>((sum, x) => sum + x!, 0) * 1e6) / load.requests;
    outcome.cpuUsPerRequest = perRequest(rounds.map((r) => r.cpuSeconds));
    outcome.upstreamCpuUsPerRequest = perRequest(rounds.map((r) => r.upstreamCpuSeconds));
    if (load.non2xx > 0) outcome.reason = `${load.non2xx} of ${load.requests} responses were not 2xx/3xx under load`;
  }

  // --- Constant-rate pass: the same request at a fixed rate, open loop, so latency is
  // not throughput seen from the other side (as it is with wrk's closed loop). Targets
  // whose closed-loop throughput is below 1.5× the rate are skipped: they would only
  // queue. Rounds interleave like the throughput rounds.
  const fixedRate =
    options.rate > 0
      ? {
          rate: options.rate,
          durationS: options.rateDurationS,
          warmupS: 2,
          rounds: settings.rounds,
          tool: 'bench/lib/rate-load.ts',
        }
      : null;
  if (fixedRate) {
    for (const outcome of outcomes) {
      if (outcome.status !== 'measured' || !outcome.load || !running.has(outcome.id)) continue;
      outcome.fixedRate = { rounds: [] };
      if (outcome.id === 'gatehouse-100k-keys')
        outcome.fixedRate.skipped = 'same pipeline as Gatehouse; timed at full load only';
      else if (outcome.load.rps < fixedRate.rate * 1.5)
        outcome.fixedRate.skipped = `its throughput (${Math.round(outcome.load.rps)} req/s) is below 1.5× the rate`;
    }
    for (let round = 1; round <= fixedRate.rounds; round++) {
      for (const outcome of outcomes) {
        if (group.stopping) throw new Error('interrupted');
        const target = running.get(outcome.id);
        const fr = outcome.fixedRate;
        if (!target || !fr || fr.skipped || outcome.status !== 'measured') continue;
        log(
          `fixed rate ${outcome.id}: ${fixedRate.rate} req/s (${round === 1 ? `${fixedRate.warmupS} s warm-up + ` : ''}${fixedRate.durationS} s)`,
        );
        try {
          const cpuBefore = target.pids.length > 0 ? cpuSecondsOfTrees(target.pids) : null;
          const result = await runRateLoad(group, {
            url: target.url,
            headers: target.headers,
            rate: fixedRate.rate,
            durationS: fixedRate.durationS,
            warmupS: round === 1 ? fixedRate.warmupS : 0,
            maxConnections: 64,
          });
          const cpuAfter = target.pids.length > 0 ? cpuSecondsOfTrees(target.pids) : null;
          fr.rounds.push({
            round,
            result,
            cpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
          });
          log(
            `  ${outcome.id}: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms (written→done p99 ${result.serviceLatencyMs.p99} ms), ` +
              `${result.completed}/${result.sent} answered, non-2xx ${result.non2xx}`,
          );
        } catch (error) {
          fr.skipped = `failed: ${errorText(error)}`;
          log(`fixed rate failed: ${outcome.id}: ${fr.skipped}`);
        }
      }
    }
    for (const outcome of outcomes) if (outcome.fixedRate) combineFixedRate(outcome.fixedRate);
  }

  for (const outcome of outcomes) {
    const target = running.get(outcome.id);
    if (!target?.finish) continue;
    try {
      outcome.details = await target.finish();
    } catch (error) {
      outcome.details = { error: errorText(error) };
    }
  }

  const report: BenchReport = {
    schema: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: options.mode,
    settings: { ...settings, tool: 'wrk', path: BENCH_PATH, fixedRate, keys: options.keys },
    environment: await environment(group, binaries),
    targets: outcomes,
    ratios: computeRatios(outcomes),
  };
  if (fixedRate) {
    const p99 = (id: string, pick: 'latencyMs' | 'serviceLatencyMs'): number | null =>
      outcomes.find((o) => o.id === id)?.fixedRate?.combined?.[pick].p99 ?? null;
    const diff = (pick: 'latencyMs' | 'serviceLatencyMs'): number | null => {
      const ours = p99('gatehouse', pick);
      const bare = p99('bare-proxy', pick);
      return ours === null || bare === null ? null : Math.round((ours - bare) * 1000) / 1000;
    };
    report.fixedRate = {
      rate: fixedRate.rate,
      p99DiffMs: diff('latencyMs'),
      serviceP99DiffMs: diff('serviceLatencyMs'),
    };
  }
  report.goals = computeGoals(report);
  // Interrupted runs leave latest.json alone: half a run is not a result.
  if (group.stopping) throw new Error('interrupted');
  const file = writeReport(RESULTS_DIR, report);
  process.stdout.write(`\n${formatReport(report)}\n\nresults: ${file} (and bench/results/latest.json)\n`);
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

/** Runs bench/lib/rate-load.ts as its own process (its CPU is not the target's) and reads its JSON line. */
async function runRateLoad(group: ProcessGroup, args: RateLoadArgs): Promise<RateLoadResult> {
  const result = await runToEnd(
    group,
    'rate-load',
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'rate-load.ts'), JSON.stringify(args)],
    { cwd: ROOT, timeoutMs: (args.durationS + args.warmupS + 30) * 1000 },
  );
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.code !== 0 || !line.startsWith('{'))
    throw new Error(`rate-load exited with ${result.code ?? 'a signal'}: ${result.stderr || result.stdout}`);
  return JSON.parse(line) as RateLoadResult;
}

/** Percentiles: median of the rounds' (no histograms to merge, as with wrk); counts summed. */
function combineFixedRate(fr: FixedRateOutcome): void {
  if (fr.rounds.length === 0) return;
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const results = fr.rounds.map((r) => r.result);
  const pct = (pick: 'latencyMs' | 'serviceLatencyMs') => ({
    p50: median(results.map((r) => r[pick].p50)),
    p90: median(results.map((r) => r[pick].p90)),
    p99: median(results.map((r) => r[pick].p99)),
    p999: median(results.map((r) => r[pick].p999)),
    max: Math.max(...results.map((r) => r[pick].max)),
  });
  const completed = results.reduce((n, r) => n + r.completed, 0);
  const cpu = fr.rounds.map((r) => r.cpuSeconds);
  fr.combined = {
    rate: results[0]!.rate,
    completed,
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    latencyMs: pct('latencyMs'),
    serviceLatencyMs: pct('serviceLatencyMs'),
    cpuUsPerRequest:
      cpu.some((c) => c === null) || completed === 0
        ? null
        : (cpu.reduce<number>((n, c) => n + c!, 0) * 1e6) / completed,
  };
}

async function environment(
  group: ProcessGroup,
  binaries: BenchContext['binaries'],
): Promise<Record<string, string | number>> {
  const env: Record<string, string | number> = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    os: `${process.platform} ${release()}`,
  };
  if (binaries.wrk) env.wrk = await versionOf(group, binaries.wrk, ['-v']);
  if (binaries.nginx) env.nginx = await versionOf(group, binaries.nginx, ['-v']);
  const egPackage = join(PEERS_DIR, 'node_modules', 'express-gateway', 'package.json');
  if (existsSync(egPackage))
    env.expressGateway = (JSON.parse(readFileSync(egPackage, 'utf8')) as { version: string }).version;
  else env.expressGateway = `not installed (wanted ${EXPRESS_GATEWAY_VERSION})`;
  try {
    env.gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim();
    env.srcUncommittedChanges = dirty === '' ? 0 : dirty.split('\n').length;
  } catch {
    env.gitCommit = 'unknown';
  }
  return env;
}

// --- Entry: options, one process group, cleanup on every way out. ---
let options: BenchOptions | 'help';
try {
  options = parseOptions(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`${errorText(error)}\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(HELP);
  process.exit(0);
}

const group = new ProcessGroup();
const tmpDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const keepTmp = options.keepTmp;
let cleaning: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaning ??= group.stopAll().then(() => {
    if (keepTmp) log(`kept ${tmpDir}`);
    else rmSync(tmpDir, { recursive: true, force: true });
  });
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process started by the bench`);
    void cleanUp().finally(() => process.exit(130));
  });
}
// Last resort if something exits the process without cleanUp (a synchronous throw).
process.on('exit', () => group.killAllNow());

let code = 1;
try {
  code = await main(options, group, tmpDir);
} catch (error) {
  log(`bench stopped: ${errorText(error)}`);
} finally {
  await cleanUp();
}
process.exit(code);
