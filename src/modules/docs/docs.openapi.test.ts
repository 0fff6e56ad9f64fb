import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forGateway, RenderCache, summarise } from './docs.openapi.js';

test('RenderCache: least recently used entries go first, bounded by count and by size', () => {
  const cache = new RenderCache<string>((v) => v.length, 2, 10);
  cache.set('a', 'aaa');
  cache.set('b', 'bbb');
  assert.equal(cache.get('a'), 'aaa'); // a is now the most recent
  cache.set('c', 'ccc');
  assert.equal(cache.get('b'), undefined);
  assert.deepEqual([cache.get('a'), cache.get('c')], ['aaa', 'ccc']);
  cache.set('d', 'dddddddd'); // 3 + 8 > 10 chars: evicts until it fits
  assert.equal(cache.count, 1);
  cache.set('huge', 'x'.repeat(11)); // larger than the whole cache: not kept
  assert.equal(cache.get('huge'), undefined);
});

test('forGateway: servers everywhere replaced, key scheme only when the API needs a key, input untouched', () => {
  const doc = {
    openapi: '3.1.0',
    servers: [{ url: 'https://upstream.internal' }],
    components: { securitySchemes: { oauth: { type: 'oauth2' } }, schemas: { A: { type: 'object' } } },
    paths: {
      '/a': {
        servers: [{ url: 'https://other' }],
        get: { servers: [{ url: 'https://x' }], security: [{ oauth: [] }], responses: {} },
        parameters: [],
      },
    },
    webhooks: { ping: { post: { responses: {} } } },
  };
  const copy = structuredClone(doc);
  const keyed: any = forGateway(doc, [{ url: 'http://gw/a', description: 'gw' }], true);
  assert.deepEqual(keyed.servers, [{ url: 'http://gw/a', description: 'gw' }]);
  assert.equal(keyed.paths['/a'].servers, undefined);
  assert.equal(keyed.paths['/a'].get.servers, undefined);
  assert.equal(keyed.paths['/a'].get.security, undefined);
  assert.deepEqual(keyed.paths['/a'].parameters, []);
  assert.deepEqual(Object.keys(keyed.components.securitySchemes), ['gatehouse_key']);
  assert.deepEqual(keyed.components.schemas, { A: { type: 'object' } });
  assert.deepEqual(keyed.webhooks, doc.webhooks);
  const keyless: any = forGateway(doc, [], false);
  assert.deepEqual(keyless.security, []);
  assert.equal(keyless.components.securitySchemes, undefined);
  assert.deepEqual(doc, copy);
  assert.deepEqual(summarise(doc), { openapi_version: '3.1.0', title: '', operations: 2, paths: 1, webhooks: 1 });
});
