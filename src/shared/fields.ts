import type { FieldProblem } from './errors.js';

/**
 * Custom form fields defined by the portal owner: developer profile fields and
 * key-request fields. Definitions and submitted values are validated here.
 */
export type FieldType = 'text' | 'textarea' | 'email' | 'select' | 'checkbox' | 'number' | 'url';

export const FIELD_TYPES: readonly FieldType[] = ['text', 'textarea', 'email', 'select', 'checkbox', 'number', 'url'];

export interface FieldDefinition {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  options?: string[];
  help?: string;
}

export type FieldValues = Record<string, string | boolean | number>;

const NAME = /^[a-z][a-z0-9_]{0,39}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const MAX_TEXT = 2000;

/** Problems with a list of definitions (names unique, select has options). */
export function checkFieldDefinitions(defs: FieldDefinition[], path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  defs.forEach((def, i) => {
    const at = `${path}.${i}`;
    if (!NAME.test(def.name))
      problems.push({
        field: `${at}.name`,
        message: 'must be lower-case letters, digits or _, starting with a letter (max 40)',
      });
    if (seen.has(def.name)) problems.push({ field: `${at}.name`, message: `duplicate field name "${def.name}"` });
    seen.add(def.name);
    if (!FIELD_TYPES.includes(def.type))
      problems.push({ field: `${at}.type`, message: `must be one of ${FIELD_TYPES.join(', ')}` });
    if (def.type === 'select' && (!def.options || def.options.length === 0)) {
      problems.push({ field: `${at}.options`, message: 'a select field needs at least one option' });
    }
  });
  return problems;
}

/**
 * Validates submitted values against definitions; returns the cleaned values
 * (trimmed, typed, unknown keys dropped) and the problems, field paths under `path`.
 */
export function checkFieldValues(
  defs: FieldDefinition[],
  input: Record<string, unknown> | undefined,
  path: string,
): { values: FieldValues; problems: FieldProblem[] } {
  const values: FieldValues = {};
  const problems: FieldProblem[] = [];
  const given = input ?? {};
  for (const def of defs) {
    const field = `${path}.${def.name}`;
    const raw = given[def.name];
    if (def.type === 'checkbox') {
      const checked = raw === true || raw === 'true' || raw === 'on' || raw === '1' || raw === 1;
      if (def.required && !checked) problems.push({ field, message: `${def.label} must be checked` });
      values[def.name] = checked;
      continue;
    }
    const text =
      raw === undefined || raw === null
        ? ''
        : typeof raw === 'string' || typeof raw === 'number'
          ? String(raw).trim()
          : null;
    if (text === null) {
      problems.push({ field, message: 'must be text' });
      continue;
    }
    if (text === '') {
      if (def.required) problems.push({ field, message: `${def.label} is required` });
      continue;
    }
    if (text.length > MAX_TEXT) {
      problems.push({ field, message: `must be at most ${MAX_TEXT} characters` });
      continue;
    }
    if (def.type === 'email' && !EMAIL.test(text)) problems.push({ field, message: 'must be an email address' });
    else if (def.type === 'url' && !/^https?:\/\/\S+$/.test(text))
      problems.push({ field, message: 'must be an http(s) URL' });
    else if (def.type === 'number' && Number.isNaN(Number(text))) problems.push({ field, message: 'must be a number' });
    else if (def.type === 'select' && !(def.options ?? []).includes(text)) {
      problems.push({ field, message: `must be one of: ${(def.options ?? []).join(', ')}` });
    } else values[def.name] = def.type === 'number' ? Number(text) : text;
  }
  return { values, problems };
}
