import { toIso } from '../../shared/time.js';
import type { PagesTable } from './content.table.js';
import type { PageResponse } from './pages.schemas.js';

/** A CMS page of the portal (DESIGN §3 Page). */
export interface Page {
  id: string;
  slug: string;
  title: string;
  /** Markdown source; render with `renderMarkdown` (sanitised) before showing it. */
  body: string;
  template: string;
  published: boolean;
  isHomepage: boolean;
  menuPosition: number | null;
  createdAt: number;
  updatedAt: number;
}

export function pageFromRow(row: PagesTable): Page {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    body: row.body,
    template: row.template,
    published: row.published === 1,
    isHomepage: row.is_homepage === 1,
    menuPosition: row.menu_position,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function presentPage(page: Page): PageResponse {
  return {
    id: page.id,
    slug: page.slug,
    title: page.title,
    body: page.body,
    template: page.template,
    published: page.published,
    is_homepage: page.isHomepage,
    menu_position: page.menuPosition,
    created_at: toIso(page.createdAt) ?? '',
    updated_at: toIso(page.updatedAt) ?? '',
  };
}
