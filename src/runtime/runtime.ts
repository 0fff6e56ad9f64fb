import { hostname } from 'node:os';
import { sql } from 'kysely';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { createAdminApp } from '../apps/admin/index.js';
import { createGateway, type Gateway } from '../apps/gateway/index.js';
import { createPortalApp, keyRequestMailListener, themeRootsFor } from '../apps/portal/index.js';
import { createAdminsService } from '../modules/admins/index.js';
import {
  createAnalyticsRecorder,
  createAnalyticsWriter,
  type AnalyticsRecorder,
  type AnalyticsWriter,
} from '../modules/analytics/index.js';
import { createApisService } from '../modules/apis/index.js';
import { createCatalogueService } from '../modules/catalogue/index.js';
import { createPagesService, createSettingsService, initMeta } from '../modules/content/index.js';
import type { ModuleContext } from '../modules/context.js';
import type { Database } from '../modules/database.js';
import { createAccountTokensService, createDevelopersService } from '../modules/developers/index.js';
import { createDocsService, createWorkerImporter } from '../modules/docs/index.js';
import { createKeyRequestsService } from '../modules/key-requests/index.js';
import { createKeyLimitsService, createKeysService, createUsageService } from '../modules/keys/index.js';
import { createPoliciesService } from '../modules/policies/index.js';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../platform/db/index.js';
import { createKvBackends, type ChangeBus, type CounterStore, type KvBackends } from '../platform/kv/index.js';
import type { Logger } from '../platform/logging/logger.js';
import {
  addOperationsRoutes,
  instrumentCounters,
  instrumentSink,
  Metrics,
  startNodeState,
  type ReadinessReport,
} from '../platform/metrics/index.js';
import { createMailer } from '../platform/mail/index.js';
import { PROJECT_ROOT } from '../platform/http/index.js';
import { randomToken } from '../shared/crypto.js';
import { systemClock } from '../shared/time.js';
import { seedDemo } from './demo-seed.js';
import { createNotifications } from './notifications.js';
import { createSampleUpstream } from './sample-upstream.js';

export const VERSION = '0.1.0';

export interface RunningGatehouse {
  config: Config;
  /** Bound ports (0 when the surface is not running). */
  ports: { gateway: number; portal: number; admin: number; sampleUpstream: number };
  urls: { gateway: string; portal: string; admin: string };
  database: DatabaseHandle<Database>;
  bus: ChangeBus;
  counters: CounterStore;
  analytics: AnalyticsRecorder;
  gateway: Gateway | null;
  /** Shuts down in order: stop accepting, drain, flush analytics, close stores. */
  close(): Promise<void>;
}

function listenFastify(app: FastifyInstance, port: number, host: string): Promise<number> {
  return app.listen({ port, host }).then(() => (app.server.address() as AddressInfo).port);
}

function listenServer(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function displayHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/**
 * The composition root: builds every service once and starts the surfaces listed in
 * `config.services` in one process (DESIGN §2).
 */
export async function startGatehouse(config: Config, logger: Logger): Promise<RunningGatehouse> {
  const database = openDatabase<Database>(config.database_url);
  const closers: (() => Promise<void>)[] = [];
  let kv: KvBackends | null = null;
  let writer: AnalyticsWriter | null = null;
  try {
    if (config.auto_migrate) {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    }
    const now = systemClock.now();
    const secret = config.secret ?? (await initMeta(database.db, 'secret', randomToken(48), now));
    const nodeId = `${hostname()}-${process.pid}`;
    const shared = await createKvBackends({
      redisUrl: config.redis_url,
      failMode: config.redis_fail_mode,
      logger: logger.child({ part: 'kv' }),
      nodeId,
    });
    kv = shared;
    const { bus, counters } = shared;
    const analyticsLogger = logger.child({ part: 'analytics' });
    const wants = (name: Config['services'][number]) => config.services.includes(name);
    writer = createAnalyticsWriter({
      db: database.db,
      databaseUrl: config.database_url,
      nodeId,
      logger: analyticsLogger,
    });
    // Only gateways record requests: boot their writer before they serve, so the thread's
    // start does not compete with the first requests (other nodes open it on first use).
    if (wants('gateway')) await writer.open();
    const analytics = createAnalyticsRecorder({
      writer,
      bufferSize: config.analytics_buffer_size,
      flushMs: config.analytics_flush_ms,
      rawRetentionHours: config.analytics_raw_retention_hours,
      logger: analyticsLogger,
    });

    // Operations: one metrics registry per process, read by `/metrics` on every surface.
    const metrics = new Metrics();
    metrics.gauge(
      'gatehouse_analytics_buffered_records',
      'Raw analytics records waiting to be written',
      () => analytics.stats().buffered,
    );
    metrics.gauge(
      'gatehouse_analytics_unflushed_requests',
      'Requests aggregated in memory, not yet written to the rollups',
      () => analytics.stats().pending,
    );
    metrics.gauge(
      'gatehouse_analytics_dropped_records',
      'Raw analytics records dropped since start (buffer full)',
      () => analytics.stats().dropped,
    );
    metrics.gauge(
      'gatehouse_analytics_dropped_requests',
      'Requests not counted in analytics since start',
      () => analytics.stats().droppedHits,
    );
    metrics.gauge(
      'gatehouse_analytics_flush_failures',
      'Consecutive failed analytics flushes (0 when the database answers)',
      () => analytics.stats().failures,
    );
    metrics.gauge(
      'gatehouse_kv_degraded',
      '1 while Redis is unreachable and the counters run in their fail mode',
      () => (shared.status().degraded ? 1 : 0),
    );
    // A heartbeat file per node identity (services + gateway port) so a restart can report a crash.
    const ports = config.services.includes('gateway') ? `-g${config.gateway_port}` : '';
    const nodeState = startNodeState({
      file: join(config.data_dir, 'nodes', `${[...config.services].sort().join('-')}${ports}.json`),
      logger: logger.child({ part: 'node' }),
      read: () => ({ unflushed: analytics.stats().pending, buffered: analytics.stats().buffered }),
    });
    const pingDatabase = async (): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
      });
      const ping = sql`select 1`.execute(database.db).then(
        () => true,
        () => false,
      );
      const ok = await Promise.race([ping, timeout]);
      clearTimeout(timer);
      return ok;
    };
    const readiness = async (): Promise<ReadinessReport> => {
      const dbOk = await pingDatabase();
      return { ready: dbOk, database: dbOk ? 'ok' : 'unreachable', kv: shared.status() };
    };

    const host = displayHost(config.host);
    let sampleUpstreamPort = 0;
    if (config.demo && (wants('worker') || wants('admin'))) {
      const upstream = createSampleUpstream();
      sampleUpstreamPort = await listenServer(upstream, config.sample_upstream_port, '127.0.0.1');
      closers.push(() => new Promise((resolve) => upstream.close(() => resolve())));
    }

    let gateway: Gateway | null = null;
    let gatewayPort = 0;
    if (wants('gateway')) {
      const snapshotOf = (): number => gateway?.snapshotVersion() ?? 0;
      metrics.gauge(
        'gatehouse_snapshot_version',
        'Version of the gateway snapshot in use (rebuilds since start)',
        snapshotOf,
      );
      gateway = await createGateway({
        config,
        db: database.db,
        bus,
        counters: instrumentCounters(counters, metrics),
        analytics: instrumentSink(analytics, metrics),
        logger: logger.child({ part: 'gateway' }),
        nodeId,
        // The gateway serves from its snapshot without the database, so its readiness does not ping it.
        ops: { readiness: () => ({ kv: shared.status() }), metrics: () => metrics.exposition() },
      });
      gatewayPort = await gateway.listen(config.gateway_port, config.host);
    }
    const publicGatewayUrl = config.public_gateway_url ?? `http://${host}:${gatewayPort || config.gateway_port}`;

    const ctx: ModuleContext = {
      db: database.db,
      bus,
      clock: systemClock,
      keyRollGraceSeconds: config.key_roll_grace_seconds,
    };
    const session = { ...ctx, sessionTtlHours: config.session_ttl_hours };
    const keyLimits = createKeyLimitsService({ db: database.db, counters, clock: systemClock });
    const notifications = createNotifications({ config, db: database.db, clock: systemClock, logger, keyLimits });
    const keys = createKeysService(ctx, notifications.events);
    // Spec imports run in a worker thread with a heap limit and a deadline (modules/docs).
    const docsImporter = createWorkerImporter();
    closers.push(() => docsImporter.close());
    const services = {
      ctx,
      admins: createAdminsService(session),
      apis: createApisService(ctx),
      policies: createPoliciesService(ctx),
      catalogue: createCatalogueService({ ...ctx, publicGatewayUrl }),
      docs: createDocsService({ ...ctx, importer: docsImporter, maxBytes: config.docs_max_bytes }),
      developers: createDevelopersService(session, notifications.events),
      keyRequests: createKeyRequestsService(ctx, notifications.keyRequestEvents),
      keys,
      settings: createSettingsService(ctx),
      keyLimits,
      usage: createUsageService({ db: database.db, clock: systemClock, keyLimits }),
      webhooks: notifications.webhooks,
    };
    // Portal email (issue 4): templates from the active theme; decisions on key requests mailed to the developer.
    let portalPort = 0;
    const publicPortalUrl = () => config.public_portal_url ?? `http://${host}:${portalPort || config.portal_port}`;
    const themesDir = join(PROJECT_ROOT, 'themes');
    const mailer = createMailer({
      smtpUrl: config.smtp_url,
      from: config.mail_from,
      logger: logger.child({ part: 'mail' }),
      themeRoots: async () => themeRootsFor(themesDir, (await services.settings.get()).theme),
    });
    closers.push(async () => mailer.close());
    notifications.events.subscribe(
      keyRequestMailListener({
        mailer,
        developers: services.developers,
        catalogue: services.catalogue,
        settings: services.settings,
        publicPortalUrl,
        logger: logger.child({ part: 'mail' }),
      }),
    );
    if (wants('worker')) {
      notifications.startWorker();
      closers.push(() => notifications.close());
    }

    if (wants('admin') || wants('worker')) {
      const first = await services.admins.ensureFirstOwner(config.admin_email, config.admin_password);
      if (first.created && first.generatedPassword) {
        // Printed once, on purpose, to the console only (not through the logger).
        process.stdout.write(
          `\nFirst admin created: ${first.email}\nGenerated password (shown once): ${first.generatedPassword}\n\n`,
        );
      } else if (first.created) logger.info({ email: first.email }, 'first admin created');
      if (
        config.demo &&
        sampleUpstreamPort > 0 &&
        (await seedDemo(services, `http://127.0.0.1:${sampleUpstreamPort}`))
      ) {
        logger.info('demo data seeded (sample API at /petstore/)');
      }
    }

    const bodyLimit = config.body_limit_bytes;
    let adminPort = 0;
    if (wants('admin')) {
      const admin = await createAdminApp({
        services,
        logger: logger.child({ part: 'admin' }),
        bodyLimit,
        trustProxy: config.trust_proxy,
        version: VERSION,
        secret,
        sessionTtlHours: config.session_ttl_hours,
        gatewayUrl: gatewayPort > 0 || config.public_gateway_url ? publicGatewayUrl : null,
      });
      addOperationsRoutes(admin, 'admin', metrics, readiness);
      adminPort = await listenFastify(admin, config.admin_port, config.host);
      closers.push(() => admin.close());
    }
    if (wants('portal')) {
      const web = {
        settings: services.settings,
        pages: createPagesService(ctx),
        docs: services.docs,
        accountTokens: createAccountTokensService(ctx),
        keyLimits,
        usage: services.usage,
        counters,
        bus,
        mailer,
        publicGatewayUrl,
        publicPortalUrl,
        sessionTtlHours: config.session_ttl_hours,
        themesDir,
      };
      const portal = await createPortalApp({
        services,
        logger: logger.child({ part: 'portal' }),
        bodyLimit,
        trustProxy: config.trust_proxy,
        secret,
        web,
      });
      addOperationsRoutes(portal, 'portal', metrics, readiness);
      portalPort = await listenFastify(portal, config.portal_port, config.host);
      closers.push(() => portal.close());
    }

    let closed = false;
    return {
      config,
      ports: { gateway: gatewayPort, portal: portalPort, admin: adminPort, sampleUpstream: sampleUpstreamPort },
      urls: {
        gateway: `http://${host}:${gatewayPort}`,
        portal: `http://${host}:${portalPort}`,
        admin: `http://${host}:${adminPort}`,
      },
      database,
      bus,
      counters,
      analytics,
      gateway,
      async close() {
        if (closed) return;
        closed = true;
        // Declared order: stop taking traffic and drain, then flush buffers, then close stores.
        if (gateway) await gateway.close();
        for (const close of closers.reverse()) await close().catch(() => undefined);
        const flushed = await analytics.close().then(
          () => true,
          (error: unknown) => {
            logger.error({ err: error, unflushed: analytics.stats().pending }, 'final analytics flush failed');
            return false;
          },
        );
        // Only a node whose last flush went through counts as a clean stop.
        if (flushed) nodeState.close();
        await shared.close();
        await database.close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await writer?.close();
    await kv?.close();
    await database.close();
    throw error;
  }
}
