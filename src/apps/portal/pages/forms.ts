import { isAppError, type AppError } from '../../../shared/errors.js';
import type { FieldDefinition } from '../../../shared/fields.js';

/** A urlencoded form body: every value a string (repeated names keep the last one). */
export type FormBody = Record<string, string>;

export function formBody(body: unknown): FormBody {
  const out: FormBody = {};
  if (!body || typeof body !== 'object') return out;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value) && typeof value[value.length - 1] === 'string')
      out[key] = value[value.length - 1] as string;
  }
  return out;
}

/** The values of inputs named `<prefix><name>` (e.g. `fields.company`) as an object. */
export function prefixed(form: FormBody, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(form)) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}

/** Field errors by input name, from a product error's `details.fields`. */
export function fieldErrors(error: AppError): Record<string, string> {
  const out: Record<string, string> = {};
  const details = error.details as { fields?: { field: string; message: string }[] } | undefined;
  for (const problem of details?.fields ?? []) {
    if (!(problem.field in out)) out[problem.field] = problem.message;
  }
  return out;
}

/** True when `error` is a product error whose problems can be shown beside the form's fields. */
export function isFormError(error: unknown): error is AppError {
  return isAppError(error) && error.status < 500;
}

/** View-model of custom fields for the `field` partial: each with its kept value and error. */
export function fieldViews(
  defs: FieldDefinition[],
  values: Record<string, unknown>,
  errors: Record<string, string>,
  prefix: string,
) {
  return defs.map((field) => ({
    field,
    value: values[field.name] ?? '',
    error: errors[`${prefix}${field.name}`] ?? null,
  }));
}

/** A same-site path to go back to after logging in; anything else becomes `/dashboard`. */
export function safeNext(next: unknown): string {
  if (
    typeof next !== 'string' ||
    !next.startsWith('/') ||
    next.startsWith('//') ||
    next.startsWith('/\\') ||
    /[\r\n]/.test(next)
  )
    return '/dashboard';
  return next;
}

export const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
