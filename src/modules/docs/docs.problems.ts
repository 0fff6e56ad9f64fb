import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** One thing wrong with an uploaded document, located as precisely as we can. */
export interface SpecProblem {
  message: string;
  /** 1-based line and column in the uploaded text. */
  line?: number;
  column?: number;
  /** RFC 6901 JSON pointer into the parsed document. */
  pointer?: string;
}

/** Most problems a response carries; the rest are counted, not listed. */
export const MAX_PROBLEMS = 50;

/** `['paths', '/pets', 'get']` → `/paths/~1pets/get` (RFC 6901 §3). */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** 0-based character offset → 1-based line and column. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Adds line/column to problems that only have a JSON pointer, by walking the YAML
 * (or JSON, which YAML 1.2 reads too) syntax tree of the uploaded text. Only run
 * when there are problems to report, so valid uploads never pay for a second parse.
 */
export function locatePointers(text: string, problems: SpecProblem[]): SpecProblem[] {
  if (!problems.some((p) => p.pointer !== undefined && p.line === undefined)) return problems;
  let doc: ReturnType<typeof parseDocument>;
  const lines = new LineCounter();
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  } catch {
    return problems;
  }
  return problems.map((problem) => {
    if (problem.pointer === undefined || problem.line !== undefined) return problem;
    let node: Node | null = doc.contents ?? null;
    let last: Node | null = node;
    for (const segment of fromPointer(problem.pointer)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        node = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        node = item as Node;
      } else break;
      last = node;
    }
    const offset = last?.range?.[0];
    if (offset === undefined) return problem;
    const pos = lines.linePos(offset);
    return { ...problem, line: pos.line, column: pos.col };
  });
}
