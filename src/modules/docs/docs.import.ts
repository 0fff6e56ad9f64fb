import { Validator } from '@seriousme/openapi-schema-validator';
import apib2swagger from 'apib2swagger';
import drafterModule from 'drafter.js';
import swagger2openapi from 'swagger2openapi';
import { parseDocument } from 'yaml';
import { renderMarkdown } from '../content/index.js';
import { detectFormat, syntaxFor, type DocFormat, type SourceSyntax } from './docs.formats.js';
import { summarise, type SpecSummary } from './docs.openapi.js';
import { lineColumnAt, locatePointers, MAX_PROBLEMS, toPointer, type SpecProblem } from './docs.problems.js';

/**
 * The import pipeline: detect → parse (bounded) → check references → validate →
 * convert to OpenAPI 3. Pure (no I/O, no network: external `$ref`s are reported, never
 * fetched), so it runs the same in a worker thread and in a unit test.
 */

export type { SpecSummary };

export interface ImportInput {
  text: string;
  /** From `?format=`; detected when absent. */
  format?: DocFormat;
  /** The upload's Content-Type, a hint for detection. */
  contentType?: string;
}

export interface ImportedDocument {
  format: DocFormat;
  syntax: SourceSyntax;
  /** The normalised OpenAPI 3 document; null for Markdown. */
  openapi: Record<string, unknown> | null;
  /** Sanitised HTML for Markdown documentation; null otherwise. */
  html: string | null;
  summary: SpecSummary | null;
  warnings: SpecProblem[];
}

export type ImportOutcome =
  { ok: true; document: ImportedDocument } | { ok: false; format: DocFormat; problems: SpecProblem[]; total: number };

/** Deeper nesting than any real description needs; recursive tools would overflow on it. */
export const MAX_DEPTH = 100;
/** YAML aliases expanded per document: stops billion-laughs expansion early. */
export const MAX_YAML_ALIASES = 100;

type Json = Record<string, unknown>;

// drafter.js is CommonJS; its typings describe a default export the runtime does not have.
const drafter = drafterModule as unknown as {
  parseSync(source: string, options: { generateSourceMap?: boolean }): unknown;
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(format: DocFormat, text: string, problems: SpecProblem[]): ImportOutcome {
  const located = locatePointers(text, problems.slice(0, MAX_PROBLEMS));
  return { ok: false, format, problems: located, total: problems.length };
}

// --- parsing -----------------------------------------------------------------------

type Parsed = { ok: true; value: unknown } | { ok: false; problems: SpecProblem[] };

/**
 * Offset of the first bracket nested deeper than MAX_DEPTH in JSON text, else -1. A
 * linear scan before parsing: JSON.parse copes with millions of levels, but everything
 * after it (the depth check's paths, locating the problem in the syntax tree) would
 * take tens of seconds on a 10 MB `[[[[…`.
 */
function jsonTooDeepAt(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return -1;
}

function parseJson(text: string): Parsed {
  const deep = jsonTooDeepAt(text);
  if (deep >= 0)
    return {
      ok: false,
      problems: [{ message: `Nested deeper than ${MAX_DEPTH} levels`, ...lineColumnAt(text, deep) }],
    };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /position (\d+)/.exec(message);
    const where = position ? lineColumnAt(text, Number(position[1])) : {};
    return {
      ok: false,
      problems: [{ message: `Invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, ...where }],
    };
  }
}

function parseYaml(text: string): Parsed {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, stringKeys: true });
  if (doc.errors.length > 0) {
    // The first error is the real one; the following ones are usually its echoes.
    return {
      ok: false,
      problems: doc.errors.slice(0, 3).map((e) => ({
        // The yaml parser recurses per flow level and reports a stack overflow as a syntax error.
        message: /Maximum call stack size exceeded/.test(e.message)
          ? `Nested deeper than ${MAX_DEPTH} levels`
          : `Invalid YAML: ${e.message.split('\n')[0] ?? e.code}`,
        line: e.linePos?.[0].line,
        column: e.linePos?.[0].col,
      })),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown };
  } catch (error) {
    // yaml throws a ReferenceError when aliases would expand past the limit.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      problems: [{ message: `Refused YAML: ${message} (at most ${MAX_YAML_ALIASES} alias expansions)` }],
    };
  }
}

/** Finds the first container nested deeper than MAX_DEPTH, without recursion. */
function tooDeep(root: unknown): string | null {
  const stack: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length >= MAX_DEPTH) return toPointer(path);
    for (const [key, child] of Object.entries(value)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, path: [...path, key] });
    }
  }
  return null;
}

// --- OpenAPI / Swagger ----------------------------------------------------------------

function resolveInternal(root: unknown, ref: string): boolean {
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return false;
  }
  return node !== undefined;
}

/**
 * Every `$ref` must point inside the document. External ones (URLs, other files) are
 * reported, never fetched: the server must not make requests to hosts an upload names.
 * Example values and `x-` extensions may hold arbitrary JSON and are skipped.
 */
function checkRefs(doc: Json): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const stack: { value: unknown; path: string[] }[] = [{ value: doc, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (Array.isArray(value)) {
      value.forEach((child, i) => stack.push({ value: child, path: [...path, String(i)] }));
      continue;
    }
    if (!isObject(value)) continue;
    const ref = value.$ref;
    if (typeof ref === 'string') {
      const pointer = toPointer([...path, '$ref']);
      if (!ref.startsWith('#')) {
        problems.push({
          pointer,
          message: `External reference "${ref}" is not fetched: Gatehouse only resolves references inside the document; bundle it into one file first`,
        });
      } else if (ref !== '#' && !resolveInternal(doc, ref)) {
        problems.push({ pointer, message: `Reference "${ref}" points to nothing in this document` });
      }
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'example' || key === 'examples' || key.startsWith('x-')) continue;
      if (typeof child === 'object' && child !== null) stack.push({ value: child, path: [...path, key] });
    }
  }
  return problems.sort((a, b) => (a.pointer ?? '').localeCompare(b.pointer ?? ''));
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * AJV reports every failed `oneOf` branch; keep the deepest issues (the closest to
 * the real mistake) and merge the allowed values of alternatives at the same place.
 */
function condense(issues: AjvIssue[]): SpecProblem[] {
  const relevant = issues.filter((i) => i.keyword !== 'oneOf' && i.keyword !== 'anyOf' && i.keyword !== 'if');
  const pool = relevant.length > 0 ? relevant : issues;
  const deepest = pool.filter((i) => !pool.some((o) => o !== i && o.instancePath.startsWith(`${i.instancePath}/`)));
  const byPath = new Map<string, AjvIssue[]>();
  for (const issue of deepest) byPath.set(issue.instancePath, [...(byPath.get(issue.instancePath) ?? []), issue]);
  const problems: SpecProblem[] = [];
  for (const [pointer, list] of byPath) {
    const allowed = list.flatMap((i) =>
      Array.isArray(i.params.allowedValues)
        ? (i.params.allowedValues as unknown[])
        : i.keyword === 'const'
          ? [i.params.allowedValue]
          : [],
    );
    if (allowed.length > 0) {
      problems.push({
        pointer,
        message: `must be one of: ${[...new Set(allowed.map((v) => JSON.stringify(v)))].join(', ')}`,
      });
      continue;
    }
    const seen = new Set<string>();
    for (const issue of list) {
      let message = issue.message ?? `fails ${issue.keyword}`;
      if (issue.keyword === 'additionalProperties')
        message = `unknown field "${String(issue.params.additionalProperty)}"`;
      if (issue.keyword === 'required') message = `missing required field "${String(issue.params.missingProperty)}"`;
      if (seen.has(message)) continue;
      seen.add(message);
      problems.push({ pointer, message });
    }
  }
  return problems;
}

let validator: Validator | null = null;

async function validateSpec(doc: Json): Promise<SpecProblem[]> {
  validator ??= new Validator();
  const result = await validator.validate(doc);
  if (result.valid) return [];
  if (typeof result.errors === 'string') return [{ message: result.errors }];
  return condense((result.errors ?? []) as AjvIssue[]);
}

function versionOf(doc: Json): { format: 'openapi' | 'swagger' } | { problem: SpecProblem } {
  if ('openapi' in doc) {
    const v = doc.openapi;
    if (typeof v === 'string' && /^3\.[01]\.\d+(-.+)?$/.test(v)) return { format: 'openapi' };
    return {
      problem: {
        pointer: '/openapi',
        message: `Unsupported openapi version ${JSON.stringify(v)}: expected "3.0.x" or "3.1.x" (or "swagger": "2.0")`,
      },
    };
  }
  if ('swagger' in doc) {
    if (doc.swagger === '2.0') return { format: 'swagger' };
    return {
      problem: {
        pointer: '/swagger',
        message: `Unsupported swagger version ${JSON.stringify(doc.swagger)}: expected "2.0" (or "openapi": "3.0.x" / "3.1.x")`,
      },
    };
  }
  return {
    problem: {
      pointer: '',
      message: 'No "openapi" or "swagger" version field: this is not an OpenAPI or Swagger document',
    },
  };
}

async function importSpec(text: string, syntax: SourceSyntax, requested: DocFormat): Promise<ImportOutcome> {
  const parsed = syntax === 'json' ? parseJson(text) : parseYaml(text);
  if (!parsed.ok) return fail(requested, text, parsed.problems);
  if (!isObject(parsed.value))
    return fail(requested, text, [{ pointer: '', message: 'The document must be a JSON/YAML object' }]);
  const doc = parsed.value;
  const deep = tooDeep(doc);
  if (deep !== null)
    return fail(requested, text, [{ pointer: deep, message: `Nested deeper than ${MAX_DEPTH} levels` }]);
  const version = versionOf(doc);
  if ('problem' in version) return fail(requested, text, [version.problem]);
  const refProblems = checkRefs(doc);
  if (refProblems.length > 0) return fail(version.format, text, refProblems);
  const problems = await validateSpec(doc);
  if (problems.length > 0) return fail(version.format, text, problems);
  let openapi: Json = doc;
  if (version.format === 'swagger') {
    // swagger2openapi with resolve:false never follows references, local or remote.
    const converted = await swagger2openapi.convertObj(structuredClone(doc), {
      patch: true,
      warnOnly: true,
      resolve: false,
    });
    openapi = converted.openapi;
  }
  return {
    ok: true,
    document: { format: version.format, syntax, openapi, html: null, summary: summarise(openapi), warnings: [] },
  };
}

// --- API Blueprint ------------------------------------------------------------------------

interface Refract {
  element: string;
  content?: unknown;
  meta?: { classes?: { content?: { content?: string }[] } };
  attributes?: {
    sourceMap?: {
      content?: {
        content?: { content?: { attributes?: { line?: { content?: number }; column?: { content?: number } } }[] }[];
      }[];
    };
  };
}

function annotationsOf(result: Refract): { errors: SpecProblem[]; warnings: SpecProblem[] } {
  const errors: SpecProblem[] = [];
  const warnings: SpecProblem[] = [];
  const content = Array.isArray(result.content) ? (result.content as Refract[]) : [];
  for (const item of content) {
    if (item.element !== 'annotation') continue;
    const kind = item.meta?.classes?.content?.[0]?.content;
    const start = item.attributes?.sourceMap?.content?.[0]?.content?.[0]?.content?.[0]?.attributes;
    const line = start?.line?.content;
    const column = start?.column?.content;
    const problem: SpecProblem = { message: String(item.content), ...(line ? { line, column: column || 1 } : {}) };
    (kind === 'error' ? errors : warnings).push(problem);
  }
  return { errors, warnings };
}

function convertBlueprint(text: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    apib2swagger.convert(text, { openApi3: true }, (error, result) => {
      if (error || !result.swagger)
        reject(error instanceof Error ? error : new Error('API Blueprint conversion failed'));
      else resolve(result.swagger);
    });
  });
}

async function importBlueprint(text: string): Promise<ImportOutcome> {
  if (text.includes('\t')) {
    // Drafter refuses tabs; say where the first one is rather than a generic failure.
    const at = lineColumnAt(text, text.indexOf('\t'));
    return fail('blueprint', text, [
      { message: 'API Blueprint does not allow tab characters; indent with spaces', ...at },
    ]);
  }
  const parsed = drafter.parseSync(text, { generateSourceMap: true }) as Refract;
  const { errors, warnings } = annotationsOf(parsed);
  if (errors.length > 0) return fail('blueprint', text, errors);
  let openapi: Json;
  try {
    openapi = await convertBlueprint(text);
  } catch (error) {
    return fail('blueprint', text, [
      { message: `API Blueprint could not be converted: ${error instanceof Error ? error.message : String(error)}` },
    ]);
  }
  const converted = await validateSpec(openapi);
  const notes = converted.map((p) => ({ ...p, message: `after conversion to OpenAPI: ${p.message}` }));
  return {
    ok: true,
    document: {
      format: 'blueprint',
      syntax: 'blueprint',
      openapi,
      html: null,
      summary: summarise(openapi),
      warnings: [...warnings, ...notes].slice(0, MAX_PROBLEMS),
    },
  };
}

// --- entry point ----------------------------------------------------------------------------

export async function importDocument(input: ImportInput): Promise<ImportOutcome> {
  const text = input.text;
  if (text.trim() === '')
    return {
      ok: false,
      format: input.format ?? 'markdown',
      problems: [{ message: 'The document is empty' }],
      total: 1,
    };
  const detected = input.format
    ? { format: input.format, syntax: syntaxFor(input.format, text) }
    : detectFormat(text, input.contentType);
  switch (detected.format) {
    case 'openapi':
    case 'swagger':
      return importSpec(text, detected.syntax, detected.format);
    case 'blueprint':
      return importBlueprint(text);
    case 'markdown':
      return {
        ok: true,
        document: {
          format: 'markdown',
          syntax: 'markdown',
          openapi: null,
          html: renderMarkdown(text),
          summary: null,
          warnings: [],
        },
      };
  }
}
