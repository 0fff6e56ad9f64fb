import { existsSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderMarkdown, type Page } from '../../../modules/content/index.js';
import { errorBody } from '../../../platform/http/index.js';
import type { PortalPageDeps } from './deps.js';
import { entryView } from './catalogue.js';

/** Home, CMS pages at `/<slug>`, theme assets and custom CSS, and the HTML 404 (issue 4 §1, §8). */
export function registerCmsPages(app: FastifyInstance, deps: PortalPageDeps): void {
  const { views, services } = deps;

  async function renderPage(request: FastifyRequest, reply: FastifyReply, page: Page) {
    const template = page.template !== 'page' && (await views.hasTemplate(page.template)) ? page.template : 'page';
    return views.render(request, reply, template, {
      title: page.title,
      page: {
        title: page.title,
        slug: page.slug,
        html: renderMarkdown(page.body),
        updated_at: new Date(page.updatedAt).toISOString(),
      },
    });
  }

  app.get('/', async (request, reply) => {
    const home = await deps.pages.homepage();
    if (home) return renderPage(request, reply, home);
    const featured = await services.catalogue.listVisible(request.developer !== null, { limit: 6 });
    return views.render(request, reply, 'home', { title: 'Home', entries: featured.data.map(entryView) });
  });

  // Custom CSS from settings, as a stylesheet (never inlined into the page).
  app.get('/site/custom.css', async (_request, reply) =>
    reply
      .header('content-type', 'text/css; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=300')
      .send(await views.customCss()),
  );

  // Theme assets: the active theme's file wins over the default theme's (DESIGN §8).
  app.get<{ Params: { '*': string } }>('/assets/theme/*', async (request, reply) => {
    const wanted = normalize(request.params['*'] ?? '');
    if (!wanted || wanted.startsWith('..') || wanted.includes(`${sep}..`) || wanted.startsWith(sep))
      return reply.status(404).send(errorBody('NOT_FOUND', 'No such asset'));
    for (const root of await views.themeRoots()) {
      const dir = join(root, 'assets');
      const file = join(dir, wanted);
      if (file.startsWith(dir + sep) && existsSync(file) && statSync(file).isFile()) {
        return reply.header('cache-control', 'public, max-age=300').sendFile(wanted, dir);
      }
    }
    return reply.status(404).send(errorBody('NOT_FOUND', 'No such asset'));
  });

  // Everything else: a published CMS page at /<slug>, or the portal's 404 page.
  app.get<{ Params: { '*': string } }>('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path.startsWith('/api/')) return reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `No route GET ${path}`));
    const slug = /^\/([a-z0-9][a-z0-9-]*)\/?$/.exec(path)?.[1];
    const page = slug ? await deps.pages.findPublished(slug) : null;
    if (page) return renderPage(request, reply, page);
    return views.render(
      request,
      reply,
      'error',
      { title: 'Page not found', status: 404, message: 'There is no page at this address.' },
      404,
    );
  });
}
