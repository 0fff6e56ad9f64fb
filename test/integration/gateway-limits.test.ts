import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keyLimitsState, keysRepository, resetKeyQuota } from '../../src/modules/keys/index.js';
import { mergePolicies, policyFromRow } from '../../src/modules/policies/index.js';
import { newSecret, sha256Hex } from '../../src/shared/crypto.js';
import { dialects } from '../helpers/db.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { errorBody, Harness, sleep, type Response } from './gateway.harness.js';

/** True when no rolling window of `windowMs` holds more than `limit` of the times. */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

function codeOf(res: Response): string | null {
  return res.status === 200 ? null : errorBody(res).code;
}

for (const dialect of dialects()) {
  void describe(`gateway rate limits and quotas on ${dialect}`, () => {
    let h: Harness;
    let up: Upstream;
    let api: { id: string };

    before(async () => {
      h = await Harness.start(dialect);
      up = await startUpstream();
      api = await h.createApi({ listen_path: '/limited/', target_url: up.url });
      await h.changed('apis');
    });

    after(async () => {
      await h.close();
      await up.close();
    });

    void it('rate 10 per 2 s: a burst admits exactly 10, spread load never admits an 11th in any rolling 2 s, and clients recover', async () => {
      const policy = await h.createPolicy([{ apiId: api.id }], { rate: 10, per: 2 });
      const k = await h.createKey([policy.id]);
      await h.changed();
      const seenBefore = up.requests.length;

      const burst = await Promise.all(Array.from({ length: 30 }, () => h.callWithKey('/limited/burst', k.secret)));
      assert.equal(burst.filter((r) => r.status === 200).length, 10);
      const refused = burst.filter((r) => r.status === 429);
      assert.equal(refused.length, 20);
      for (const r of refused) {
        assert.equal(codeOf(r), 'RATE_LIMITED');
        assert.equal(r.headers['x-ratelimit-limit'], '10');
        assert.equal(r.headers['x-ratelimit-remaining'], '0');
        const retry = Number(r.headers['retry-after']);
        assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 2, `Retry-After ${retry}`);
        assert.ok(Number.isInteger(Number(r.headers['x-ratelimit-reset'])));
      }

      // Recovery: once the window has moved, the client is admitted again.
      await sleep(Number(refused[0]!.headers['retry-after']) * 1000 + 50);
      assert.equal((await h.callWithKey('/limited/recovered', k.secret)).status, 200);

      // Spread load: one request every 30 ms for 3 s, without waiting for answers.
      const spread: Promise<Response>[] = [];
      for (let i = 0; i < 100; i++) {
        spread.push(h.callWithKey('/limited/spread', k.secret));
        await sleep(30);
      }
      const results = await Promise.all(spread);
      assert.ok(results.some((r) => r.status === 200) && results.some((r) => r.status === 429));
      for (const r of results) assert.ok(r.status === 200 || codeOf(r) === 'RATE_LIMITED');
      await sleep(20);

      // The admitted requests as the gateway decided them (analytics `at` is the decision time).
      const admitted = h.records.filter((r) => r.keyId === k.row.id && r.status === 200).map((r) => r.at);
      assert.equal(
        admitted.length,
        up.requests.length - seenBefore,
        'every admitted request reached the upstream, and nothing else',
      );
      assert.ok(
        maxInAnyWindow(admitted, 2000) <= 10,
        `at most 10 in any 2 s window, saw ${maxInAnyWindow(admitted, 2000)}`,
      );
      // And as the upstream saw them (a little later; the bound still holds in practice on loopback).
      assert.ok(admitted.length >= 25, `admitted ${admitted.length}`);
    });

    void it('shows the rate limit on every proxied response', async () => {
      const policy = await h.createPolicy([{ apiId: api.id }], { rate: 5, per: 10 });
      const k = await h.createKey([policy.id]);
      await h.changed();
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await h.callWithKey('/limited/x', k.secret);
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-ratelimit-limit'], '5');
        assert.equal(r.headers['x-ratelimit-reset'], '10');
        assert.equal(r.headers['x-quota-limit'], undefined, 'no quota headers without a quota');
        remaining.push(String(r.headers['x-ratelimit-remaining']));
      }
      assert.deepEqual(remaining, ['4', '3', '2']);
    });

    void it('quota 5 admits exactly 5 of 50 concurrent requests, and renews', async () => {
      const policy = await h.createPolicy([{ apiId: api.id }], { quota_max: 5, quota_renewal_rate: 1 });
      const k = await h.createKey([policy.id]);
      await h.changed();
      const first = await Promise.all(Array.from({ length: 50 }, () => h.callWithKey('/limited/q', k.secret)));
      const ok = first.filter((r) => r.status === 200);
      assert.equal(ok.length, 5);
      for (const r of ok) {
        assert.equal(r.headers['x-quota-limit'], '5');
        assert.equal(r.headers['x-quota-reset'], '1');
      }
      assert.deepEqual(ok.map((r) => r.headers['x-quota-remaining']).sort(), ['0', '1', '2', '3', '4']);
      for (const r of first.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 429);
        assert.equal(codeOf(r), 'QUOTA_EXCEEDED');
        assert.equal(r.headers['retry-after'], '1', 'seconds to renewal');
        assert.equal(r.headers['x-quota-remaining'], '0');
      }
      await sleep(1100);
      const second = await Promise.all(Array.from({ length: 20 }, () => h.callWithKey('/limited/q', k.secret)));
      assert.equal(second.filter((r) => r.status === 200).length, 5, 'a new period after renewal');
    });

    void it('a request refused by the quota gives back its rate allowance; quota reset and peek work on the same counters', async () => {
      const row = await h.createPolicy([{ apiId: api.id }], { rate: 3, per: 60, quota_max: 2, quota_renewal_rate: 60 });
      const k = await h.createKey([row.id]);
      await h.changed();
      assert.equal((await h.callWithKey('/limited/a', k.secret)).status, 200);
      assert.equal((await h.callWithKey('/limited/a', k.secret)).status, 200);
      const refused = await Promise.all(Array.from({ length: 5 }, () => h.callWithKey('/limited/a', k.secret)));
      assert.deepEqual(
        refused.map(codeOf),
        Array(5).fill('QUOTA_EXCEEDED'),
        'quota refusals do not use up the rate limit',
      );
      assert.equal(refused[0]!.headers['x-ratelimit-remaining'], '1');
      const retry = Number(refused[0]!.headers['retry-after']);
      assert.ok(retry >= 59 && retry <= 60);

      const merged = mergePolicies([policyFromRow(row)]);
      const state = await keyLimitsState(h.counters, { keyId: k.row.id, merged });
      assert.equal(state.rate?.remaining, 1);
      assert.equal(state.quota?.used, 2);
      assert.equal(state.quota?.remaining, 0);

      await resetKeyQuota(h.counters, k.row.id);
      assert.equal((await h.callWithKey('/limited/a', k.secret)).status, 200);
      const limited = await h.callWithKey('/limited/a', k.secret);
      assert.equal(codeOf(limited), 'RATE_LIMITED');
      assert.equal(limited.headers['x-quota-remaining'], '1', 'the rate refusal did not use quota either');
    });

    void it('usage follows the key id, so rolling the secret keeps it', async () => {
      const policy = await h.createPolicy([{ apiId: api.id }], { quota_max: 2, quota_renewal_rate: 60 });
      const k = await h.createKey([policy.id]);
      await h.changed();
      assert.equal((await h.callWithKey('/limited/r', k.secret)).status, 200);
      const rolled = newSecret('gh_');
      const current = (await keysRepository.findById(h.db.db, k.row.id))!;
      await keysRepository.update(h.db.db, k.row.id, current.version, { hash: sha256Hex(rolled) });
      await h.changed();
      const r = await h.callWithKey('/limited/r', rolled);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-quota-remaining'], '0');
      assert.equal(codeOf(await h.callWithKey('/limited/r', rolled)), 'QUOTA_EXCEEDED');
    });

    void it('enforces an API-wide limit across keys and on keyless APIs', async () => {
      const shared = await h.createApi({ listen_path: '/shared/', target_url: up.url, rate: 3, per: 60 });
      const open = await h.createApi({
        listen_path: '/open-limited/',
        target_url: up.url,
        auth: 'keyless',
        rate: 2,
        per: 60,
      });
      const policy = await h.createPolicy([{ apiId: shared.id }]);
      const a = await h.createKey([policy.id]);
      const b = await h.createKey([policy.id]);
      await h.changed('apis');
      const results = [
        await h.callWithKey('/shared/x', a.secret),
        await h.callWithKey('/shared/x', b.secret),
        await h.callWithKey('/shared/x', a.secret),
        await h.callWithKey('/shared/x', b.secret),
      ];
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 200, 429],
      );
      assert.equal(codeOf(results[3]!), 'RATE_LIMITED');
      assert.equal(results[3]!.headers['x-ratelimit-limit'], '3');
      assert.ok(Number(results[3]!.headers['retry-after']) >= 59);
      assert.equal(open.id.startsWith('api_'), true);
      const keyless = [await h.call('/open-limited/'), await h.call('/open-limited/'), await h.call('/open-limited/')];
      assert.deepEqual(
        keyless.map((r) => r.status),
        [200, 200, 429],
      );
      assert.equal(keyless[0]!.headers['x-ratelimit-limit'], '2');
      assert.equal(keyless[1]!.headers['x-ratelimit-remaining'], '0');
    });
  });
}
