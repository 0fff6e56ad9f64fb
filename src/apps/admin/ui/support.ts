import type { TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Liquid } from 'liquidjs';
import type { AdminRoleName } from '../../../modules/admins/index.js';
import { roleAllows } from '../../../modules/admins/index.js';
import type { LoginThrottle } from '../../../modules/login-throttle/index.js';
import type { PagesService } from '../../../modules/content/index.js';
import { appError, isAppError, validationError, type FieldProblem } from '../../../shared/errors.js';
import { problemsFromAjv, type WebOptions } from '../../../platform/http/index.js';
import type { AdminServices } from '../context.js';

/** What every admin UI route module gets. */
export interface UiDeps {
  s: AdminServices;
  pages: PagesService;
  views: Liquid;
  web: WebOptions;
  throttle: LoginThrottle;
  /** Base URL of the gateway, for the "test call" button. */
  gatewayUrl: string | null;
  /** Imports documentation for a catalogue entry (docs module), when available. */
  importDocs: DocsImporter | null;
}

export interface DocsImporter {
  upload(
    actor: { type: 'admin'; id: string | null },
    catalogueId: string,
    source: string,
    format: string | undefined,
  ): Promise<{ problems: { message: string; path?: string }[]; summary?: string }>;
}

export type FormBody = Record<string, string | string[] | undefined>;

export const FLASH_COOKIE = 'gh_admin_flash';

export interface Flash {
  kind: 'success' | 'info' | 'warning' | 'danger';
  message: string;
}

/** A message shown once on the next page (signed cookie, so it cannot be forged into the page). */
export function flash(reply: FastifyReply, kind: Flash['kind'], message: string): void {
  void reply.setCookie(FLASH_COOKIE, JSON.stringify({ kind, message: message.slice(0, 500) }), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    maxAge: 60,
  });
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): Flash | null {
  const raw = request.cookies[FLASH_COOKIE];
  if (!raw) return null;
  void reply.clearCookie(FLASH_COOKIE, { path: '/' });
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return null;
  try {
    const parsed = JSON.parse(unsigned.value) as Flash;
    return ['success', 'info', 'warning', 'danger'].includes(parsed.kind)
      ? { kind: parsed.kind, message: String(parsed.message) }
      : null;
  } catch {
    return null;
  }
}

/** Renders a page in the admin layout with the common view-model (admin, CSRF token, flash, pending badge). */
export async function render(
  deps: UiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
  status = 200,
): Promise<FastifyReply> {
  const admin = request.admin;
  const pending = admin ? await deps.s.keyRequests.countPending() : 0;
  const html = (await deps.views.renderFile(template, {
    ...data,
    admin: admin && {
      id: admin.id,
      email: admin.email,
      name: admin.name,
      role: admin.role,
      can_write: roleAllows(admin.role, 'admin'),
      is_owner: admin.role === 'owner',
    },
    csrf_token: request.csrfToken,
    flash: takeFlash(request, reply),
    pending_count: pending,
    path: request.url.split('?')[0] ?? '/',
  })) as string;
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

/** preHandler: a signed-in admin with at least `role`, checked on the server for every page and action. */
export function uiRole(role: AdminRoleName) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.admin) throw appError('UNAUTHENTICATED');
    if (!roleAllows(request.admin.role, role))
      throw appError('FORBIDDEN', `This needs the ${role} role; you are signed in as ${request.admin.role}.`);
  };
}

// ── form values ─────────────────────────────────────────────────────────────────

export function text(body: FormBody, name: string): string {
  const v = body[name];
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
}

export function optionalText(body: FormBody, name: string): string | undefined {
  const v = text(body, name);
  return v === '' ? undefined : v;
}

export function list(body: FormBody, name: string): string[] {
  const v = body[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => x.trim()).filter((x) => x !== '');
}

export function checkbox(body: FormBody, name: string): boolean {
  const v = text(body, name);
  return v === 'on' || v === 'true' || v === '1';
}

/** An integer field; a non-number is left as text so the schema check reports it on that field. */
export function int(body: FormBody, name: string): number | string | undefined {
  const v = text(body, name);
  if (v === '') return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/** Lines of a textarea, blank ones dropped. */
export function lines(body: FormBody, name: string): string[] {
  return text(body, name)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Drops undefined keys so optional schema properties stay absent. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Checks a body built from a form with the route's own validator compiler, against the
 * same TypeBox schema the REST route validates with (same ajv, formats, coercion and
 * defaults), so both surfaces accept exactly the same input.
 */
export function checked<T>(request: FastifyRequest, schema: TSchema, body: unknown): T {
  const validate = request.compileValidationSchema(schema);
  if (validate(body)) return body as T;
  const problems = problemsFromAjv(validate.errors ?? []);
  const unique = problems.filter((p, i) => problems.findIndex((q) => q.field === p.field) === i);
  throw validationError(unique);
}

/** Field problems of a validation error keyed by field, for showing next to inputs. */
export function problemsOf(error: unknown): { message: string; fields: Record<string, string> } | null {
  if (!isAppError(error) || error.status >= 500) return null;
  const fields: Record<string, string> = {};
  const details = error.details as { fields?: FieldProblem[] } | undefined;
  for (const p of details?.fields ?? []) fields[p.field] ??= p.message;
  return { message: error.message, fields };
}

/** `?a=1&b=` → a URL query string of the non-empty values, for pagination links. */
export function queryString(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Local paths only, so `?next=` cannot send a signed-in admin to another site. */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?!\/)[^\\\s]*$/.test(value) && !value.startsWith('/login') ? value : '/';
}

/** Everything (up to 1,000 rows) of a paged list service, for pickers and name look-ups. */
export async function all<T>(
  load: (opts: { limit: number; cursor?: string }) => Promise<{ data: T[]; next_cursor: string | null }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 5; i++) {
    const page = await load({ limit: 200, cursor });
    out.push(...page.data);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return out;
}
