import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_UNAVAILABLE, READY_PATTERN, UPSTREAM_BODY } from '../targets/child.js';
import { memoryOfProcess } from './cpu.js';
import { HOST, freePort, httpRequest, waitForPort, type HttpAnswer } from './net.js';
import { writeNginxConfig } from './nginx.js';
import { waitForLine, type Child, type ProcessGroup } from './processes.js';

/** The path every target is asked for; each proxies it to the upstream, which answers any path. */
export const BENCH_PATH = '/bench/hello';

export type TargetId =
  | 'direct'
  | 'bare-proxy'
  | 'gatehouse'
  | 'gatehouse-100k-keys'
  | 'nginx'
  | 'express-gateway'
  | 'gatehouse-redis'
  | 'gatehouse-cluster';

export interface BenchContext {
  group: ProcessGroup;
  /** Repository root (children run with it as their working directory). */
  root: string;
  /** This run's temp dir; removed at the end. */
  tmpDir: string;
  /** Where Express Gateway is installed (git-ignored). */
  peersDir: string;
  upstreamPort: number;
  upstreamUrl: string;
  /** The upstream's own process, so "direct" can measure its CPU. */
  upstreamPid: number;
  binaries: Partial<Record<'wrk' | 'nginx', string>>;
  /** Set when an install step failed: targets needing it report unavailable with this reason. */
  installProblems: Partial<Record<'nginx' | 'express-gateway', string>>;
  log(line: string): void;
}

export interface RunningTarget {
  url: string;
  /** Sent with every timed request (the key, for the gateways). */
  headers: Record<string, string>;
  /** Process-tree roots whose CPU counts as the target's cost (empty: not measured). */
  pids: number[];
  /** Runs the correctness checks; all `required` ones must pass before timing. */
  verify(): Promise<Check[]>;
  /** Called once after timing: stops the target and returns what it reports about the run. */
  finish?(): Promise<Record<string, unknown>>;
  /** A wrk Lua script (`-s`), e.g. to spread wrk's threads over several nodes. */
  wrkScript?: string;
}

export interface Check {
  name: string;
  ok: boolean;
  /** A failed required check keeps the target from being timed. */
  required: boolean;
  detail: string;
}

export interface TargetSpec {
  id: TargetId;
  label: string;
  start(ctx: BenchContext): Promise<RunningTarget>;
}

/** Thrown by `start` when a target cannot run here; reported, never faked. */
export class TargetUnavailable extends Error {}

const READY_TIMEOUT_MS = 60_000;

/** Starts `bench/targets/<script>.ts` under tsx and waits for its READY line. */
export async function startNodeChild(
  ctx: Pick<BenchContext, 'group' | 'root'>,
  name: string,
  script: string,
  env: Record<string, string>,
): Promise<{ child: Child; info: Record<string, unknown> }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // An intermediate proxy from the environment would sit between a peer and the upstream.
  for (const v of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) delete childEnv[v];
  const child = ctx.group.spawn(
    name,
    process.execPath,
    ['--import', 'tsx', join(ctx.root, 'bench', 'targets', `${script}.ts`)],
    {
      cwd: ctx.root,
      env: childEnv,
    },
  );
  let line: string;
  try {
    line = await waitForLine(child, READY_PATTERN, READY_TIMEOUT_MS);
  } catch (error) {
    if ((await Promise.race([child.exited, Promise.resolve('running')])) === EXIT_UNAVAILABLE) {
      const reason = /UNAVAILABLE (.*)/.exec(child.tail())?.[1] ?? 'unavailable';
      throw new TargetUnavailable(reason);
    }
    throw error;
  }
  if (line.startsWith('UNAVAILABLE')) {
    await child.exited;
    throw new TargetUnavailable(line.slice('UNAVAILABLE '.length));
  }
  return { child, info: JSON.parse(line.slice('READY '.length)) as Record<string, unknown> };
}

// ---------- checks ----------

async function expectAnswer(
  name: string,
  url: string,
  headers: Record<string, string>,
  want: { status: number; body?: string },
  required = true,
): Promise<Check> {
  let answer: HttpAnswer;
  try {
    answer = await httpRequest(url, { headers });
  } catch (error) {
    return {
      name,
      ok: false,
      required,
      detail: `request failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const statusOk = answer.status === want.status;
  const bodyOk = want.body === undefined || answer.body === want.body;
  const detail = `${answer.status} ${answer.body.slice(0, 120).replace(/\s+/g, ' ')}`;
  return { name, ok: statusOk && bodyOk, required, detail };
}

/** The upstream's exact body comes back through the target with 200. */
function passesThrough(url: string, headers: Record<string, string> = {}): Promise<Check> {
  return expectAnswer('200 with the upstream body', url, headers, { status: 200, body: UPSTREAM_BODY });
}

// ---------- the targets ----------

const direct: TargetSpec = {
  id: 'direct',
  label: 'direct upstream',
  async start(ctx) {
    const url = `${ctx.upstreamUrl}${BENCH_PATH}`;
    return { url, headers: {}, pids: [ctx.upstreamPid], verify: async () => [await passesThrough(url)] };
  },
};

const bareProxy: TargetSpec = {
  id: 'bare-proxy',
  label: 'bare proxy (node:http + undici Pool.stream)',
  async start(ctx) {
    const port = await freePort();
    const { child } = await startNodeChild(ctx, 'bare-proxy', 'bare-proxy', {
      BENCH_PORT: String(port),
      BENCH_UPSTREAM_URL: ctx.upstreamUrl,
    });
    const url = `http://${HOST}:${port}${BENCH_PATH}`;
    return { url, headers: {}, pids: [child.pid], verify: async () => [await passesThrough(url)] };
  },
};

/**
 * Gatehouse with its whole pipeline. `keys` > 1 loads that many active keys first
 * (the 100k-keys memory target): its READY line carries the build time, memory and a
 * 1,000-key sample check, which become required checks here.
 */
function gatehouseTarget(id: TargetId, label: () => string, keys: () => number): TargetSpec {
  return {
    id,
    get label() {
      return label();
    },
    async start(ctx) {
      const port = await freePort();
      const workDir = join(ctx.tmpDir, id);
      const count = keys();
      const { child, info } = await startNodeChild(ctx, id, 'gatehouse', {
        BENCH_PORT: String(port),
        BENCH_UPSTREAM_URL: ctx.upstreamUrl,
        BENCH_WORK_DIR: workDir,
        BENCH_KEYS: String(count),
      });
      const loaded = info.keys as KeysLoaded | undefined;
      const memoryAtReady = memoryOfProcess(child.pid);
      const key = String(info.key);
      const url = `http://${HOST}:${port}${BENCH_PATH}`;
      const withKey = { authorization: `Bearer ${key}` };
      return {
        url,
        headers: withKey,
        pids: [child.pid],
        // Stopping it drains the gateway and flushes analytics; it then prints the recorder's stats.
        finish: async () => {
          // Memory after the timed rounds, before the drain: what the process holds while serving.
          const memoryAfterLoad = memoryOfProcess(child.pid);
          let stats: string | null = null;
          const off = child.onStdoutLine((line) => {
            if (line.startsWith('STATS ')) stats = line.slice('STATS '.length);
          });
          await ctx.group.stop(child, 20_000);
          off();
          return {
            analytics: stats === null ? 'no stats printed on shutdown' : (JSON.parse(stats) as unknown),
            memory: { atReady: memoryAtReady, afterLoad: memoryAfterLoad },
            ...(loaded ? { keys: loaded } : {}),
          };
        },
        verify: async () => {
          const ok = await passesThrough(url, withKey);
          const answer = await httpRequest(url, { headers: withKey }).catch(() => null);
          return [
            ok,
            await expectAnswer('401 without a key', url, {}, { status: 401 }),
            await expectAnswer(
              '401 with a wrong key',
              url,
              { authorization: 'Bearer gh_NotAKeyNotAKeyNotAKeyNotAKey0000' },
              { status: 401 },
            ),
            {
              name: 'rate-limit and quota headers present',
              ok:
                answer !== null &&
                answer.headers['x-ratelimit-limit'] !== undefined &&
                answer.headers['x-quota-limit'] !== undefined,
              required: false,
              detail: `x-ratelimit-limit=${String(answer?.headers['x-ratelimit-limit'])} x-quota-limit=${String(answer?.headers['x-quota-limit'])}`,
            },
            ...(loaded
              ? [
                  {
                    name: `${loaded.sampled} of the ${count.toLocaleString('en-US')} keys answer 200 through the gateway`,
                    ok: loaded.sampled > 0 && loaded.sampledOk === loaded.sampled && loaded.wrongKeyStatus === 401,
                    required: true,
                    detail: `${loaded.sampledOk} ok; a wrong key got ${loaded.wrongKeyStatus}; snapshot built in ${loaded.snapshotBuildMs} ms; RSS ${memoryAtReady?.rssMb ?? '?'} MB`,
                  },
                ]
              : []),
          ];
        },
      };
    },
  };
}

/** What the many-keys Gatehouse child reports on READY (bench/targets/gatehouse.ts). */
interface KeysLoaded {
  count: number;
  insertMs: number;
  snapshotBuildMs: number;
  rssBeforeGatewayMb: number;
  heapBeforeGatewayMb: number;
  rssLoadedMb: number;
  heapLoadedMb: number;
  sampled: number;
  sampledOk: number;
  wrongKeyStatus: number;
}

/** Active keys loaded by the `gatehouse-100k-keys` target (`--keys`, env BENCH_KEYS). */
export const keysTarget = { count: 100_000 };

const gatehouse = gatehouseTarget(
  'gatehouse',
  () => 'Gatehouse (key + access + rate limit + quota + analytics)',
  () => 1,
);
const gatehouseManyKeys = gatehouseTarget(
  'gatehouse-100k-keys',
  () => `Gatehouse, same, ${keysTarget.count.toLocaleString('en-US')} active keys loaded`,
  () => keysTarget.count,
);

const nginx: TargetSpec = {
  id: 'nginx',
  label: 'nginx (1 worker, keepalive upstream)',
  async start(ctx) {
    const binary = ctx.binaries.nginx;
    if (!binary) throw new TargetUnavailable(ctx.installProblems.nginx ?? 'nginx is not installed');
    const port = await freePort();
    const dir = join(ctx.tmpDir, 'nginx');
    const conf = writeNginxConfig(dir, port, ctx.upstreamPort);
    const child = ctx.group.spawn('nginx', binary, ['-p', `${dir}/`, '-c', conf, '-e', join(dir, 'error.log')]);
    await Promise.race([
      waitForPort(port, 10_000),
      child.exited.then((code) => {
        throw new Error(`nginx exited (code ${code ?? 'signal'}):\n${child.tail()}`);
      }),
    ]);
    const url = `http://${HOST}:${port}${BENCH_PATH}`;
    return { url, headers: {}, pids: [child.pid], verify: async () => [await passesThrough(url)] };
  },
};

const expressGateway: TargetSpec = {
  id: 'express-gateway',
  label: 'Express Gateway 1.16.11 (key-auth + rate-limit)',
  async start(ctx) {
    if (ctx.installProblems['express-gateway']) throw new TargetUnavailable(ctx.installProblems['express-gateway']);
    const port = await freePort();
    const adminPort = await freePort();
    const { child, info } = await startNodeChild(ctx, 'express-gateway', 'express-gateway', {
      BENCH_PORT: String(port),
      BENCH_ADMIN_PORT: String(adminPort),
      BENCH_UPSTREAM_URL: ctx.upstreamUrl,
      BENCH_PEERS_DIR: ctx.peersDir,
      BENCH_WORK_DIR: join(ctx.tmpDir, 'express-gateway'),
      LOG_LEVEL: 'error',
    });
    const url = `http://${HOST}:${port}${BENCH_PATH}`;
    const withKey = { authorization: `apiKey ${String(info.keyId)}:${String(info.keySecret)}` };
    return {
      url,
      headers: withKey,
      pids: [child.pid],
      verify: async () => [
        await passesThrough(url, withKey),
        await expectAnswer('401 without a key', url, {}, { status: 401 }),
        await expectAnswer('401 with a wrong key', url, { authorization: 'apiKey nope:nope' }, { status: 401 }),
      ],
    };
  },
};

/**
 * wrk's `setup` runs once per thread before it connects: thread i gets node i mod n,
 * so one wrk run drives every node and reports their sum (with `-t` a multiple of n,
 * the load is even).
 */
function writeSpreadScript(file: string, ports: number[]): string {
  const targets = ports.map((p) => `{ "${HOST}", "${p}" }`).join(', ');
  writeFileSync(
    file,
    `-- Spreads wrk's threads over the gateway nodes (written by bench/lib/targets.ts).\n` +
      `local nodes = { ${targets} }\nlocal n = 0\n` +
      `function setup(thread)\n  n = n + 1\n  local node = nodes[(n - 1) % #nodes + 1]\n` +
      `  thread.addr = wrk.lookup(node[1], node[2])[1]\nend\n`,
  );
  return file;
}

/**
 * `--mode cluster`: Gatehouse with its counters and change bus on one redis-server
 * (a child on a free port, no persistence), as `nodes` gateway processes sharing one
 * database (the first seeds it, the others join with its key). The SQLite file is
 * shared: the database is off the gateway's hot path (snapshot + analytics flushes).
 * CPU counts every node and redis-server. A check proves the nodes share counters:
 * the key's X-RateLimit-Remaining drops by one from one node's answer to the next's.
 */
function gatehouseOnRedis(id: TargetId, nodes: number, label: string): TargetSpec {
  return {
    id,
    label,
    async start(ctx) {
      const redisPort = await freePort();
      let redis: Child;
      try {
        redis = ctx.group.spawn(`${id}-redis`, 'redis-server', [
          '--port',
          String(redisPort),
          '--bind',
          HOST,
          '--save',
          '',
          '--appendonly',
          'no',
        ]);
      } catch (error) {
        throw new TargetUnavailable(
          `redis-server cannot start (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      redis.process.once('error', () => undefined); // ENOENT: reported below as unavailable
      await Promise.race([
        waitForPort(redisPort, 10_000),
        redis.exited.then((code) => {
          throw new TargetUnavailable(
            `redis-server exited (code ${code ?? 'signal'}); is the redis-server package installed?`,
          );
        }),
      ]);
      const workDir = join(ctx.tmpDir, id);
      if (!existsSync(workDir)) mkdirSync(workDir, { recursive: true });
      const redisUrl = `redis://${HOST}:${redisPort}`;
      const children: Child[] = [];
      const urls: string[] = [];
      const ports: number[] = [];
      let key = '';
      for (let i = 0; i < nodes; i++) {
        const port = await freePort();
        const { child, info } = await startNodeChild(ctx, `${id}-${i + 1}`, 'gatehouse', {
          BENCH_PORT: String(port),
          BENCH_UPSTREAM_URL: ctx.upstreamUrl,
          BENCH_WORK_DIR: workDir,
          BENCH_KEYS: '1',
          BENCH_NODE_ID: `bench-${i + 1}`,
          BENCH_REDIS_URL: redisUrl,
          ...(i > 0 ? { BENCH_JOIN_KEY: key } : {}),
        });
        if (i === 0) key = String(info.key);
        children.push(child);
        ports.push(port);
        urls.push(`http://${HOST}:${port}${BENCH_PATH}`);
      }
      const withKey = { authorization: `Bearer ${key}` };
      return {
        url: urls[0] as string,
        headers: withKey,
        pids: [...children.map((c) => c.pid), redis.pid],
        wrkScript: nodes > 1 ? writeSpreadScript(join(workDir, 'spread.lua'), ports) : undefined,
        finish: async () => {
          const stats: unknown[] = [];
          for (const child of children) {
            const off = child.onStdoutLine((line) => {
              if (line.startsWith('STATS ')) stats.push(JSON.parse(line.slice('STATS '.length)) as unknown);
            });
            await ctx.group.stop(child, 20_000);
            off();
          }
          await ctx.group.stop(redis, 5_000);
          return { nodes, analytics: stats };
        },
        verify: async () => {
          const checks: Check[] = [];
          for (const url of urls) checks.push(await passesThrough(url, withKey));
          checks.push(await expectAnswer('401 without a key', urls[0] as string, {}, { status: 401 }));
          const remaining: number[] = [];
          for (const url of [...urls, urls[0] as string]) {
            const answer = await httpRequest(url, { headers: withKey }).catch(() => null);
            remaining.push(Number(answer?.headers['x-ratelimit-remaining']));
          }
          const shared = remaining.every((r, i) => i === 0 || r === (remaining[i - 1] as number) - 1);
          checks.push({
            name:
              nodes > 1 ? 'the nodes share one rate-limit counter in Redis' : 'the rate-limit counter lives in Redis',
            ok: shared,
            required: true,
            detail: `X-RateLimit-Remaining in turn: ${remaining.join(', ')}`,
          });
          return checks;
        },
      };
    },
  };
}

const gatehouseRedis = gatehouseOnRedis('gatehouse-redis', 1, 'Gatehouse, 1 node, counters on Redis');
const gatehouseCluster = gatehouseOnRedis(
  'gatehouse-cluster',
  2,
  'Gatehouse, 2 nodes on one Redis (wrk threads split across them)',
);

export const TARGETS: Record<TargetId, TargetSpec> = {
  direct,
  'bare-proxy': bareProxy,
  gatehouse,
  'gatehouse-100k-keys': gatehouseManyKeys,
  nginx,
  'express-gateway': expressGateway,
  'gatehouse-redis': gatehouseRedis,
  'gatehouse-cluster': gatehouseCluster,
};
