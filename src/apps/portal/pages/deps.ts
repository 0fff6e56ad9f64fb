import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { PagesService, SettingsService } from '../../../modules/content/index.js';
import type { AccountTokensService } from '../../../modules/developers/index.js';
import type { KeyLimitsService } from '../../../modules/keys/index.js';
import {
  clearSessionCookie,
  readSessionCookie,
  setSessionCookie,
  type WebOptions,
} from '../../../platform/http/index.js';
import type { Mailer, MailMessage } from '../../../platform/mail/index.js';
import type { PortalServices } from '../api.js';
import type { LoginThrottle } from './throttle.js';
import type { PortalViews } from './view.js';

/** Everything the HTML pages use; the same services as the developer JSON API. */
export interface PortalPageDeps {
  services: PortalServices;
  settings: SettingsService;
  pages: PagesService;
  accountTokens: AccountTokensService;
  keyLimits: KeyLimitsService;
  mailer: Mailer;
  views: PortalViews;
  throttle: LoginThrottle;
  web: WebOptions;
  /** Base URL for links in emails (never taken from the request's Host header). */
  publicPortalUrl: () => string;
  logger: Logger;
}

/** Starts a fresh session (a new token every log-in: session rotation) and drops the old one. */
export async function signIn(
  deps: PortalPageDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  developerId: string,
): Promise<void> {
  const previous = readSessionCookie(request, deps.web);
  if (previous) await deps.services.developers.revokeToken(previous);
  const token = await deps.services.developers.createToken(developerId, 'session');
  setSessionCookie(request, reply, deps.web, token);
}

export async function signOut(deps: PortalPageDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const token = readSessionCookie(request, deps.web);
  if (token) await deps.services.developers.revokeToken(token);
  clearSessionCookie(reply, deps.web);
  request.developer = null;
}

/**
 * Sends an email without failing the page: delivery problems are logged (without the
 * message body), the visitor still gets their answer.
 */
export async function sendMail(
  deps: PortalPageDeps,
  message: Omit<MailMessage, 'data'> & { data: Record<string, unknown> },
): Promise<void> {
  const settings = await deps.views.settings();
  try {
    await deps.mailer.send({
      ...message,
      data: { site_name: settings.site_name, portal_url: deps.publicPortalUrl(), ...message.data },
    });
  } catch (error) {
    deps.logger.error({ err: error, template: message.template }, 'email could not be sent');
  }
}

/** preHandler for pages that need a signed-in developer: others go to the log-in page. */
export async function requireDeveloper(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.developer) return;
  const next = request.method === 'GET' ? request.url : '/dashboard';
  await reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
}
