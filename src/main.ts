#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/index.js';
import { createAdminsService } from './modules/admins/index.js';
import type { Database } from './modules/database.js';
import { MemoryChangeBus } from './platform/kv/change-bus.js';
import { migrateToLatest, openDatabase } from './platform/db/index.js';
import { createLogger } from './platform/logging/logger.js';
import { systemClock } from './shared/time.js';
import { startGatehouse, VERSION } from './runtime/runtime.js';

const USAGE = `gatehouse ${VERSION}

Usage:
  gatehouse start [--services=gateway,admin,portal,worker] [--<config-key>=<value> ...]
  gatehouse migrate
  gatehouse admin create --email=<email> --password=<password> [--role=owner|admin|viewer]
  gatehouse help

Configuration: defaults < gatehouse.config.json < GATEHOUSE_* env < flags (see README).`;

function takeFlag(argv: string[], name: string): { value: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === `--${name}`) value = argv[++i];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
    else rest.push(arg);
  }
  return { value, rest };
}

function loadOrExit(argv: string[]) {
  try {
    return loadConfig({ argv });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const [command = 'help', ...args] = process.argv.slice(2);
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'start') {
    const config = loadOrExit(args);
    const logger = createLogger(config.log_level);
    const running = await startGatehouse(config, logger);
    logger.info(
      {
        services: config.services,
        gateway: running.ports.gateway || undefined,
        portal: running.ports.portal || undefined,
        admin: running.ports.admin || undefined,
      },
      'gatehouse started',
    );
    if (running.ports.portal) process.stdout.write(`Developer portal: ${running.urls.portal}\n`);
    if (running.ports.admin) process.stdout.write(`Admin dashboard: ${running.urls.admin}\n`);
    if (running.ports.gateway) process.stdout.write(`Gateway: ${running.urls.gateway}\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    return;
  }
  if (command === 'migrate') {
    const config = loadOrExit(args);
    const handle = openDatabase<Database>(config.database_url);
    const applied = await migrateToLatest(handle.db);
    await handle.close();
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    return;
  }
  if (command === 'admin' && args[0] === 'create') {
    const email = takeFlag(args.slice(1), 'email');
    const password = takeFlag(email.rest, 'password');
    const role = takeFlag(password.rest, 'role');
    if (!email.value || !password.value) {
      process.stderr.write('admin create needs --email and --password\n');
      process.exit(1);
    }
    const config = loadOrExit(role.rest);
    const handle = openDatabase<Database>(config.database_url);
    await migrateToLatest(handle.db);
    const admins = createAdminsService({
      db: handle.db,
      bus: new MemoryChangeBus(),
      clock: systemClock,
      keyRollGraceSeconds: 0,
      sessionTtlHours: config.session_ttl_hours,
    });
    const r = role.value ?? 'admin';
    if (r !== 'owner' && r !== 'admin' && r !== 'viewer') {
      process.stderr.write('--role must be owner, admin or viewer\n');
      process.exit(1);
    }
    const created = await admins.create(
      { type: 'system', id: null },
      { email: email.value, password: password.value, role: r },
    );
    await handle.close();
    process.stdout.write(`created ${created.role} ${created.email} (${created.id})\n`);
    return;
  }
  process.stderr.write(`unknown command: ${command}\n\n${USAGE}\n`);
  process.exit(1);
}

main().catch((error: unknown) => {
  const e = error as { code?: string; message?: string };
  process.stderr.write(`gatehouse: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(error)}\n`);
  process.exit(1);
});
