import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Api } from '../../modules/apis/index.js';
import type { KeysTable } from '../../modules/keys/index.js';
import type { Policy } from '../../modules/policies/index.js';
import { compileAllowedPath, compileSnapshot, listenPrefix, matchRoute, type SnapshotSource } from './snapshot.js';

function api(id: string, listenPath: string, overrides: Partial<Api> = {}): Api {
  return {
    id,
    name: id,
    slug: id,
    listenPath,
    targetUrl: 'http://127.0.0.1:9/base/',
    stripListenPath: true,
    auth: 'key',
    keyQueryParam: null,
    rate: 0,
    per: 1,
    upstreamTimeoutMs: 0,
    active: true,
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

function policy(id: string, overrides: Partial<Policy>): Policy {
  return {
    id,
    name: id,
    rate: 0,
    per: 0,
    quotaMax: 0,
    quotaRenewalRate: 0,
    keyExpiresIn: 0,
    accessRights: [],
    active: true,
    tags: [],
    version: 1,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

function keyRow(id: string, hash: string, policyIds: string[], overrides: Partial<KeysTable> = {}): KeysTable {
  return {
    id,
    developer_id: 'dev_1',
    catalogue_id: null,
    name: id,
    policy_ids: JSON.stringify(policyIds),
    prefix: null,
    last4: null,
    hash,
    previous_hash: null,
    previous_hash_expires_at: null,
    status: 'active',
    expires_at: null,
    last_used_at: null,
    meta: '{}',
    version: 1,
    created_at: 0,
    updated_at: 0,
    ...overrides,
  };
}

const options = { defaultTimeoutMs: 30_000 };

void describe('compiled snapshot', () => {
  const source: SnapshotSource = {
    apis: [
      api('a', '/petstore/'),
      api('b', '/petstore/v2/', { rate: 5, per: 10, upstreamTimeoutMs: 250 }),
      api('c', '/off/', { active: false }),
      api('root', '/', { auth: 'keyless' }),
    ],
    policies: [
      policy('p1', {
        rate: 10,
        per: 2,
        quotaMax: 100,
        quotaRenewalRate: 3600,
        accessRights: [
          { apiId: 'a', allowedUrls: [] },
          { apiId: 'b', allowedUrls: [{ path: '/pets', methods: ['GET'] }] },
        ],
      }),
      policy('p2', { accessRights: [{ apiId: 'c', allowedUrls: [] }] }),
    ],
    keys: [
      keyRow('k1', 'h1', ['p1', 'p2'], { previous_hash: 'old', previous_hash_expires_at: 5_000 }),
      keyRow('k2', 'h2', ['p1'], { previous_hash: 'gone', previous_hash_expires_at: 500 }),
    ],
    inactiveDeveloperIds: [],
  };
  const snapshot = compileSnapshot(source, 7, 1_000, options);

  void it('routes the longest listen path on segment boundaries, and the root last', () => {
    assert.equal(matchRoute(snapshot, '/petstore')?.api.id, 'a');
    assert.equal(matchRoute(snapshot, '/petstore/')?.api.id, 'a');
    assert.equal(matchRoute(snapshot, '/petstore/v2')?.api.id, 'b');
    assert.equal(matchRoute(snapshot, '/petstore/v2/pets/1')?.api.id, 'b');
    assert.equal(matchRoute(snapshot, '/petstore/v3/pets')?.api.id, 'a');
    assert.equal(matchRoute(snapshot, '/petstorex')?.api.id, 'root');
    assert.equal(matchRoute(snapshot, '/off/x')?.api.id, 'root', 'inactive APIs are not routed');
    assert.equal(matchRoute(snapshot, `/${'x/'.repeat(5000)}`)?.api.id, 'root');
    const noRoot = compileSnapshot({ ...source, apis: source.apis.slice(0, 2) }, 1, 0, options);
    assert.equal(matchRoute(noRoot, '/elsewhere'), null);
  });

  void it('pre-computes upstream, timeouts and API-wide limits per route', () => {
    const b = matchRoute(snapshot, '/petstore/v2')!;
    assert.equal(b.origin, 'http://127.0.0.1:9');
    assert.equal(b.basePath, '/base');
    assert.equal(b.timeoutMs, 250);
    assert.deepEqual(b.keylessRates, [{ key: 'rl:a:b', limit: 5, windowMs: 10_000 }]);
    assert.equal(matchRoute(snapshot, '/petstore')!.timeoutMs, 30_000);
    assert.deepEqual([...snapshot.origins], ['http://127.0.0.1:9']);
  });

  void it('compiles grants: rights of routed APIs only, counters per key id, previous hashes until their grace ends', () => {
    const k1 = snapshot.keys.get('h1')!;
    assert.equal(k1.validUntil, Infinity);
    assert.deepEqual([...k1.grant.rights.keys()].sort(), ['a', 'b'], 'the inactive API c grants nothing');
    // p2 has no rate or quota, and unlimited wins the merge.
    assert.deepEqual(k1.grant.rights.get('a')!.rates, []);
    assert.equal(k1.grant.rights.get('a')!.quota, null);
    assert.deepEqual(
      k1.grant.rights.get('b')!.rates.map((r) => r.key),
      ['rl:a:b'],
    );
    const k2 = snapshot.keys.get('h2')!;
    const onA = k2.grant.rights.get('a')!;
    assert.equal(onA.rules, null);
    assert.deepEqual(onA.rates, [{ key: 'rl:k:k2', limit: 10, windowMs: 2000 }]);
    assert.deepEqual(onA.quota, { key: 'q:k:k2', max: 100, periodMs: 3_600_000 });
    const onB = k2.grant.rights.get('b')!;
    assert.deepEqual(
      onB.rates.map((r) => r.key),
      ['rl:k:k2', 'rl:a:b'],
    );
    assert.equal(onB.rules!.length, 1);
    assert.equal(snapshot.keys.get('old')!.validUntil, 5_000);
    assert.equal(snapshot.keys.get('old')!.grant, k1.grant);
    assert.equal(snapshot.keys.get('gone'), undefined, 'an expired grace is not loaded');
    assert.equal(snapshot.keys.get('h2')!.grant.quotaPeriodSeconds, 3600);
  });

  void it('anchors allowed_urls patterns on the path after the listen path', () => {
    assert.ok(compileAllowedPath('/pets').test('/pets'));
    assert.ok(!compileAllowedPath('/pets').test('/pets/1'));
    assert.ok(compileAllowedPath('^/pets/\\d+$').test('/pets/12'));
    assert.ok(compileAllowedPath('pets/.*').test('/pets/x'));
    assert.ok(compileAllowedPath('(/a|/b)').test('/b'));
    assert.ok(!compileAllowedPath('/a').test('/x/a'));
  });

  void it('normalises listen paths to prefixes', () => {
    assert.equal(listenPrefix('/petstore/'), '/petstore');
    assert.equal(listenPrefix('/'), '');
    assert.equal(listenPrefix('/a/b'), '/a/b');
  });
});
