import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '../helpers/system.js';

/**
 * The command line as a user runs it: `gatehouse start` (what `npm start` runs) on an
 * empty database seeds the demo and prints the first admin's generated password once;
 * `--services=` starts a subset; `gatehouse migrate` and `gatehouse admin create`
 * work on their own; a bad configuration lists every problem and exits 1. Each run is
 * a real child process on real ports over a fresh SQLite file.
 */

const MAIN = join(process.cwd(), 'src', 'main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_')) env[k] = v;
  return {
    ...env,
    GATEHOUSE_CONFIG: join(dir, 'no-such-config.json'),
    GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_HOST: '127.0.0.1',
    GATEHOUSE_GATEWAY_PORT: '0',
    GATEHOUSE_PORTAL_PORT: '0',
    GATEHOUSE_ADMIN_PORT: '0',
    GATEHOUSE_SAMPLE_UPSTREAM_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'info',
    ...extra,
  };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command to its end. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

interface Started {
  child: ChildProcess;
  output: () => string;
  urls: { gateway?: string; portal?: string; admin?: string };
  stop(): Promise<number | null>;
}

/** Starts `gatehouse start` and waits for the lines that give the surfaces' URLs. */
async function start(args: string[], env: NodeJS.ProcessEnv, expect: ('gateway' | 'portal' | 'admin')[]) {
  const child = spawnCli(['start', ...args], env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const label = { gateway: 'Gateway', portal: 'Developer portal', admin: 'Admin dashboard' } as const;
  const urlOf = (name: keyof typeof label) => new RegExp(`^${label[name]}: (http://\\S+)$`, 'm').exec(out)?.[1];
  const until = Date.now() + 30_000;
  while (!expect.every((name) => urlOf(name))) {
    if (child.exitCode !== null) throw new Error(`gatehouse exited ${child.exitCode}: ${err}${out}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`gatehouse did not start in time: ${err}${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const started: Started = {
    child,
    output: () => out,
    urls: { gateway: urlOf('gateway'), portal: urlOf('portal'), admin: urlOf('admin') },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return started;
}

describe('the gatehouse command line', () => {
  const dirs: string[] = [];
  const running: Started[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dir);
    return dir;
  };

  after(async () => {
    for (const r of running) await r.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a bad configuration lists every problem and exits 1 without starting', async () => {
    const dir = tempDir();
    const result = await run(
      ['start', '--gateway-port=eighty', '--no-such-flag=1'],
      cleanEnv(dir, { GATEHOUSE_DEMO: 'maybe', GATEHOUSE_DATABASE_URL: 'mysql://nope' }),
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid configuration/);
    assert.match(result.stderr, /--gateway-port: expected a number, got "eighty"/);
    assert.match(result.stderr, /--no-such-flag: unknown flag/);
    assert.match(result.stderr, /GATEHOUSE_DEMO: expected true or false, got "maybe"/);
    assert.match(result.stderr, /database_url \(GATEHOUSE_DATABASE_URL\)/);
    assert.ok(!existsSync(join(dir, 'gatehouse.db')), 'nothing was created');
  });

  test('migrate applies the migrations once; admin create adds an admin who can log in', async () => {
    const dir = tempDir();
    const env = cleanEnv(dir);
    const first = await run(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^applied: \S+/);
    const again = await run(['migrate'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /database is up to date/);

    const created = await run(
      ['admin', 'create', '--email=ops@example.com', '--password=ops-password-1', '--role=viewer'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created viewer ops@example\.com \(adm_/);
    assert.ok(!created.stdout.includes('ops-password-1'));
    const duplicate = await run(['admin', 'create', '--email=OPS@example.com', '--password=other-password-1'], env);
    assert.equal(duplicate.code, 1);
    const missing = await run(['admin', 'create', '--email=x@example.com'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /needs --email and --password/);

    const system = await start(['--services=admin', '--demo=false'], env, ['admin']);
    running.push(system);
    const login = await new Client(system.urls.admin!).post('/api/v1/auth/tokens', {
      email: 'ops@example.com',
      password: 'ops-password-1',
    });
    assert.equal(login.status, 201);
    const viewer = new Client(system.urls.admin!, login.body.token);
    assert.equal((await viewer.get('/api/v1/apis')).status, 200);
    assert.equal((await viewer.post('/api/v1/apis', { name: 'x' })).status, 403, 'the role given on the command line');
    assert.equal(await system.stop(), 0, 'a clean stop on SIGTERM');
  });

  test('start on an empty database seeds the demo, prints a generated password once, and serves it all', async () => {
    const dir = tempDir();
    const env = cleanEnv(dir);
    const system = await start([], env, ['gateway', 'portal', 'admin']);
    running.push(system);
    const password = /Generated password \(shown once\): (\S+)/.exec(system.output())?.[1];
    assert.ok(password, 'a generated password is printed');
    assert.match(system.output(), /First admin created: admin@gatehouse\.local/);
    assert.equal(system.output().split(password).length - 1, 1, 'printed exactly once, and never logged');

    // The admin logs in with it; the demo is there.
    const anonymous = new Client(system.urls.admin!);
    const login = await anonymous.post('/api/v1/auth/tokens', { email: 'admin@gatehouse.local', password });
    assert.equal(login.status, 201);
    const admin = anonymous.withToken(login.body.token);
    const apis = await admin.get('/api/v1/apis');
    assert.deepEqual(
      apis.body.data.map((a: any) => a.listen_path),
      ['/petstore/'],
    );
    const dashboard = await fetch(`${system.urls.admin}/`, { redirect: 'manual' });
    assert.equal(dashboard.status, 302, 'the dashboard asks to sign in');

    // The README's developer workflow: sign up, log in, request a key, call the sample API.
    const portal = new Client(system.urls.portal!);
    assert.equal((await fetch(`${system.urls.portal}/`)).status, 200);
    const signUp = await portal.post('/api/v1/developers', {
      email: 'dev@example.com',
      password: 'a-long-password',
      fields: { name: 'Dev' },
    });
    assert.equal(signUp.status, 201, JSON.stringify(signUp.body));
    const token = (await portal.post('/api/v1/auth/tokens', { email: 'dev@example.com', password: 'a-long-password' }))
      .body.token;
    const entries = (await portal.get('/api/v1/catalogue')).body.data;
    assert.equal(entries.length, 1);
    const request = await portal
      .withToken(token)
      .post('/api/v1/key-requests', { catalogue_id: entries[0].id, key_name: 'laptop' });
    assert.equal(request.status, 201, JSON.stringify(request.body));
    assert.equal(request.body.status, 'approved');
    const res = await fetch(`${system.urls.gateway}/petstore/pets`, {
      headers: { 'x-api-key': request.body.key.secret },
    });
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(await res.json()));
    const health = await fetch(`${system.urls.gateway}/__gatehouse/health`);
    assert.equal(health.status, 200);
    assert.ok(!system.output().includes(request.body.key.secret), 'the key secret is not logged');
    assert.equal(await system.stop(), 0);

    // A second start on the same database neither creates an admin nor seeds again.
    const restarted = await start([], env, ['gateway', 'portal', 'admin']);
    running.push(restarted);
    assert.doesNotMatch(restarted.output(), /Generated password|First admin created/);
    const relogin = await new Client(restarted.urls.admin!).post('/api/v1/auth/tokens', {
      email: 'admin@gatehouse.local',
      password,
    });
    assert.equal(relogin.status, 201);
    const again = await new Client(restarted.urls.admin!, relogin.body.token).get('/api/v1/apis');
    assert.equal(again.body.data.length, 1, 'the demo is seeded once');
    assert.equal(await restarted.stop(), 0);

    // --services=gateway starts the gateway only, serving from the same database.
    const gatewayOnly = await start(['--services=gateway'], env, ['gateway']);
    running.push(gatewayOnly);
    assert.equal(gatewayOnly.urls.portal, undefined);
    assert.equal(gatewayOnly.urls.admin, undefined);
    const key = await fetch(`${gatewayOnly.urls.gateway}/petstore/pets`);
    assert.equal(key.status, 401, 'the gateway routes the demo API and asks for a key');
    assert.equal(((await key.json()) as { code: string }).code, 'KEY_MISSING');
    assert.equal(await gatewayOnly.stop(), 0);
  });
});
