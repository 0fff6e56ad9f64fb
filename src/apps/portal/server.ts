import { join } from 'node:path';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PagesService, SettingsService } from '../../modules/content/index.js';
import type { AccountTokensService } from '../../modules/developers/index.js';
import type { DocsService } from '../../modules/docs/index.js';
import type { KeyLimitsService, UsageService } from '../../modules/keys/index.js';
import {
  createHttpApp,
  PROJECT_ROOT,
  readSessionCookie,
  registerAssets,
  registerWeb,
  type WebOptions,
} from '../../platform/http/index.js';
import type { ChangeBus, CounterStore } from '../../platform/kv/index.js';
import type { Mailer } from '../../platform/mail/index.js';
import { isAppError } from '../../shared/errors.js';
import { registerDeveloperApi, type PortalServices } from './api.js';
import { registerDocsPages } from './docs-pages.js';
import { registerAuthPages } from './pages/auth.js';
import { registerCataloguePages } from './pages/catalogue.js';
import { registerCmsPages } from './pages/cms.js';
import { registerDashboardPages } from './pages/dashboard.js';
import type { PortalPageDeps } from './pages/deps.js';
import { registerKeyPages } from './pages/keys.js';
import { registerProfilePages } from './pages/profile.js';
import { createLoginThrottle, DEFAULT_PORTAL_LOGIN_LIMITS, type LoginLimits } from './pages/throttle.js';
import { createPortalViews } from './pages/view.js';

/** What the HTML portal needs beyond the developer API's services. */
export interface PortalWebOptions {
  settings: SettingsService;
  pages: PagesService;
  /** API documentation (issue 5): the docs pages and the developer API's documentation route. */
  docs: DocsService;
  accountTokens: AccountTokensService;
  keyLimits: KeyLimitsService;
  usage: UsageService;
  counters: CounterStore;
  bus: ChangeBus;
  mailer: Mailer;
  /** What the portal shows developers as the gateway's address (curl commands, docs). */
  publicGatewayUrl: string;
  /** Base URL of the portal for links in emails. */
  publicPortalUrl: () => string;
  sessionTtlHours: number;
  /** Folder holding the theme folders; default `<project>/themes`. */
  themesDir?: string;
  loginLimits?: Partial<LoginLimits>;
}

export interface PortalAppOptions {
  services: PortalServices;
  logger: Logger;
  bodyLimit: number;
  trustProxy: boolean;
  /** Signs session cookies (HTML portal). */
  secret: string;
  web: PortalWebOptions;
}

export const PORTAL_SESSION_COOKIE = 'gh_portal';

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The developer portal surface: HTML at / and the developer JSON API at /api/v1. */
export async function createPortalApp(options: PortalAppOptions): Promise<FastifyInstance> {
  const app = createHttpApp({ logger: options.logger, bodyLimit: options.bodyLimit, trustProxy: options.trustProxy });
  const { web: w, services } = options;
  app.decorateRequest('developer', null);
  const throttle = createLoginThrottle(
    w.counters,
    { ...DEFAULT_PORTAL_LOGIN_LIMITS, ...w.loginLimits },
    services.ctx.clock,
  );
  await app.register(async (api) => registerDeveloperApi(api, services, throttle), { prefix: '/api/v1' });
  app.get('/__gatehouse/health', async () => ({ status: 'ok' }));

  const web: WebOptions = {
    secret: options.secret,
    sessionCookie: PORTAL_SESSION_COOKIE,
    sessionTtlSeconds: w.sessionTtlHours * 3600,
  };
  await registerWeb(app, web);
  await registerAssets(app, []);

  const gatewayOrigin = originOf(w.publicGatewayUrl);
  const views = createPortalViews({
    settings: w.settings,
    pages: w.pages,
    bus: w.bus,
    themesDir: w.themesDir ?? join(PROJECT_ROOT, 'themes'),
    web,
    connectOrigins: gatewayOrigin ? [gatewayOrigin] : [],
  });
  const deps: PortalPageDeps & { publicGatewayUrl: string; usage: UsageService } = {
    services,
    settings: w.settings,
    pages: w.pages,
    accountTokens: w.accountTokens,
    keyLimits: w.keyLimits,
    mailer: w.mailer,
    views,
    throttle,
    web,
    publicPortalUrl: w.publicPortalUrl,
    logger: options.logger,
    publicGatewayUrl: w.publicGatewayUrl,
    usage: w.usage,
  };

  await app.register(async (html) => {
    // The signed-in developer, from the session cookie (developer_tokens kind 'session').
    html.addHook('onRequest', async (request) => {
      const token = readSessionCookie(request, web);
      request.developer = token ? await services.developers.fromToken(token) : null;
    });

    html.setErrorHandler(async (error: FastifyError, request, reply) => {
      const status = isAppError(error)
        ? error.status
        : typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500;
      if (status >= 500) request.log.error({ err: error }, 'portal page failed');
      const message = status >= 500 ? 'Something went wrong on our side. Please try again.' : error.message;
      const title =
        status === 404
          ? 'Page not found'
          : status === 403
            ? 'Not allowed'
            : status === 429
              ? 'Too many requests'
              : status >= 500
                ? 'Error'
                : 'Something is not right';
      try {
        return await views.render(request, reply, 'error', { title, status, message }, status);
      } catch (renderError) {
        request.log.error({ err: renderError }, 'error page failed to render');
        return reply.status(status).header('content-type', 'text/plain; charset=utf-8').send(message);
      }
    });

    registerAuthPages(html, deps);
    registerProfilePages(html, deps);
    registerCataloguePages(html, deps);
    registerKeyPages(html, deps);
    registerDashboardPages(html, deps);
    await registerDocsPages(html, { services: { ...services, docs: w.docs }, views, web });
    registerCmsPages(html, deps);
  });
  return app;
}
