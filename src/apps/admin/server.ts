import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import { createHttpApp } from '../../platform/http/index.js';
import { bearerToken, type AdminServices } from './context.js';
import { registerAdminRoutes } from './routes/resources.js';
import { registerAnalyticsRoutes } from './routes/analytics.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerPageRoutes } from './routes/pages.js';
import { registerWebhookRoutes } from './routes/webhooks.js';
import { registerAdminUi } from './ui/index.js';
import { docsUploader } from './ui/docs-upload.js';
import { createLoginThrottle } from '../../modules/login-throttle/index.js';

export interface AdminAppOptions {
  services: AdminServices;
  logger: Logger;
  bodyLimit: number;
  trustProxy: boolean;
  version: string;
  /** Signs the dashboard's session cookie and CSRF tokens. */
  secret: string;
  sessionTtlHours: number;
  /** Where the dashboard's "test call" sends requests (null: no gateway known). */
  gatewayUrl: string | null;
}

/** The admin surface: REST API under /api/v1 with its OpenAPI 3.1 document. */
export async function createAdminApp(options: AdminAppOptions): Promise<FastifyInstance> {
  const app = createHttpApp({ logger: options.logger, bodyLimit: options.bodyLimit, trustProxy: options.trustProxy });
  const { services } = options;

  app.decorateRequest('admin', null);
  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    request.admin = token ? await services.admins.fromToken(token) : null;
  });
  const throttle = createLoginThrottle({ db: services.ctx.db, clock: services.ctx.clock });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse admin API',
        version: options.version,
        description: 'Manage APIs, policies, the catalogue, developers, key requests and keys.',
      },
      servers: [{ url: '/api/v1' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  await app.register(
    async (api) => {
      registerAdminRoutes(api, services, throttle);
      registerAnalyticsRoutes(api, services);
      await registerDocsRoutes(api, services.docs);
      registerPageRoutes(api, services.ctx);
      registerWebhookRoutes(api, services);
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );

  await app.register(async (ui) =>
    registerAdminUi(ui, {
      services,
      secret: options.secret,
      sessionTtlHours: options.sessionTtlHours,
      throttle,
      gatewayUrl: options.gatewayUrl,
      importDocs: docsUploader(services.docs),
    }),
  );

  app.get('/__gatehouse/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  return app;
}
