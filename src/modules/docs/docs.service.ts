import { appError, notFound } from '../../shared/errors.js';
import { sha256Hex } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { recordAudit } from '../audit/index.js';
import { catalogueRepository } from '../catalogue/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { SOURCE_CONTENT_TYPES, type DocFormat } from './docs.formats.js';
import type { SpecImporter } from './docs.importer.js';
import { forGateway, RenderCache, type GatewayServer } from './docs.openapi.js';
import { parseOpenApi, presentDocumentation, presentVersion } from './docs.presenter.js';
import { docsRepository } from './docs.repository.js';
import type { DocumentationResponse, DocumentationVersion } from './docs.schemas.js';
import type { DocumentationTable } from './docs.table.js';

/** Versions kept per catalogue entry; older uploads are deleted with the next upload. */
export const DOC_VERSIONS_KEPT = 20;

export interface DocsServiceOptions extends ModuleContext {
  importer: SpecImporter;
  /** Largest accepted upload in bytes (config `docs_max_bytes`). */
  maxBytes: number;
}

export interface DocumentationUpload {
  text: string;
  format?: DocFormat;
  contentType?: string;
}

export interface DocumentationSource {
  body: string;
  contentType: string;
  filename: string;
  uploadedAt: number;
}

/** What the portal renders for an entry: a console document, or a Markdown page. */
export type PortalDocumentation =
  | { kind: 'openapi'; contentHash: string; uploadedAt: number; format: DocFormat; title: string; json: string }
  | { kind: 'markdown'; contentHash: string; uploadedAt: number; format: DocFormat; html: string };

const EXTENSIONS: Record<string, string> = { json: 'json', yaml: 'yaml', apiblueprint: 'apib', markdown: 'md' };

function filenameFor(row: DocumentationTable): string {
  const kind = Object.keys(EXTENSIONS).find((k) => row.source_type.includes(k));
  return `documentation-${row.id}.${kind ? EXTENSIONS[kind] : 'txt'}`;
}

export function createDocsService(options: DocsServiceOptions) {
  const { db, bus, clock, importer } = options;
  const portalCache = new RenderCache<PortalDocumentation>((d) =>
    d.kind === 'openapi' ? d.json.length : d.html.length,
  );

  async function requireEntry(catalogueId: string): Promise<void> {
    if (!(await catalogueRepository.findById(db, catalogueId))) throw notFound('Catalogue entry', catalogueId);
  }

  async function current(catalogueId: string): Promise<DocumentationTable> {
    await requireEntry(catalogueId);
    const row = await docsRepository.findCurrent(db, catalogueId);
    if (!row) throw notFound('Documentation of catalogue entry', catalogueId);
    return row;
  }

  async function version(catalogueId: string, docId: string): Promise<DocumentationTable> {
    await requireEntry(catalogueId);
    const row = await docsRepository.findById(db, catalogueId, docId);
    if (!row) throw notFound('Documentation version', docId);
    return row;
  }

  function sourceOf(row: DocumentationTable): DocumentationSource {
    return { body: row.source, contentType: row.source_type, filename: filenameFor(row), uploadedAt: row.uploaded_at };
  }

  return {
    maxBytes: options.maxBytes,

    /**
     * Imports a new version. A broken document is refused with 422 SPEC_INVALID and
     * the located problems, and the current documentation stays as it was. Uploading
     * the same bytes again changes nothing (PUT is idempotent).
     */
    async put(
      actor: Actor,
      catalogueId: string,
      upload: DocumentationUpload,
    ): Promise<{ created: boolean; unchanged: boolean; documentation: DocumentationResponse }> {
      await requireEntry(catalogueId);
      const outcome = await importer.run({ text: upload.text, format: upload.format, contentType: upload.contentType });
      if (!outcome.ok) {
        const first = outcome.problems[0];
        const where = first?.line
          ? ` (line ${first.line}${first.column ? `, column ${first.column}` : ''})`
          : first?.pointer
            ? ` (at ${first.pointer || '/'})`
            : '';
        const more = outcome.total > 1 ? ` and ${outcome.total - 1} more problem(s)` : '';
        throw appError('SPEC_INVALID', `${first?.message ?? 'The document is not valid'}${where}${more}`, {
          format: outcome.format,
          problems: outcome.problems,
          total: outcome.total,
        });
      }
      const imported = outcome.document;
      const hash = sha256Hex(upload.text);
      const previous = await docsRepository.findCurrentMeta(db, catalogueId);
      if (previous && previous.content_hash === hash && previous.format === imported.format) {
        const row = await current(catalogueId);
        return {
          created: false,
          unchanged: true,
          documentation: { ...presentDocumentation(row, { withBodies: false }), warnings: imported.warnings },
        };
      }
      const now = clock.now();
      const row: DocumentationTable = {
        id: newId('documentation', now),
        catalogue_id: catalogueId,
        format: imported.format,
        source: upload.text,
        source_type: SOURCE_CONTENT_TYPES[imported.syntax],
        openapi: imported.openapi ? JSON.stringify(imported.openapi) : null,
        html: imported.html,
        content_hash: hash,
        is_current: 1,
        uploaded_by: actor.id,
        uploaded_at: now,
      };
      await db.transaction().execute(async (tx) => {
        await docsRepository.clearCurrent(tx, catalogueId);
        await docsRepository.insert(tx, row);
        await docsRepository.prune(tx, catalogueId, DOC_VERSIONS_KEPT);
        await recordAudit(
          tx,
          actor,
          {
            action: 'documentation.uploaded',
            objectType: 'catalogue_entry',
            objectId: catalogueId,
            details: {
              documentation_id: row.id,
              format: row.format,
              content_hash: hash,
              bytes: Buffer.byteLength(upload.text),
              operations: imported.summary?.operations ?? null,
            },
          },
          now,
        );
      });
      bus.publish({ topic: 'docs', id: catalogueId });
      return {
        created: !previous,
        unchanged: false,
        documentation: { ...presentDocumentation(row, { withBodies: false }), warnings: imported.warnings },
      };
    },

    /** The current documentation with its normalised OpenAPI document. */
    async get(catalogueId: string): Promise<DocumentationResponse> {
      return presentDocumentation(await current(catalogueId), { withBodies: true });
    },

    async source(catalogueId: string): Promise<DocumentationSource> {
      return sourceOf(await current(catalogueId));
    },

    async versions(catalogueId: string, opts: { cursor?: string; limit: number }): Promise<Page<DocumentationVersion>> {
      await requireEntry(catalogueId);
      const rows = await docsRepository.listVersions(db, catalogueId, { before: opts.cursor, limit: opts.limit + 1 });
      const more = rows.length > opts.limit;
      const kept = more ? rows.slice(0, opts.limit) : rows;
      return { data: kept.map(presentVersion), next_cursor: more ? (kept[kept.length - 1]?.id ?? null) : null };
    },

    async version(catalogueId: string, docId: string): Promise<DocumentationResponse> {
      return presentDocumentation(await version(catalogueId, docId), { withBodies: true });
    },

    async versionSource(catalogueId: string, docId: string): Promise<DocumentationSource> {
      return sourceOf(await version(catalogueId, docId));
    },

    /** Takes the documentation off the entry; earlier versions stay downloadable. */
    async remove(actor: Actor, catalogueId: string): Promise<void> {
      await requireEntry(catalogueId);
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const row = await docsRepository.findCurrentMeta(tx, catalogueId);
        if (!row) throw notFound('Documentation of catalogue entry', catalogueId);
        await docsRepository.clearCurrent(tx, catalogueId);
        await recordAudit(
          tx,
          actor,
          {
            action: 'documentation.deleted',
            objectType: 'catalogue_entry',
            objectId: catalogueId,
            details: { documentation_id: row.id },
          },
          now,
        );
      });
      bus.publish({ topic: 'docs', id: catalogueId });
    },

    /**
     * The current documentation as the portal shows it, or null. OpenAPI documents
     * come back serialised with their servers pointing at the gateway, cached by
     * content hash and server list.
     */
    async forPortal(
      catalogueId: string,
      servers: GatewayServer[],
      requiresKey = true,
    ): Promise<PortalDocumentation | null> {
      const meta = await docsRepository.findCurrentMeta(db, catalogueId);
      if (!meta) return null;
      const format = meta.format as DocFormat;
      const cacheKey = `${meta.content_hash}|${format}|${requiresKey}|${servers.map((s) => s.url).join(' ')}`;
      const cached = portalCache.get(cacheKey);
      if (cached !== undefined) return cached;
      const row = await docsRepository.findCurrent(db, catalogueId);
      if (!row) return null;
      let rendered: PortalDocumentation;
      const openapi = parseOpenApi(row);
      if (openapi) {
        const info = openapi.info as { title?: unknown } | undefined;
        rendered = {
          kind: 'openapi',
          contentHash: row.content_hash,
          uploadedAt: row.uploaded_at,
          format,
          title: typeof info?.title === 'string' ? info.title : '',
          json: JSON.stringify(forGateway(openapi, servers, requiresKey)),
        };
      } else {
        rendered = {
          kind: 'markdown',
          contentHash: row.content_hash,
          uploadedAt: row.uploaded_at,
          format,
          html: row.html ?? '',
        };
      }
      portalCache.set(cacheKey, rendered);
      return rendered;
    },
  };
}

export type DocsService = ReturnType<typeof createDocsService>;
