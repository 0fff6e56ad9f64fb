#!/usr/bin/env node
// Runs the browser tests (test/browser/*.test.ts) with node:test through tsx. They drive
// Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH) with playwright-core and save
// screenshots under test-artifacts/ (git-ignored). One file at a time: each starts the
// whole product and a browser, which is plenty for two cores.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = 'test/browser';
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = (
  only.length
    ? only
    : readdirSync(dir)
        .filter((n) => n.endsWith('.test.ts'))
        .map((n) => join(dir, n))
).sort();
if (files.length === 0) {
  console.error('no browser test files found');
  process.exit(1);
}
mkdirSync('test-artifacts', { recursive: true });
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
