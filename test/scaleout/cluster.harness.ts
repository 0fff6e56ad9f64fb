/**
 * Multi-process scale-out harness: real `gatehouse start` processes (spawned exactly
 * as an operator would run them) on PostgreSQL + Redis, and, for fault tests, a
 * private redis-server and PostgreSQL instance on spare ports that can be stopped
 * without touching the machine's shared services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { ADMIN, Client } from '../helpers/system.js';
import { closedPort } from '../helpers/upstream.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NodeOptions {
  name: string;
  services: string;
  databaseUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
  /** Reuse ports / data dir (a restarted node is the same node). */
  gatewayPort?: number;
  adminPort?: number;
  portalPort?: number;
  dataDir?: string;
}

/** One `gatehouse start` process. */
export class NodeProcess {
  readonly logs: string[] = [];
  child!: ChildProcess;
  exited: Promise<number | null> = Promise.resolve(null);

  private constructor(readonly options: Required<Omit<NodeOptions, 'env'>> & { env: Record<string, string> }) {}

  static async start(options: NodeOptions): Promise<NodeProcess> {
    const node = new NodeProcess({
      env: {},
      gatewayPort: options.gatewayPort ?? (await closedPort()),
      adminPort: options.adminPort ?? (await closedPort()),
      portalPort: options.portalPort ?? (await closedPort()),
      dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), `gatehouse-${options.name}-`)),
      ...options,
    });
    node.spawn();
    await node.waitHealthy();
    return node;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.options.gatewayPort}`;
  }
  get adminUrl(): string {
    return `http://127.0.0.1:${this.options.adminPort}`;
  }
  get portalUrl(): string {
    return `http://127.0.0.1:${this.options.portalPort}`;
  }

  private spawn(): void {
    const o = this.options;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', `--services=${o.services}`], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        GATEHOUSE_DATABASE_URL: o.databaseUrl,
        GATEHOUSE_REDIS_URL: o.redisUrl,
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_GATEWAY_PORT: String(o.gatewayPort),
        GATEHOUSE_ADMIN_PORT: String(o.adminPort),
        GATEHOUSE_PORTAL_PORT: String(o.portalPort),
        GATEHOUSE_DATA_DIR: o.dataDir,
        GATEHOUSE_AUTO_MIGRATE: 'false',
        GATEHOUSE_DEMO: 'false',
        GATEHOUSE_SECRET: 's'.repeat(40),
        GATEHOUSE_ADMIN_EMAIL: ADMIN.email,
        GATEHOUSE_ADMIN_PASSWORD: ADMIN.password,
        GATEHOUSE_ANALYTICS_FLUSH_MS: '200',
        GATEHOUSE_LOG_LEVEL: 'info',
        GATEHOUSE_CONFIG: join(o.dataDir, 'none.json'),
        ...o.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => void this.logs.push(chunk.toString());
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  private async waitHealthy(ms = 40_000): Promise<void> {
    const services = this.options.services.split(',');
    const url = services.includes('gateway')
      ? this.gatewayUrl
      : services.includes('admin')
        ? this.adminUrl
        : this.portalUrl;
    const until = Date.now() + ms;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => (exitCode = c));
    while (Date.now() < until) {
      if (exitCode !== undefined) throw new Error(`${this.options.name} exited with ${exitCode}:\n${this.logText()}`);
      try {
        const res = await fetch(`${url}/__gatehouse/health`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.options.name} did not become healthy:\n${this.logText()}`);
  }

  logText(): string {
    return this.logs.join('');
  }

  /** Graceful stop (drain + final flush); resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    return this.exited;
  }

  /** The same node again: same ports, same data dir. */
  async restart(): Promise<void> {
    this.logs.length = 0;
    this.spawn();
    await this.waitHealthy();
  }
}

/** A keep-alive HTTP client for the gateways that counts every request it sends (for the analytics check). */
export class GatewayClient {
  sent = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  request(
    base: string,
    path: string,
    secret?: string,
  ): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; sentAt: number; receivedAt: number }> {
    this.sent++;
    const sentAt = Date.now();
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${base}${path}`,
        { agent: this.agent, headers: secret ? { authorization: `Bearer ${secret}` } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              headers: res.headers,
              sentAt,
              receivedAt: Date.now(),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Logs in to the admin API of a control-plane node. */
export async function adminClient(node: NodeProcess): Promise<Client> {
  const admin = new Client(node.adminUrl);
  const login = await admin.post<{ token: string }>('/api/v1/auth/tokens', ADMIN);
  if (login.status !== 201) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return admin.withToken(login.body.token);
}

/** An API, a policy and a developer with one key on it; returns the key id and secret. */
export async function provisionKey(
  admin: Client,
  portal: Client,
  input: { apiId: string; name: string; rate?: number; per?: number; quotaMax?: number; quotaRenewal?: number },
): Promise<{ keyId: string; secret: string; policyId: string }> {
  const policy = await admin.post('/api/v1/policies', {
    name: input.name,
    rate: input.rate ?? 0,
    per: input.per ?? 1,
    quota_max: input.quotaMax ?? 0,
    quota_renewal_rate: input.quotaRenewal ?? 3600,
    access_rights: [{ api_id: input.apiId }],
  });
  if (policy.status !== 201) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
  const email = `${input.name.toLowerCase().replace(/[^a-z0-9]/g, '')}-${randomBytes(3).toString('hex')}@example.com`;
  const dev = await portal.post('/api/v1/developers', { email, password: 'dev-password-1', fields: { name: 'Dev' } });
  if (dev.status !== 201) throw new Error(`developer: ${dev.status} ${JSON.stringify(dev.body)}`);
  const developerId =
    (dev.body as { id?: string; developer?: { id: string } }).id ??
    (dev.body as { developer: { id: string } }).developer.id;
  const key = await admin.post('/api/v1/keys', {
    developer_id: developerId,
    name: input.name,
    policy_ids: [policy.body.id],
  });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${JSON.stringify(key.body)}`);
  return { keyId: key.body.id, secret: key.body.secret, policyId: policy.body.id };
}

/** Waits until every gateway answers `want` for the key (the change reached every node). */
export async function untilAll(
  client: GatewayClient,
  gateways: string[],
  path: string,
  secret: string,
  want: number,
  ms = 5_000,
): Promise<void> {
  const until = Date.now() + ms;
  for (const g of gateways) {
    for (;;) {
      const r = await client.request(g, path, secret);
      if (r.status === want) break;
      if (Date.now() > until) throw new Error(`${g}${path}: ${r.status} ${r.body}, wanted ${want}`);
      await sleep(50);
    }
  }
}

/** Total hits in the minute rollups: every node's flushes, added up. */
export async function rollupHits(databaseUrl: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const r = await c.query<{ hits: string | null }>(
      `select sum(hits) as hits from analytics_rollups where resolution = 'minute'`,
    );
    return Number(r.rows[0]?.hits ?? 0);
  } finally {
    await c.end();
  }
}

/** Runs `gatehouse migrate` (the explicit step of a scaled-out deployment). */
export function migrateProcess(databaseUrl: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'migrate'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_CONFIG: '/nonexistent.json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

// ── Private services for fault tests ───────────────────────────────────────────────

/** A redis-server of our own on a spare port, no persistence (a restart loses every counter). */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await closedPort());
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      if (
        spawnSync('redis-cli', ['-p', String(this.port), 'ping'])
          .stdout?.toString()
          .trim() === 'PONG'
      )
        return;
      await sleep(50);
    }
    throw new Error('private redis-server did not start');
  }

  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }
}

function pgBin(name: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  const v = versions[versions.length - 1];
  if (!v) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${v}/bin/${name}`;
}

function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null; // not root: run as ourselves
  const id = spawnSync('id', ['-u', 'postgres']).stdout?.toString().trim();
  const gid = spawnSync('id', ['-g', 'postgres']).stdout?.toString().trim();
  if (!id || !gid) throw new Error('running as root needs a "postgres" user for initdb');
  return { uid: Number(id), gid: Number(gid) };
}

/** A PostgreSQL instance of our own (initdb into a temp dir), on a spare port. */
export class PrivatePostgres {
  private child: ChildProcess | null = null;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | null,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
    const user = postgresUser();
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'sock'));
    if (user) {
      for (const d of [dir, join(dir, 'data'), join(dir, 'sock')]) chownSync(d, user.uid, user.gid);
    }
    const init = spawnSync(
      pgBin('initdb'),
      ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'],
      {
        ...(user ?? {}),
        encoding: 'utf8',
      },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const p = new PrivatePostgres(dir, await closedPort(), user);
    await p.up();
    return p;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async up(): Promise<void> {
    this.child = spawn(
      pgBin('postgres'),
      [
        '-D',
        join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-k',
        join(this.dir, 'sock'),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=100',
      ],
      { ...(this.user ?? {}), stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      try {
        const c = new pg.Client({ connectionString: this.url() });
        await c.connect();
        await c.end();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('private postgres did not start');
  }

  /** Fast shutdown (SIGINT): clients are disconnected at once. */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    this.child = null;
  }

  async createDatabase(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
    return this.url(name);
  }

  async destroy(): Promise<void> {
    await this.down();
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
