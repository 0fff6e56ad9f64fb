/** The documentation formats an admin can upload (DESIGN §3 Documentation). */
export const DOC_FORMATS = ['openapi', 'swagger', 'blueprint', 'markdown'] as const;
export type DocFormat = (typeof DOC_FORMATS)[number];

export function isDocFormat(value: string): value is DocFormat {
  return (DOC_FORMATS as readonly string[]).includes(value);
}

/** How the uploaded text is written down: JSON and YAML are both OpenAPI/Swagger syntaxes. */
export type SourceSyntax = 'json' | 'yaml' | 'blueprint' | 'markdown';

/** Content type used when the source is downloaded again. */
export const SOURCE_CONTENT_TYPES: Record<SourceSyntax, string> = {
  json: 'application/json; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
  blueprint: 'text/vnd.apiblueprint; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
};

const BLUEPRINT_FORMAT_LINE = /^\uFEFF?\s*FORMAT:\s*1A\b/i;
// An API Blueprint action or resource header: `## Pets [/pets]`, `### List [GET]`, `# Group Pets`.
const BLUEPRINT_HEADER =
  /^#{1,6}\s+(?:Group\s+\S|Data Structures\s*$|.*\[(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)(?:\s+\/[^\]]*)?\]\s*$|.*\[\/[^\]]*\]\s*$)/m;
const SPEC_KEY_LINE = /^\s*["']?(openapi|swagger)["']?\s*:/m;

/**
 * Guesses the format of an upload from its first bytes, then its content type.
 * JSON/YAML that names `openapi` or `swagger` is a spec; `FORMAT: 1A` or Blueprint
 * section headers make a Blueprint; anything else is Markdown. The decision between
 * OpenAPI 3 and Swagger 2 is made after parsing, from the version field.
 */
export function detectFormat(
  text: string,
  contentType: string | undefined,
): { format: DocFormat; syntax: SourceSyntax } {
  const head = text.slice(0, 64 * 1024);
  const trimmed = head.replace(/^\uFEFF/, '').trimStart();
  const type = (contentType ?? '').toLowerCase();
  if (BLUEPRINT_FORMAT_LINE.test(head) || type.includes('apiblueprint'))
    return { format: 'blueprint', syntax: 'blueprint' };
  if (trimmed.startsWith('{') || type.includes('json')) {
    return {
      format: /"swagger"\s*:/.test(head) && !/"openapi"\s*:/.test(head) ? 'swagger' : 'openapi',
      syntax: 'json',
    };
  }
  if (SPEC_KEY_LINE.test(head) || type.includes('yaml')) {
    const match = /^\s*["']?(openapi|swagger)["']?\s*:/m.exec(head);
    return { format: match?.[1] === 'swagger' ? 'swagger' : 'openapi', syntax: 'yaml' };
  }
  if (BLUEPRINT_HEADER.test(head)) return { format: 'blueprint', syntax: 'blueprint' };
  return { format: 'markdown', syntax: 'markdown' };
}

/** The syntax of a spec upload whose format was given with `?format=`. */
export function syntaxFor(format: DocFormat, text: string): SourceSyntax {
  if (format === 'blueprint' || format === 'markdown') return format;
  return text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .startsWith('{')
    ? 'json'
    : 'yaml';
}
