import type { FastifyInstance } from 'fastify';
import { createPagesService, PageCreateBody, PagePatchBody, PageResponse } from '../../../modules/content/index.js';
import type { ModuleContext } from '../../../modules/context.js';
import { registerCrud } from './crud.js';

/**
 * CMS pages of the developer portal: `GET/POST /pages`, `GET/PATCH/DELETE /pages/{id}`
 * (viewer reads, admin writes). The body is Markdown, sanitised when the portal renders it.
 */
export function registerPageRoutes(app: FastifyInstance, ctx: ModuleContext): void {
  registerCrud(app, {
    path: '/pages',
    tag: 'pages',
    createBody: PageCreateBody,
    patchBody: PagePatchBody,
    response: PageResponse,
    service: createPagesService(ctx),
  });
}
