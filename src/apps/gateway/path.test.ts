import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisePath, originForm, takeQueryParam } from './path.js';

void describe('normalisePath', () => {
  void it('returns clean paths unchanged', () => {
    for (const p of ['/', '/petstore', '/petstore/', '/a/b.c/d~e_f-g', '/a/%E2%82%AC'])
      assert.equal(normalisePath(p), p);
  });

  void it('removes dot segments without escaping the root', () => {
    assert.equal(normalisePath('/a/../b'), '/b');
    assert.equal(normalisePath('/a/./b/'), '/a/b/');
    assert.equal(normalisePath('/../../etc/passwd'), '/etc/passwd');
    assert.equal(normalisePath('/a/b/..'), '/a/');
    assert.equal(normalisePath('/a/..'), '/');
    assert.equal(normalisePath('/petstore/..'), '/');
  });

  void it('decodes encoded dots and unreserved characters before removing dot segments', () => {
    assert.equal(normalisePath('/petstore/%2e%2e/admin'), '/admin');
    assert.equal(normalisePath('/petstore/%2E./admin'), '/admin');
    assert.equal(normalisePath('/%70etstore'), '/petstore');
    assert.equal(normalisePath('/a%20b/%c3%a9'), '/a%20b/%C3%A9');
  });

  void it('collapses empty segments', () => {
    assert.equal(normalisePath('//petstore//pets'), '/petstore/pets');
  });

  void it('refuses what cannot be normalised safely', () => {
    for (const p of ['petstore', '/a%2fb', '/a%2F..%2Fb', '/a%5cb', '/a\\..\\b', '/a%zz', '/a%2', '/a%00'])
      assert.equal(normalisePath(p), null, p);
  });
});

void describe('originForm', () => {
  void it('takes the path of absolute-form targets', () => {
    assert.equal(originForm('/x?y'), '/x?y');
    assert.equal(originForm('http://h:1/x?y'), '/x?y');
    assert.equal(originForm('https://h'), '/');
    assert.equal(originForm('http://h?q=1'), '/?q=1');
    assert.equal(originForm('*'), null);
  });
});

void describe('takeQueryParam', () => {
  void it('extracts and removes the parameter', () => {
    assert.deepEqual(takeQueryParam('a=1&api_key=gh_x&b=2', 'api_key'), { value: 'gh_x', rest: 'a=1&b=2' });
    assert.deepEqual(takeQueryParam('api_key=gh%5Fx', 'api_key'), { value: 'gh_x', rest: '' });
    assert.deepEqual(takeQueryParam('api_key=a&api_key=b&c', 'api_key'), { value: 'a', rest: 'c' });
    assert.equal(takeQueryParam('a=1', 'api_key'), null);
    assert.equal(takeQueryParam('', 'api_key'), null);
  });
});
