import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createHttpApp } from '../../platform/http/index.js';
import { registerDeveloperApi, type PortalServices } from './api.js';

export interface PortalAppOptions {
  services: PortalServices;
  logger: Logger;
  bodyLimit: number;
  trustProxy: boolean;
  /** Signs session cookies (HTML portal). */
  secret: string;
}

/** The developer portal surface: HTML at / and the developer JSON API at /api/v1. */
export async function createPortalApp(options: PortalAppOptions): Promise<FastifyInstance> {
  const app = createHttpApp({ logger: options.logger, bodyLimit: options.bodyLimit, trustProxy: options.trustProxy });
  app.decorateRequest('developer', null);
  await app.register(async (api) => registerDeveloperApi(api, options.services), { prefix: '/api/v1' });
  app.get('/__gatehouse/health', async () => ({ status: 'ok' }));
  return app;
}
