import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createPagesService } from '../../../modules/content/index.js';
import type { LoginThrottle } from '../../../modules/login-throttle/index.js';
import {
  createViews,
  readSessionCookie,
  registerAssets,
  registerWeb,
  type WebOptions,
} from '../../../platform/http/index.js';
import { isAppError } from '../../../shared/errors.js';
import type { AdminServices } from '../context.js';
import { registerAccountPages } from './account.pages.js';
import { registerConfigPages } from './config.pages.js';
import { registerInsightPages } from './insight.pages.js';
import { registerPeoplePages } from './people.pages.js';
import { registerSettingsPages } from './settings.pages.js';
import { render, type DocsImporter, type UiDeps } from './support.js';

export const ADMIN_VIEWS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'views');
export const ADMIN_SESSION_COOKIE = 'gh_admin';

export interface AdminUiOptions {
  services: AdminServices;
  secret: string;
  sessionTtlHours: number;
  throttle: LoginThrottle;
  gatewayUrl: string | null;
  importDocs?: DocsImporter | null;
}

/**
 * The admin dashboard (server-rendered HTML on the admin port). Every page and action
 * calls the same services as the REST API; roles are checked on the server for each
 * route, every form carries a CSRF token, and Liquid escapes all output.
 */
export async function registerAdminUi(app: FastifyInstance, options: AdminUiOptions): Promise<void> {
  // HTML routes are not part of the REST API's OpenAPI document (some share its paths).
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  const web: WebOptions = {
    secret: options.secret,
    sessionCookie: ADMIN_SESSION_COOKIE,
    sessionTtlSeconds: options.sessionTtlHours * 3600,
  };
  await registerWeb(app, web);
  await registerAssets(app, [join(ADMIN_VIEWS_DIR, 'assets')]);
  const deps: UiDeps = {
    s: options.services,
    pages: createPagesService(options.services.ctx),
    views: createViews([ADMIN_VIEWS_DIR]),
    web,
    throttle: options.throttle,
    gatewayUrl: options.gatewayUrl,
    importDocs: options.importDocs ?? null,
  };

  // The signed session cookie holds an admin token of kind `session`; it is checked
  // against the database on every request, so a revoked session ends at once.
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/assets/')) return;
    const token = readSessionCookie(request, web);
    request.admin = token ? await options.services.admins.fromToken(token) : null;
  });

  app.setErrorHandler(async (error, request, reply) => {
    if (isAppError(error)) {
      if (error.code === 'UNAUTHENTICATED') {
        if (request.method === 'GET') return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
        return reply.redirect('/login');
      }
      if (error.status < 500) {
        const title = error.status === 404 ? 'Not found' : error.status === 403 ? 'Not allowed' : 'Request refused';
        return render(
          deps,
          request,
          reply,
          'error',
          { title, message: error.message, status: error.status },
          error.status,
        );
      }
    }
    request.log.error({ err: error }, 'admin UI request failed');
    return render(
      deps,
      request,
      reply,
      'error',
      {
        title: 'Something went wrong',
        message: 'The server could not complete this request. It has been logged.',
        status: 500,
      },
      500,
    );
  });

  registerAccountPages(app, deps);
  registerConfigPages(app, deps);
  registerPeoplePages(app, deps);
  registerInsightPages(app, deps);
  registerSettingsPages(app, deps);
}
