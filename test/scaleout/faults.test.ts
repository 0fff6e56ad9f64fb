import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import {
  adminClient,
  GatewayClient,
  migrateProcess,
  NodeProcess,
  PrivatePostgres,
  PrivateRedis,
  provisionKey,
  rollupHits,
  sleep,
  untilAll,
} from './cluster.harness.js';

/**
 * Faults, on a redis-server and a PostgreSQL of our own (spare ports, temp dirs), so
 * stopping them leaves the machine's shared services alone. One control plane and two
 * gateways: one `fail_open` (the default), one `fail_closed`.
 */
const count = (text: string, needle: string) => text.split(needle).length - 1;

async function until(check: () => Promise<boolean>, ms: number, step = 50): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(step);
  }
  return check();
}

async function json(url: string, token?: string): Promise<{ status: number; body: any }> {
  try {
    const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  } catch {
    return { status: 0, body: null };
  }
}

void describe('scale-out faults (private Redis and PostgreSQL)', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let databaseUrl: string;
  let upstream: Upstream;
  let control: NodeProcess;
  let open: NodeProcess;
  let closed: NodeProcess;
  let admin: Client;
  let adminToken: string;
  let apiId: string;
  let quotaKey: string;
  let freeKey: string;
  const client = new GatewayClient();
  /** Requests known lost with the SIGKILLed node's unflushed buffer. */
  let lostOnKill = 0;

  before(async () => {
    [postgres, redis, upstream] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start(), startUpstream()]);
    databaseUrl = await postgres.createDatabase('gatehouse');
    const migrated = await migrateProcess(databaseUrl);
    assert.equal(migrated.code, 0, migrated.output);
    const common = { databaseUrl, redisUrl: redis.url };
    [control, open, closed] = await Promise.all([
      NodeProcess.start({ ...common, name: 'control', services: 'admin,portal,worker' }),
      NodeProcess.start({
        ...common,
        name: 'open',
        services: 'gateway',
        env: { GATEHOUSE_REDIS_FAIL_MODE: 'fail_open' },
      }),
      NodeProcess.start({
        ...common,
        name: 'closed',
        services: 'gateway',
        env: { GATEHOUSE_REDIS_FAIL_MODE: 'fail_closed' },
      }),
    ]);
    admin = await adminClient(control);
    adminToken = admin.token as string;
    const portal = new Client(control.portalUrl);
    const api = await admin.post('/api/v1/apis', { name: 'Faulty', listen_path: '/f/', target_url: upstream.url });
    apiId = api.body.id;
    quotaKey = (await provisionKey(admin, portal, { apiId, name: 'Quota30', quotaMax: 30, quotaRenewal: 3600 })).secret;
    freeKey = (await provisionKey(admin, portal, { apiId, name: 'Free' })).secret;
    await untilAll(client, [open.gatewayUrl, closed.gatewayUrl], '/f/warm', quotaKey, 200);
    await untilAll(client, [open.gatewayUrl, closed.gatewayUrl], '/f/warm', freeKey, 200);
  });

  after(async () => {
    client.close();
    await Promise.all([control, open, closed].map((n) => n?.stop()));
    await upstream?.close();
    await redis?.down();
    await postgres?.destroy();
  });

  void it('Redis stopped and restarted: fail_open counts per node, fail_closed refuses with 503, both log once and recover', async () => {
    await redis.down();
    // fail_open: served, each node counting the quota on its own (approximate: N nodes may admit N×).
    const openResults = [];
    for (let i = 0; i < 40; i++) openResults.push(await client.request(open.gatewayUrl, `/f/o/${i}`, quotaKey));
    assert.deepEqual([...new Set(openResults.map((r) => r.status))].sort(), [200, 429]);
    assert.equal(
      openResults.filter((r) => r.status === 200).length,
      30,
      'the per-node store enforces the full quota on this node',
    );
    // fail_closed: limited requests are refused with a clear code; unlimited keys still pass.
    const refused = await client.request(closed.gatewayUrl, '/f/c', quotaKey);
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).code, 'LIMITS_UNAVAILABLE');
    assert.equal((await client.request(closed.gatewayUrl, '/f/c', freeKey)).status, 200);
    for (let i = 0; i < 10; i++) await client.request(closed.gatewayUrl, `/f/c/${i}`, quotaKey);
    const ready = await json(`${closed.gatewayUrl}/__gatehouse/ready`);
    assert.equal(ready.body.kv.degraded, true);
    assert.equal(count(open.logText(), 'counted per node in memory'), 1, 'logged once');
    assert.equal(count(closed.logText(), 'refusing limited requests'), 1, 'logged once');

    await redis.up(); // empty: no persistence, so a fresh quota period starts
    const back = Date.now();
    assert.ok(
      await until(
        async () =>
          (await json(`${closed.gatewayUrl}/__gatehouse/ready`)).body?.kv?.degraded === false &&
          (await json(`${open.gatewayUrl}/__gatehouse/ready`)).body?.kv?.degraded === false,
        10_000,
      ),
    );
    const recoveredIn = Date.now() - back;
    assert.ok(recoveredIn < 5_000, `recovered in ${recoveredIn} ms`);
    assert.match(open.logText(), /Redis reachable again/);
    assert.match(closed.logText(), /Redis reachable again/);
    // Shared again: 30 in total across both nodes, from Redis.
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        client.request(i % 2 ? open.gatewayUrl : closed.gatewayUrl, `/f/after/${i}`, quotaKey),
      ),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 30);
    assert.equal(results.filter((r) => r.status === 503).length, 0);
  });

  void it('a gateway killed with SIGKILL loses at most its unflushed buffer, says so on restart, and serves again', async () => {
    const killClient = new GatewayClient();
    // Flushes only on shutdown, so everything it records is "unflushed" until then.
    const victim = await NodeProcess.start({
      databaseUrl,
      redisUrl: redis.url,
      name: 'victim',
      services: 'gateway',
      env: { GATEHOUSE_ANALYTICS_FLUSH_MS: '600000' },
    });
    for (let i = 0; i < 50; i++)
      assert.equal((await killClient.request(victim.gatewayUrl, `/f/k/${i}`, freeKey)).status, 200);
    await sleep(1_500); // one heartbeat
    const before = await rollupHits(databaseUrl);
    await victim.stop('SIGKILL');
    assert.equal(await rollupHits(databaseUrl), before, 'nothing of the victim was written');
    lostOnKill = killClient.sent;
    await victim.restart();
    assert.match(victim.logText(), new RegExp(`stopped without a clean shutdown: about ${killClient.sent} requests`));
    assert.equal((await killClient.request(victim.gatewayUrl, '/f/k/again', freeKey)).status, 200);
    assert.equal(await victim.stop(), 0);
    killClient.close();
    // The restarted node's own request was flushed at its graceful stop.
    assert.equal(await rollupHits(databaseUrl), before + 1);
  });

  void it('PostgreSQL stopped during traffic: gateways keep serving, the control plane answers 503, analytics are kept', async () => {
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      let i = 0;
      while (!stop) {
        const r = await client.request(i % 2 ? open.gatewayUrl : closed.gatewayUrl, `/f/pg/${i++}`, freeKey);
        statuses.push(r.status);
        await sleep(5);
      }
    })();
    await sleep(300);
    await postgres.down();
    const down = statuses.length;
    await sleep(300);
    const apis = await json(`${control.adminUrl}/api/v1/apis`, adminToken);
    assert.equal(apis.status, 503);
    assert.equal(apis.body.error.code, 'SERVICE_UNAVAILABLE');
    assert.equal((await json(`${control.adminUrl}/__gatehouse/ready`)).status, 503);
    assert.equal((await json(`${open.gatewayUrl}/__gatehouse/ready`)).status, 200);
    await sleep(2_000);
    const during = statuses.length - down;
    await postgres.up();
    assert.ok(
      await until(async () => (await json(`${control.adminUrl}/api/v1/apis`, adminToken)).status === 200, 10_000),
      'control plane back',
    );
    stop = true;
    await traffic;
    assert.ok(during > 50, `${during} requests while the database was down`);
    assert.deepEqual([...new Set(statuses)], [200], 'every request was served');

    // Graceful stops flush what was buffered during the outage: every request is counted.
    assert.deepEqual(await Promise.all([open.stop(), closed.stop()]), [0, 0]);
    const total = await rollupHits(databaseUrl);
    // What reached the database: every request of the long-lived nodes plus the victim's
    // one after its restart; only the victim's unflushed buffer at the SIGKILL is missing.
    assert.equal(total, client.sent + 1, `lost on kill: ${lostOnKill}`);
  });
});
