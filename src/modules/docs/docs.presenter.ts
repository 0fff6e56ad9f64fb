import { toIso } from '../../shared/time.js';
import { isDocFormat, type DocFormat } from './docs.formats.js';
import { summarise } from './docs.openapi.js';
import type { DocumentationMeta } from './docs.repository.js';
import type { DocumentationResponse, DocumentationVersion } from './docs.schemas.js';
import type { DocumentationTable } from './docs.table.js';

function formatOf(value: string): DocFormat {
  return isDocFormat(value) ? value : 'markdown';
}

/** Where a version's source can be downloaded on the admin API. */
export function sourceUrl(row: DocumentationMeta): string {
  const base = `/api/v1/catalogue/${row.catalogue_id}/documentation`;
  return row.is_current === 1 ? `${base}?source=true` : `${base}/versions/${row.id}?source=true`;
}

export function presentVersion(row: DocumentationMeta): DocumentationVersion {
  return {
    id: row.id,
    catalogue_id: row.catalogue_id,
    format: formatOf(row.format),
    source_content_type: row.source_type,
    content_hash: row.content_hash,
    is_current: row.is_current === 1,
    uploaded_by: row.uploaded_by,
    uploaded_at: toIso(row.uploaded_at) ?? '',
    source_url: sourceUrl(row),
  };
}

export function parseOpenApi(row: Pick<DocumentationTable, 'openapi'>): Record<string, unknown> | null {
  return row.openapi ? (JSON.parse(row.openapi) as Record<string, unknown>) : null;
}

export function presentDocumentation(row: DocumentationTable, opts: { withBodies: boolean }): DocumentationResponse {
  const openapi = parseOpenApi(row);
  const out: DocumentationResponse = { ...presentVersion(row), summary: openapi ? summarise(openapi) : null };
  if (opts.withBodies) {
    out.openapi = openapi;
    out.html = row.html;
  }
  return out;
}
