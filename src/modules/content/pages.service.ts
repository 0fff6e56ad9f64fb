import type { Updateable } from 'kysely';
import { appError, notFound, validationError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { isUniqueViolation } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext, Page as ListPage } from '../context.js';
import { pageOf } from '../context.js';
import type { PagesTable } from './content.table.js';
import { pageFromRow, presentPage, type Page } from './pages.model.js';
import { pagesRepository } from './pages.repository.js';
import { RESERVED_PAGE_SLUGS, type PageCreateBody, type PagePatchBody, type PageResponse } from './pages.schemas.js';

function checkSlug(slug: string | undefined): void {
  if (slug !== undefined && RESERVED_PAGE_SLUGS.includes(slug)) {
    throw validationError([{ field: 'slug', message: `"${slug}" is used by the portal itself; pick another slug` }]);
  }
}

function slugConflict(error: unknown): never {
  if (isUniqueViolation(error))
    throw appError('SLUG_TAKEN', 'Another page already uses this slug', {
      fields: [{ field: 'slug', message: 'is already used' }],
    });
  throw error;
}

/** CMS pages: admins write Markdown; the portal shows published pages at `/<slug>`. */
export function createPagesService(ctx: ModuleContext) {
  const { db, bus, clock } = ctx;

  async function load(id: string): Promise<Page> {
    const row = await pagesRepository.findById(db, id);
    if (!row) throw notFound('Page', id);
    return pageFromRow(row);
  }

  return {
    get: async (id: string): Promise<PageResponse> => presentPage(await load(id)),

    async list(opts: { cursor?: string; limit: number }): Promise<ListPage<PageResponse>> {
      const rows = await pagesRepository.list(db, { after: opts.cursor, limit: opts.limit + 1 });
      return pageOf(rows, opts.limit, (r) => presentPage(pageFromRow(r)));
    },

    async create(actor: Actor, body: PageCreateBody): Promise<PageResponse> {
      checkSlug(body.slug);
      const now = clock.now();
      const row: PagesTable = {
        id: newId('page', now),
        slug: body.slug,
        title: body.title.trim(),
        body: body.body ?? '',
        template: body.template ?? 'page',
        published: body.published ? 1 : 0,
        is_homepage: body.is_homepage ? 1 : 0,
        menu_position: body.menu_position ?? null,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await pagesRepository.insert(tx, row);
          if (row.is_homepage === 1) await pagesRepository.clearHomepage(tx, row.id);
          await recordAudit(
            tx,
            actor,
            { action: 'page.created', objectType: 'page', objectId: row.id, details: { slug: row.slug } },
            now,
          );
        });
      } catch (error) {
        slugConflict(error);
      }
      bus.publish({ topic: 'pages', id: row.id });
      return presentPage(pageFromRow(row));
    },

    async update(actor: Actor, id: string, body: PagePatchBody): Promise<PageResponse> {
      checkSlug(body.slug);
      const now = clock.now();
      const patch: Updateable<PagesTable> = { updated_at: now };
      if (body.slug !== undefined) patch.slug = body.slug;
      if (body.title !== undefined) patch.title = body.title.trim();
      if (body.body !== undefined) patch.body = body.body;
      if (body.template !== undefined) patch.template = body.template;
      if (body.published !== undefined) patch.published = body.published ? 1 : 0;
      if (body.is_homepage !== undefined) patch.is_homepage = body.is_homepage ? 1 : 0;
      if (body.menu_position !== undefined) patch.menu_position = body.menu_position;
      try {
        await db.transaction().execute(async (tx) => {
          if ((await pagesRepository.update(tx, id, patch)) !== 1) throw notFound('Page', id);
          if (body.is_homepage === true) await pagesRepository.clearHomepage(tx, id);
          await recordAudit(
            tx,
            actor,
            { action: 'page.updated', objectType: 'page', objectId: id, details: { fields: Object.keys(body) } },
            now,
          );
        });
      } catch (error) {
        slugConflict(error);
      }
      bus.publish({ topic: 'pages', id });
      return presentPage(await load(id));
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const row = await pagesRepository.findById(tx, id);
        if (!row) throw notFound('Page', id);
        await pagesRepository.delete(tx, id);
        await recordAudit(
          tx,
          actor,
          { action: 'page.deleted', objectType: 'page', objectId: id, details: { slug: row.slug } },
          now,
        );
      });
      bus.publish({ topic: 'pages', id });
    },

    /** A published page by slug, or null (drafts are never shown on the portal). */
    async findPublished(slug: string): Promise<Page | null> {
      const row = await pagesRepository.findBySlug(db, slug);
      return row && row.published === 1 ? pageFromRow(row) : null;
    },

    /** The published page marked as homepage, or null (the portal then shows its default home). */
    async homepage(): Promise<Page | null> {
      const row = await pagesRepository.findHomepage(db);
      return row ? pageFromRow(row) : null;
    },

    /** Published pages that appear in the main menu, in order. */
    async menu(): Promise<{ label: string; url: string }[]> {
      const rows = await pagesRepository.listMenu(db);
      return rows.filter((r) => r.is_homepage !== 1).map((r) => ({ label: r.title, url: `/${r.slug}` }));
    },
  };
}

export type PagesService = ReturnType<typeof createPagesService>;
