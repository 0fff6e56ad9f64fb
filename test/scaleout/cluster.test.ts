import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { migrationNames } from '../../src/platform/db/index.js';
import { createTestDatabase, POSTGRES_ADMIN_URL, type TestDatabase } from '../helpers/db.js';
import { Client } from '../helpers/system.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import {
  adminClient,
  GatewayClient,
  migrateProcess,
  NodeProcess,
  provisionKey,
  rollupHits,
  sleep,
  untilAll,
} from './cluster.harness.js';

/**
 * Three gateway processes and one control-plane process on PostgreSQL + Redis (the
 * shared ones, with a key prefix of our own), with concurrent traffic through all
 * three gateways.
 */
const REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * True when the admits certainly put more than `limit` hits in some window of
 * `windowMs`: each admit happened somewhere in [sentAt, receivedAt], so `limit + 1`
 * admits whose whole span (first send → last receipt) is shorter than the window are
 * a proven violation, whatever the network jitter.
 */
function provenViolation(
  admits: { sentAt: number; receivedAt: number }[],
  limit: number,
  windowMs: number,
): string | null {
  const bySent = [...admits].sort((a, b) => a.sentAt - b.sentAt);
  for (let i = 0; i < bySent.length; i++) {
    const start = (bySent[i] as { sentAt: number }).sentAt;
    // Admits sent at or after `start`, earliest receipts first: the tightest set of limit+1.
    const receipts = bySent
      .slice(i)
      .map((a) => a.receivedAt)
      .sort((a, b) => a - b);
    if (receipts.length > limit && (receipts[limit] as number) - start < windowMs) {
      return `${limit + 1} admits between ${start} and ${receipts[limit]}`;
    }
  }
  return null;
}

void describe('scale-out: 3 gateways + control plane on PostgreSQL + Redis', () => {
  let db: TestDatabase;
  let upstream: Upstream;
  let control: NodeProcess;
  const gateways: NodeProcess[] = [];
  let admin: Client;
  let portal: Client;
  let apiId: string;
  const client = new GatewayClient();
  const redisUrl = `${REDIS}/0?key_prefix=ghscale-${randomBytes(4).toString('hex')}:`;
  const g = () => gateways.map((n) => n.gatewayUrl);

  before(async () => {
    db = await createTestDatabase('postgres');
    await db.close();
    upstream = await startUpstream();
    const common = { databaseUrl: db.url, redisUrl };
    // All four start at once, as a deployment would.
    const started = await Promise.all([
      NodeProcess.start({ ...common, name: 'control', services: 'admin,portal,worker' }),
      ...[1, 2, 3].map((i) => NodeProcess.start({ ...common, name: `gw${i}`, services: 'gateway' })),
    ]);
    control = started[0];
    gateways.push(...started.slice(1));
    admin = await adminClient(control);
    portal = new Client(control.portalUrl);
    const api = await admin.post('/api/v1/apis', { name: 'Scaled', listen_path: '/scaled/', target_url: upstream.url });
    assert.equal(api.status, 201, JSON.stringify(api.body));
    apiId = api.body.id;
  });

  after(async () => {
    client.close();
    await Promise.all([control, ...gateways].map((n) => n?.stop()));
    await upstream?.close();
    await db?.destroy();
  });

  void it('a quota of 100 admits exactly 100 across the three gateways', async () => {
    const { secret } = await provisionKey(admin, portal, { apiId, name: 'Quota', quotaMax: 100, quotaRenewal: 3600 });
    // Keys appear on every node through the change bus; the wait itself costs no quota (404→200 only once routed).
    await untilAll(client, g(), '/scaled/warm', secret, 200);
    const already = 3;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => client.request(g()[i % 3] as string, `/scaled/q/${i}`, secret)),
    );
    const ok = results.filter((r) => r.status === 200).length;
    const refused = results.filter((r) => r.status === 429 && r.body.includes('QUOTA_EXCEEDED')).length;
    assert.equal(ok + already, 100, `admitted ${ok} + ${already} while warming`);
    assert.equal(refused, 300 - ok);
    const last = results.find((r) => r.status === 429);
    assert.equal(last?.headers['x-quota-remaining'], '0');
    assert.ok(Number(last?.headers['retry-after']) > 3500);
  });

  void it('a rate of 20 per 2 s never admits more than 20 in any rolling 2 s window across the nodes', async (t) => {
    const { secret } = await provisionKey(admin, portal, { apiId, name: 'Rate', rate: 20, per: 2 });
    await untilAll(client, g(), '/scaled/warm', secret, 200);
    await sleep(2_100); // the warm-up hits leave the window
    const admits: { sentAt: number; receivedAt: number }[] = [];
    const upstreamBefore = upstream.requests.length;
    const started = Date.now();
    const durationMs = 5_000;
    let refused = 0;
    // Six loops, two per gateway, each sending as fast as answers come back.
    await Promise.all(
      Array.from({ length: 6 }, async (_, loop) => {
        const base = g()[loop % 3] as string;
        let i = 0;
        while (Date.now() - started < durationMs) {
          const r = await client.request(base, `/scaled/r/${loop}/${i++}`, secret);
          if (r.status === 200) admits.push(r);
          else if (r.status === 429) refused++;
          else assert.fail(`unexpected ${r.status} ${r.body}`);
        }
      }),
    );
    const elapsed = Date.now() - started;
    assert.equal(provenViolation(admits, 20, 2_000), null);
    // The upstream's arrival times, on one clock: arrival = admit + proxy latency, so
    // a span shorter than 2 s is only jitter if it is short by a few ms. Reported, and
    // bounded loosely (a busy 2-core machine delays a proxied request by tens of ms).
    const arrivals = upstream.requests
      .slice(upstreamBefore)
      .filter((r) => r.url.startsWith('/r/'))
      .map((r) => r.at)
      .sort((a, b) => a - b);
    let tightest = Infinity;
    for (let i = 0; i + 20 < arrivals.length; i++)
      tightest = Math.min(tightest, (arrivals[i + 20] as number) - (arrivals[i] as number));
    t.diagnostic(`tightest span of 21 upstream arrivals: ${tightest} ms (admits ${admits.length}, refused ${refused})`);
    assert.ok(tightest >= 2_000 - 250, `21 arrivals within ${tightest} ms`);
    // And the limit is used, not starved: about 20 per started 2 s.
    const windows = Math.ceil(elapsed / 2_000);
    assert.ok(admits.length <= 20 * windows, `${admits.length} admits in ${elapsed} ms`);
    assert.ok(admits.length >= 20 * (windows - 1), `${admits.length} admits in ${elapsed} ms`);
    assert.ok(refused > 100, `refused ${refused}`);
  });

  void it('a key revoked on the control plane is refused by every gateway within one second', async () => {
    const { keyId, secret } = await provisionKey(admin, portal, { apiId, name: 'Revoke' });
    await untilAll(client, g(), '/scaled/warm', secret, 200);
    const revoked = await admin.delete(`/api/v1/keys/${keyId}`);
    assert.ok(revoked.status === 200 || revoked.status === 204, JSON.stringify(revoked.body));
    const at = Date.now();
    const took = await Promise.all(
      g().map(async (base) => {
        for (;;) {
          const r = await client.request(base, '/scaled/after', secret);
          if (r.status === 403) return Date.now() - at;
          if (Date.now() - at > 3_000) return Infinity;
          await sleep(10);
        }
      }),
    );
    for (const ms of took) assert.ok(ms <= 1_000, `refused after ${ms} ms`);
  });

  void it('analytics from every node add up to the requests sent, nothing double-counted', async () => {
    // Graceful stop: each gateway drains and flushes its last batch.
    const codes = await Promise.all(gateways.map((n) => n.stop()));
    assert.deepEqual(codes, [0, 0, 0]);
    assert.equal(await rollupHits(db.url), client.sent);
    // Each node wrote its own raw request log: the records add up too.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const r = await c.query<{ nodes: string; total: string }>(
      'select count(distinct node_id) as nodes, sum(count) as total from analytics_record_chunks',
    );
    await c.end();
    assert.equal(Number(r.rows[0]?.nodes), 3);
    assert.equal(Number(r.rows[0]?.total), client.sent);
  });
});

void describe('scale-out: gatehouse migrate on several nodes at once', () => {
  void it('three concurrent `gatehouse migrate` runs apply every migration exactly once', async () => {
    const name = `gh_mig_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const adminDb = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await adminDb.connect();
    await adminDb.query(`CREATE DATABASE ${name}`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    try {
      const runs = await Promise.all([1, 2, 3].map(() => migrateProcess(url.toString())));
      for (const run of runs) assert.equal(run.code, 0, run.output);
      const applied = runs.filter((r) => r.output.startsWith('applied:')).length;
      assert.equal(applied, 1, runs.map((r) => r.output).join('\n'));
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      const rows = await c.query<{ name: string }>('select name from kysely_migration order by name');
      await c.end();
      assert.deepEqual(
        rows.rows.map((r) => r.name),
        migrationNames(),
      );
    } finally {
      await adminDb.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminDb.end();
    }
  });
});
