import { isDocFormat, type DocsService, type SpecProblem } from '../../../modules/docs/index.js';
import { isAppError } from '../../../shared/errors.js';
import type { DocsImporter } from './support.js';

/**
 * The UI's documentation upload goes through the docs module's `put`, exactly like
 * `PUT /api/v1/catalogue/{id}/documentation`; a refused document comes back as the
 * located problems to show on the page.
 */
export function docsUploader(docs: DocsService): DocsImporter {
  return {
    async upload(actor, catalogueId, source, format) {
      try {
        const result = await docs.put(actor, catalogueId, {
          text: source,
          format: format && isDocFormat(format) ? format : undefined,
        });
        const doc = result.documentation as { format?: string };
        return {
          problems: [],
          summary: `${doc.format ?? 'document'}${result.unchanged ? ' (unchanged: same content as before)' : ''}`,
        };
      } catch (error) {
        if (isAppError(error) && error.code === 'SPEC_INVALID') {
          const problems = ((error.details as { problems?: SpecProblem[] } | undefined)?.problems ?? []).map((p) => ({
            message: p.message,
            path: p.line ? `line ${p.line}${p.column ? `:${p.column}` : ''}` : p.pointer,
          }));
          return { problems: problems.length > 0 ? problems : [{ message: error.message }] };
        }
        throw error;
      }
    },
  };
}
