#!/usr/bin/env node
// Runs the multi-process scale-out suite (test/scaleout): several `gatehouse start`
// processes on PostgreSQL + Redis, plus fault tests on a private redis-server and
// PostgreSQL. Not part of `npm test` (it spawns processes and takes about a minute or two).
// Needs PostgreSQL at TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
// Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379), and redis-server + the
// PostgreSQL server binaries (/usr/lib/postgresql/*/bin) on this machine.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = 'test/scaleout';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => join(dir, f));
if (files.length === 0) {
  console.error('no scale-out test files found');
  process.exit(1);
}
// One file at a time: each starts several processes and the machine has few cores.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
