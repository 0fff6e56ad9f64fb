/**
 * Gatehouse's gateway with its whole pipeline on: key check, access rights, a rate
 * limit too high to trigger, a large quota, analytics recording (default settings, raw
 * records kept). Its own process, a fresh SQLite database in the bench's temp dir,
 * data inserted with the modules' repositories (what the admin API would have
 * written), then wired as `gatehouse start --services=gateway` wires it
 * (src/runtime/runtime.ts).
 *
 * Announces `READY {"port", "key"}` with the key's secret, sent by the bench as
 * `Authorization: Bearer <secret>`.
 *
 * With `BENCH_KEYS=N` (N > 1) the database holds N active keys (the bench's one plus
 * N − 1 more on the same policy, bulk-inserted) before the gateway boots, so the
 * snapshot maps N hashes. READY then also reports the snapshot build time, the
 * process's memory with the keys loaded, and a check of 1,000 randomly chosen keys
 * through the gateway itself (each must get the upstream's 200). On SIGTERM it drains, flushes analytics and prints
 * `STATS {…}` (the recorder's counters), so the report can show that every timed
 * request was recorded.
 *
 * Scale-out (`--mode cluster`): `BENCH_REDIS_URL` puts the counters and change bus on
 * Redis (chosen by createKvBackends, as the runtime does); `BENCH_JOIN_KEY=<secret>`
 * makes a second node join the database the first one seeded (same BENCH_WORK_DIR)
 * instead of seeding its own, and serve that key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGateway } from '../../src/apps/gateway/index.js';
import { DEFAULTS, type Config } from '../../src/config/index.js';
import { createAnalyticsRecorder, createAnalyticsWriter } from '../../src/modules/analytics/index.js';
import { apisRepository } from '../../src/modules/apis/index.js';
import type { Database } from '../../src/modules/database.js';
import { developersRepository } from '../../src/modules/developers/index.js';
import { keysRepository } from '../../src/modules/keys/index.js';
import { policiesRepository } from '../../src/modules/policies/index.js';
import { migrateToLatest, openDatabase } from '../../src/platform/db/index.js';
import { createKvBackends } from '../../src/platform/kv/index.js';
import { createLogger } from '../../src/platform/logging/logger.js';
import { newSecret, sha256Hex } from '../../src/shared/crypto.js';
import { newId } from '../../src/shared/ids.js';
import { announceReady, envPort, onStop, requiredEnv } from './child.js';

const port = envPort('BENCH_PORT');
const upstream = requiredEnv('BENCH_UPSTREAM_URL');
const workDir = requiredEnv('BENCH_WORK_DIR');
const nodeId = process.env.BENCH_NODE_ID ?? 'bench-1';
const keyCount = Math.max(1, Number(process.env.BENCH_KEYS ?? '1') || 1);
const redisUrl = process.env.BENCH_REDIS_URL || undefined;
const joinKey = process.env.BENCH_JOIN_KEY || undefined;

const config: Config = {
  ...DEFAULTS,
  database_url: `sqlite:${join(workDir, 'gatehouse.db')}`,
  host: '127.0.0.1',
  gateway_port: port,
  services: ['gateway'],
  data_dir: workDir,
  demo: false,
  log_level: 'warn',
  redis_url: redisUrl,
  // e.g. BENCH_GATEHOUSE_CONFIG='{"analytics_raw_retention_hours":0}' to see what raw records cost.
  ...configOverrides(),
};

function configOverrides(): Partial<Config> {
  const text = process.env.BENCH_GATEHOUSE_CONFIG;
  if (!text) return {};
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('BENCH_GATEHOUSE_CONFIG must be a JSON object');
  const unknown = Object.keys(parsed).filter((k) => !(k in DEFAULTS));
  if (unknown.length > 0) throw new Error(`BENCH_GATEHOUSE_CONFIG: unknown config keys ${unknown.join(', ')}`);
  return parsed;
}

// Warnings and errors go to stderr, which the bench keeps for its error messages.
const logger = createLogger(config.log_level, process.stderr);
const handle = openDatabase<Database>(config.database_url);
await migrateToLatest(handle.db);

// --- What the admin API would have written: an API, a policy granting it, a developer and her key. ---
// A joining node (cluster mode) finds all of it already written by the first node.
const now = Date.now();
const seed = joinKey === undefined;
const apiId = newId('api');
if (seed)
  await apisRepository.insert(handle.db, {
    id: apiId,
    name: 'Bench upstream',
    slug: 'bench',
    listen_path: '/bench/',
    target_url: upstream,
    strip_listen_path: 1,
    auth: 'key',
    key_query_param: null,
    rate: 0,
    per: 1,
    upstream_timeout_ms: config.upstream_timeout_ms,
    active: 1,
    version: 1,
    created_at: now,
    updated_at: now,
  });
const policyId = newId('policy');
if (seed)
  await policiesRepository.insert(
    handle.db,
    {
      id: policyId,
      name: 'Bench: limits that never trigger',
      // Checked on every request, never reached: 1e9 per second, 1e9 per 30 days.
      rate: 1_000_000_000,
      per: 1,
      quota_max: 1_000_000_000,
      quota_renewal_rate: 30 * 24 * 3600,
      key_expires_in: 0,
      access_rights: JSON.stringify([{ api_id: apiId, allowed_urls: [] }]),
      active: 1,
      tags: '[]',
      version: 1,
      created_at: now,
      updated_at: now,
    },
    [apiId],
  );
const developerId = newId('developer');
if (seed)
  await developersRepository.insert(handle.db, {
    id: developerId,
    email: 'bench@example.test',
    email_normalized: 'bench@example.test',
    // Never used to log in.
    password_hash: 'scrypt$16384$none$none',
    fields: '{}',
    status: 'active',
    created_at: now,
    updated_at: now,
  });
const secret = joinKey ?? newSecret('gh_');
if (seed)
  await keysRepository.insert(
    handle.db,
    {
      id: newId('key'),
      developer_id: developerId,
      catalogue_id: null,
      name: 'bench',
      policy_ids: JSON.stringify([policyId]),
      prefix: secret.slice(0, 7),
      last4: secret.slice(-4),
      hash: sha256Hex(secret),
      status: 'active',
      expires_at: null,
      meta: JSON.stringify({ developer_id: developerId, developer_email: 'bench@example.test' }),
      version: 1,
      created_at: now,
      updated_at: now,
    },
    [policyId],
  );

// --- Optionally many more active keys on the same policy (BENCH_KEYS). ---
const SAMPLE_SIZE = 1_000;
const sample: string[] = [];
let insertMs = 0;
if (seed && keyCount > 1) {
  const started = performance.now();
  const extra = keyCount - 1;
  // Which of the extra keys are checked through the gateway afterwards.
  const every = Math.max(1, Math.floor(extra / SAMPLE_SIZE));
  const BATCH = 500;
  await handle.db.transaction().execute(async (trx) => {
    for (let from = 0; from < extra; from += BATCH) {
      const rows = [];
      const links = [];
      for (let i = from; i < Math.min(extra, from + BATCH); i++) {
        const keySecret = `gh_${randomBytes(30).toString('base64url')}`;
        if (i % every === 0 && sample.length < SAMPLE_SIZE) sample.push(keySecret);
        const id = newId('key');
        rows.push({
          id,
          developer_id: developerId,
          catalogue_id: null,
          name: `bench ${i}`,
          policy_ids: JSON.stringify([policyId]),
          prefix: keySecret.slice(0, 7),
          last4: keySecret.slice(-4),
          hash: createHash('sha256').update(keySecret).digest('hex'),
          status: 'active' as const,
          expires_at: null,
          meta: '{}',
          version: 1,
          created_at: now,
          updated_at: now,
        });
        links.push({ key_id: id, policy_id: policyId });
      }
      await trx.insertInto('keys').values(rows).execute();
      await trx.insertInto('key_policies').values(links).execute();
    }
  });
  insertMs = performance.now() - started;
  // The 100k rows built above are the bench's garbage, not the gateway's: collect them
  // so the memory figures show the gateway (its snapshot load and build included).
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
const memoryBeforeGateway = process.memoryUsage();

// --- The gateway, wired as src/runtime/runtime.ts wires it. ---
const kv = await createKvBackends({
  redisUrl,
  failMode: config.redis_fail_mode,
  logger: logger.child({ part: 'kv' }),
  nodeId,
});
const { bus, counters } = kv;
const analyticsWriter = createAnalyticsWriter({
  db: handle.db,
  databaseUrl: config.database_url,
  nodeId,
  logger: logger.child({ part: 'analytics' }),
});
await analyticsWriter.open();
const analytics = createAnalyticsRecorder({
  writer: analyticsWriter,
  bufferSize: config.analytics_buffer_size,
  flushMs: config.analytics_flush_ms,
  rawRetentionHours: config.analytics_raw_retention_hours,
  logger: logger.child({ part: 'analytics' }),
});
const buildStarted = performance.now();
const gateway = await createGateway({
  config,
  db: handle.db,
  bus,
  counters,
  analytics,
  logger: logger.child({ part: 'gateway' }),
  nodeId,
});
const buildMs = performance.now() - buildStarted;
await gateway.listen(port, config.host);

/** Status of one GET through this gateway with `keySecret`. */
function statusWith(keySecret: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: config.host, port, path: '/bench/hello', headers: { authorization: `Bearer ${keySecret}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

let keysReport: Record<string, unknown> | undefined;
if (keyCount > 1) {
  let ok = 0;
  for (const s of sample) if ((await statusWith(s)) === 200) ok++;
  const wrong = await statusWith(`gh_${randomBytes(30).toString('base64url')}`);
  const mb = (n: number): number => Math.round(n / 104_857.6) / 10;
  const after = process.memoryUsage();
  keysReport = {
    count: keyCount,
    insertMs: Math.round(insertMs),
    snapshotBuildMs: Math.round(buildMs),
    rssBeforeGatewayMb: mb(memoryBeforeGateway.rss),
    heapBeforeGatewayMb: mb(memoryBeforeGateway.heapUsed),
    rssLoadedMb: mb(after.rss),
    heapLoadedMb: mb(after.heapUsed),
    sampled: sample.length,
    sampledOk: ok,
    wrongKeyStatus: wrong,
  };
}

announceReady({ port, key: secret, nodeId, ...(keysReport ? { keys: keysReport } : {}) });
// Shutdown in the runtime's order: stop accepting and drain, flush analytics, close stores.
onStop(async () => {
  await gateway.close();
  await analytics.close();
  process.stdout.write(`STATS ${JSON.stringify(analytics.stats())}\n`);
  await kv.close();
  await handle.close();
});
