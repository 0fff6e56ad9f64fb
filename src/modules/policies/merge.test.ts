import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePolicies } from './merge.js';
import type { Policy } from './policies.table.js';

function policy(overrides: Partial<Policy>): Policy {
  return {
    id: 'pol_x',
    name: 'x',
    rate: 10,
    per: 1,
    quotaMax: 100,
    quotaRenewalRate: 3600,
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

void describe('mergePolicies', () => {
  void it('takes the best rate ratio, and unlimited wins', () => {
    const a = policy({ id: 'a', rate: 10, per: 1 });
    const b = policy({ id: 'b', rate: 100, per: 60 });
    const c = policy({ id: 'c', rate: 50, per: 5 });
    assert.deepEqual([mergePolicies([a, b]).rate, mergePolicies([a, b]).per], [10, 1]);
    assert.deepEqual(
      [mergePolicies([a, c]).rate, mergePolicies([a, c]).per],
      [50, 5],
      'tie on ratio keeps the larger burst',
    );
    assert.equal(mergePolicies([a, policy({ id: 'u', rate: 0 })]).rate, 0);
    assert.equal(mergePolicies([a, policy({ id: 'u', rate: -1 })]).per, 0);
  });

  void it('takes the highest quota, and unlimited wins', () => {
    const a = policy({ id: 'a', quotaMax: 100, quotaRenewalRate: 60 });
    const b = policy({ id: 'b', quotaMax: 1000, quotaRenewalRate: 86400 });
    const m = mergePolicies([a, b]);
    assert.deepEqual([m.quotaMax, m.quotaRenewalRate], [1000, 86400]);
    const u = mergePolicies([a, policy({ id: 'u', quotaMax: -1 })]);
    assert.deepEqual([u.quotaMax, u.quotaRenewalRate], [0, 0]);
  });

  void it('key lifetime: longest, never wins', () => {
    assert.equal(mergePolicies([policy({ keyExpiresIn: 60 }), policy({ keyExpiresIn: 3600 })]).keyExpiresIn, 3600);
    assert.equal(mergePolicies([policy({ keyExpiresIn: 60 }), policy({ keyExpiresIn: 0 })]).keyExpiresIn, 0);
  });

  void it('unions access rights; no allowed_urls means everything', () => {
    const a = policy({
      id: 'a',
      accessRights: [
        { apiId: 'api1', allowedUrls: [{ path: '/pets', methods: ['GET'] }] },
        { apiId: 'api2', allowedUrls: [{ path: '/x', methods: ['GET'] }] },
      ],
    });
    const b = policy({
      id: 'b',
      accessRights: [
        {
          apiId: 'api1',
          allowedUrls: [
            { path: '/pets', methods: ['post'] },
            { path: '/stores', methods: [] },
          ],
        },
        { apiId: 'api2', allowedUrls: [] },
        { apiId: 'api3', allowedUrls: [] },
      ],
    });
    const m = mergePolicies([a, b]);
    assert.deepEqual(m.accessRights, [
      {
        apiId: 'api1',
        allowedUrls: [
          { path: '/pets', methods: ['GET', 'POST'] },
          { path: '/stores', methods: [] },
        ],
      },
      { apiId: 'api2', allowedUrls: [] },
      { apiId: 'api3', allowedUrls: [] },
    ]);
  });

  void it('an empty method list on one side means any method', () => {
    const a = policy({ accessRights: [{ apiId: 'api1', allowedUrls: [{ path: '/p', methods: ['GET'] }] }] });
    const b = policy({ accessRights: [{ apiId: 'api1', allowedUrls: [{ path: '/p', methods: [] }] }] });
    assert.deepEqual(mergePolicies([a, b]).accessRights[0]!.allowedUrls, [{ path: '/p', methods: [] }]);
    assert.deepEqual(mergePolicies([b, a]).accessRights[0]!.allowedUrls, [{ path: '/p', methods: [] }]);
  });

  void it('ignores inactive policies', () => {
    const a = policy({ id: 'a', rate: 1, per: 1, accessRights: [{ apiId: 'api1', allowedUrls: [] }] });
    const b = policy({ id: 'b', rate: 0, active: false, accessRights: [{ apiId: 'api2', allowedUrls: [] }] });
    const m = mergePolicies([a, b]);
    assert.deepEqual(m.policyIds, ['a']);
    assert.equal(m.rate, 1);
    assert.deepEqual(
      m.accessRights.map((r) => r.apiId),
      ['api1'],
    );
    assert.deepEqual(mergePolicies([b]).accessRights, []);
  });
});
