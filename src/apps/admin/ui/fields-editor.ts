import type { FieldDefinition } from '../../../shared/fields.js';
import { validationError, type FieldProblem } from '../../../shared/errors.js';

/**
 * The custom-fields editor (signup fields, key-request fields) is a textarea with one
 * field per line: `name | label | type | required | option, option | help`. The parsed
 * list then goes through the same schema and `checkFieldDefinitions` as the REST API.
 */
export function fieldsToText(fields: FieldDefinition[]): string {
  return fields
    .map((f) => {
      const parts = [f.name, f.label, f.type, f.required ? 'required' : 'optional', (f.options ?? []).join(', ')];
      if (f.help) parts.push(f.help);
      return parts.join(' | ').replace(/(\s\|\s)+$/, '');
    })
    .join('\n');
}

export function textToFields(textValue: string, field: string): FieldDefinition[] {
  const problems: FieldProblem[] = [];
  const out: FieldDefinition[] = [];
  textValue
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .forEach((lineText, i) => {
      const [name = '', label = '', type = 'text', required = '', options = '', help = ''] = lineText
        .split('|')
        .map((p) => p.trim());
      if (!name || !label) {
        problems.push({ field: `${field}.${i}`, message: 'needs at least "name | label"' });
        return;
      }
      const def: FieldDefinition = {
        name,
        label,
        type: type as FieldDefinition['type'],
        required: /^(required|yes|true|1)$/i.test(required),
      };
      const opts = options
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '');
      if (opts.length > 0) def.options = opts;
      if (help) def.help = help;
      out.push(def);
    });
  if (problems.length > 0) throw validationError(problems);
  return out;
}
