import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Liquid } from 'liquidjs';
import { appError } from '../../shared/errors.js';

/**
 * What the two server-rendered surfaces (portal and admin UI) share: cookies, form
 * bodies, CSRF, session cookies, Liquid views and locally served front-end assets.
 */

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CSRF_FIELD = '_csrf';
const CSRF_COOKIE = 'gh_csrf';

export interface WebOptions {
  /** Signs cookies and CSRF tokens. */
  secret: string;
  /** Name of the session cookie (`gh_portal`, `gh_admin`). */
  sessionCookie: string;
  /** Session lifetime in seconds. */
  sessionTtlSeconds: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The CSRF token to put in every form of this response. */
    csrfToken: string;
  }
}

function csrfFor(secret: string, seed: string): string {
  return createHmac('sha256', secret).update(`csrf:${seed}`).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}

/**
 * Registers cookie and form parsing and CSRF protection for every unsafe method on
 * HTML routes (anything outside `/api/`, which authenticates with bearer tokens and
 * so cannot be forged cross-site). The CSRF token is an HMAC of a random per-browser
 * cookie (double submit, signed), so no server state is needed.
 */
export async function registerWeb(app: FastifyInstance, options: WebOptions): Promise<void> {
  await app.register(cookie, { secret: options.secret });
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  app.decorateRequest('csrfToken', '');

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/api/') || request.url.startsWith('/assets/')) return;
    let seed = request.cookies[CSRF_COOKIE];
    if (!seed || seed.length < 16) {
      seed = randomBytes(18).toString('base64url');
      void reply.setCookie(CSRF_COOKIE, seed, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: isSecure(request),
      });
    }
    request.csrfToken = csrfFor(options.secret, seed);
  });

  app.addHook('preHandler', async (request) => {
    if (request.url.startsWith('/api/')) return;
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const seed = request.cookies[CSRF_COOKIE];
    const body = request.body as Record<string, unknown> | undefined;
    const sent =
      (typeof body?.[CSRF_FIELD] === 'string' ? body[CSRF_FIELD] : undefined) ?? request.headers['x-csrf-token'];
    if (!seed || typeof sent !== 'string' || !safeEqual(sent, csrfFor(options.secret, seed))) {
      throw appError(
        'FORBIDDEN',
        'The form has expired or did not come from this site; reload the page and try again',
        { reason: 'CSRF' },
      );
    }
  });
}

/** Sets the session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS). */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  options: WebOptions,
  token: string,
): void {
  void reply.setCookie(options.sessionCookie, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecure(request),
    signed: true,
    maxAge: options.sessionTtlSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply, options: WebOptions): void {
  void reply.clearCookie(options.sessionCookie, { path: '/' });
}

/** The session token from the signed cookie, or null. */
export function readSessionCookie(request: FastifyRequest, options: WebOptions): string | null {
  const raw = request.cookies[options.sessionCookie];
  if (!raw) return null;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid ? unsigned.value : null;
}

/**
 * A Liquid engine over theme folders: the first root that has a template wins, so a
 * user theme overrides any template of the default one (DESIGN §8). Auto-escaping on;
 * render limits bound what an admin-authored template can cost.
 */
export function createViews(roots: string[]): Liquid {
  return new Liquid({
    root: roots,
    partials: roots.map((r) => join(r, 'partials')),
    layouts: roots.map((r) => join(r, 'layouts')),
    extname: '.liquid',
    outputEscape: 'escape',
    cache: true,
    strictFilters: true,
    renderLimit: 2_000,
    parseLimit: 1_000_000,
    memoryLimit: 64 * 1024 * 1024,
  });
}

/** Serves Bootstrap and Chart.js from node_modules and a theme's assets, all locally. */
export async function registerAssets(app: FastifyInstance, themeAssetDirs: string[]): Promise<void> {
  const vendor = [
    { prefix: '/assets/vendor/bootstrap/', dir: join(PROJECT_ROOT, 'node_modules', 'bootstrap', 'dist') },
    { prefix: '/assets/vendor/chart.js/', dir: join(PROJECT_ROOT, 'node_modules', 'chart.js', 'dist') },
  ];
  let decorated = false;
  for (const { prefix, dir } of vendor) {
    await app.register(fastifyStatic, { root: dir, prefix, decorateReply: !decorated, maxAge: 86_400_000 });
    decorated = true;
  }
  const themeDirs = themeAssetDirs.filter((d) => existsSync(d));
  if (themeDirs.length > 0) {
    await app.register(fastifyStatic, {
      root: themeDirs,
      prefix: '/assets/theme/',
      decorateReply: false,
      maxAge: 3_600_000,
    });
  }
}
