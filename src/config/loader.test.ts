import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from './loader.js';
import { DEFAULTS } from './schema.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
const missing = join(dir, 'absent.json');

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration loader', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the defaults when nothing is set', () => {
    assert.deepEqual(loadConfig({ env: {}, argv: [], file: missing }), DEFAULTS);
  });

  it('reads the file, then env over the file, then flags over env', () => {
    const path = file(
      'layers.json',
      JSON.stringify({ gateway_port: 9001, portal_port: 9002, admin_port: 9003, log_level: 'warn' }),
    );
    const env = { GATEHOUSE_PORTAL_PORT: '9102', GATEHOUSE_ADMIN_PORT: '9103', GATEHOUSE_DEMO: 'false' };
    const config = loadConfig({ env, argv: ['--admin-port=9203', '--services', 'gateway,worker'], file: path });
    assert.equal(config.gateway_port, 9001, 'file over defaults');
    assert.equal(config.log_level, 'warn', 'file over defaults');
    assert.equal(config.portal_port, 9102, 'env over file');
    assert.equal(config.demo, false, 'env text coerced to a boolean');
    assert.equal(config.admin_port, 9203, 'flag over env');
    assert.deepEqual(config.services, ['gateway', 'worker'], 'a list flag');
    assert.equal(config.database_url, DEFAULTS.database_url, 'untouched keys keep their default');
  });

  it('takes the file from --config or GATEHOUSE_CONFIG', () => {
    const a = file('a.json', JSON.stringify({ gateway_port: 1111 }));
    const b = file('b.json', JSON.stringify({ gateway_port: 2222 }));
    assert.equal(loadConfig({ env: { GATEHOUSE_CONFIG: a }, argv: [] }).gateway_port, 1111);
    assert.equal(loadConfig({ env: { GATEHOUSE_CONFIG: a }, argv: ['--config', b] }).gateway_port, 2222);
  });

  it('a bare boolean flag means true', () => {
    const config = loadConfig({ env: { GATEHOUSE_TRUST_PROXY: 'false' }, argv: ['--trust-proxy'], file: missing });
    assert.equal(config.trust_proxy, true);
  });

  it('lists every problem from every source at once', () => {
    const path = file('bad.json', JSON.stringify({ database_url: 'mysql://x', colour: 'red' }));
    const problems = problemsOf(() =>
      loadConfig({
        env: { GATEHOUSE_GATEWAY_PORT: 'eighty', GATEHOUSE_DEMO: 'maybe' },
        argv: ['--admin-port=70000', '--no-such-flag=1', '--services=gateway,mail'],
        file: path,
      }),
    );
    const text = problems.join('\n');
    for (const expected of [
      /GATEHOUSE_GATEWAY_PORT: expected a number, got "eighty"/,
      /GATEHOUSE_DEMO: expected true or false, got "maybe"/,
      /--no-such-flag: unknown flag/,
      /^database_url \(GATEHOUSE_DATABASE_URL\)/m,
      /^admin_port \(GATEHOUSE_ADMIN_PORT\)/m,
      /^services \(GATEHOUSE_SERVICES\)/m,
      /colour|additional/i,
    ])
      assert.match(text, expected);
    assert.equal(new Set(problems).size, problems.length, 'each problem once');
  });

  it('reports a file that is not JSON, or not an object', () => {
    assert.match(
      problemsOf(() => loadConfig({ env: {}, file: file('broken.json', '{"x": ') }))[0] ?? '',
      /not valid JSON/,
    );
    assert.match(problemsOf(() => loadConfig({ env: {}, file: file('list.json', '[1]') }))[0] ?? '', /JSON object/);
  });

  it('never prints the value of a secret it refuses', () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: { GATEHOUSE_SECRET: 'short-secret-value', GATEHOUSE_ADMIN_PASSWORD: 'pw' },
        argv: [],
        file: missing,
      }),
    );
    const text = problems.join('\n');
    assert.match(text, /secret \(GATEHOUSE_SECRET\)/);
    assert.match(text, /admin_password \(GATEHOUSE_ADMIN_PASSWORD\)/);
    assert.ok(!text.includes('short-secret-value'));
  });
});
