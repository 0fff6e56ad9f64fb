import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminsService, AdminUser, AdminRoleName } from '../../modules/admins/index.js';
import { roleAllows } from '../../modules/admins/index.js';
import type { ApisService } from '../../modules/apis/index.js';
import type { CatalogueService } from '../../modules/catalogue/index.js';
import type { SettingsService } from '../../modules/content/index.js';
import type { Actor, ModuleContext } from '../../modules/context.js';
import type { DevelopersService } from '../../modules/developers/index.js';
import type { DocsService } from '../../modules/docs/index.js';
import type { KeyRequestsService } from '../../modules/key-requests/index.js';
import type { KeyLimitsService, KeysService } from '../../modules/keys/index.js';
import type { PoliciesService } from '../../modules/policies/index.js';
import type { WebhooksService } from '../../modules/webhooks/index.js';
import { appError } from '../../shared/errors.js';

export interface AdminServices {
  ctx: ModuleContext;
  admins: AdminsService;
  apis: ApisService;
  policies: PoliciesService;
  catalogue: CatalogueService;
  docs: DocsService;
  developers: DevelopersService;
  keyRequests: KeyRequestsService;
  keys: KeysService;
  settings: SettingsService;
  keyLimits: KeyLimitsService;
  webhooks: WebhooksService;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminUser | null;
  }
}

export function actorOf(request: FastifyRequest): Actor {
  return { type: 'admin', id: request.admin?.id ?? null };
}

/**
 * Route `onRequest` hook: a signed-in admin with at least `role`; checked on the server for
 * every action, before the body is read or validated (so a viewer learns nothing from a 400).
 */
export function requireRole(role: AdminRoleName) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!request.admin) throw appError('UNAUTHENTICATED', 'Send Authorization: Bearer <admin token>');
    if (!roleAllows(request.admin.role, role))
      throw appError('FORBIDDEN', `This needs the ${role} role; you are ${request.admin.role}`);
  };
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}
