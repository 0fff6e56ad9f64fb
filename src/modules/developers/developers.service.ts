import { appError, notFound, validationError } from '../../shared/errors.js';
import { checkFieldValues } from '../../shared/fields.js';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { toIso } from '../../shared/time.js';
import { fromDbJson, isUniqueViolation, toDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import { readSettings } from '../content/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import type { DomainEvents } from '../events.js';
import { pageOf } from '../context.js';
import { developersRepository } from './developers.repository.js';
import type {
  DeveloperAdminPatchBody,
  DeveloperProfilePatchBody,
  DeveloperRegisterBody,
  DeveloperResponse,
} from './developers.schemas.js';
import type { DevelopersTable, DeveloperStatus } from './developers.table.js';

export interface Developer {
  id: string;
  email: string;
  fields: Record<string, unknown>;
  status: DeveloperStatus;
  emailVerifiedAt: number | null;
}

export function presentDeveloper(row: DevelopersTable): DeveloperResponse {
  return {
    id: row.id,
    email: row.email,
    fields: fromDbJson<Record<string, unknown>>(row.fields, {}),
    status: row.status,
    email_verified_at: toIso(row.email_verified_at),
    last_login_at: toIso(row.last_login_at),
    created_at: toIso(row.created_at) ?? '',
    updated_at: toIso(row.updated_at) ?? '',
  };
}

function toDeveloper(row: DevelopersTable): Developer {
  return {
    id: row.id,
    email: row.email,
    fields: fromDbJson<Record<string, unknown>>(row.fields, {}),
    status: row.status === 'inactive' || row.status === 'pending' ? row.status : 'active',
    emailVerifiedAt: row.email_verified_at,
  };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

// A fixed hash so that a login for an unknown email costs the same as a wrong password.
let dummyHash: Promise<string> | null = null;

/** `events` (optional) hears `developer.created` after commit (webhooks). */
export function createDevelopersService(ctx: ModuleContext & { sessionTtlHours: number }, events?: DomainEvents) {
  const { db, bus, clock } = ctx;

  async function loadRow(id: string): Promise<DevelopersTable> {
    const row = await developersRepository.findById(db, id);
    if (!row) throw notFound('Developer', id);
    return row;
  }

  return {
    get: async (id: string): Promise<DeveloperResponse> => presentDeveloper(await loadRow(id)),

    async list(opts: {
      cursor?: string;
      limit: number;
      status?: string;
      email?: string;
    }): Promise<Page<DeveloperResponse>> {
      const rows = await developersRepository.list(db, { ...opts, after: opts.cursor, limit: opts.limit + 1 });
      return pageOf(rows, opts.limit, presentDeveloper);
    },

    /** Sign-up with the custom profile fields from portal settings. */
    async register(body: DeveloperRegisterBody): Promise<DeveloperResponse> {
      const settings = await readSettings(db);
      if (!settings.signup_enabled) throw appError('SIGNUP_DISABLED');
      const { values, problems } = checkFieldValues(settings.signup_fields, body.fields, 'fields');
      if (problems.length > 0) throw validationError(problems);
      const now = clock.now();
      const email = body.email.trim();
      const row: DevelopersTable = {
        id: newId('developer', now),
        email,
        email_normalized: normaliseEmail(email),
        password_hash: await hashPassword(body.password),
        fields: toDbJson(values),
        status: settings.email_verification ? 'pending' : 'active',
        email_verified_at: null,
        last_login_at: null,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await developersRepository.insert(tx, row);
          await recordAudit(
            tx,
            { type: 'developer', id: row.id },
            { action: 'developer.created', objectType: 'developer', objectId: row.id, details: {} },
            now,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw appError('EMAIL_TAKEN', 'An account with this email already exists', {
            fields: [{ field: 'email', message: 'is already registered' }],
          });
        }
        throw error;
      }
      const created = presentDeveloper(row);
      events?.emit('developer.created', created);
      return created;
    },

    /** Checks credentials; returns the developer or throws INVALID_CREDENTIALS / ACCOUNT_INACTIVE. */
    async authenticate(email: string, password: string): Promise<Developer> {
      const row = await developersRepository.findByEmail(db, normaliseEmail(email));
      if (!row) {
        dummyHash ??= hashPassword('not-a-real-password');
        await verifyPassword(password, await dummyHash);
        throw appError('INVALID_CREDENTIALS');
      }
      if (!(await verifyPassword(password, row.password_hash))) throw appError('INVALID_CREDENTIALS');
      if (row.status === 'inactive') throw appError('ACCOUNT_INACTIVE', 'This account has been deactivated');
      if (row.status === 'pending') throw appError('ACCOUNT_INACTIVE', 'Confirm your email address first');
      await developersRepository.update(db, row.id, { last_login_at: clock.now() });
      return toDeveloper(row);
    },

    /** Issues an opaque bearer token (only its hash is stored). */
    async createToken(developerId: string, kind: 'api' | 'session'): Promise<string> {
      const now = clock.now();
      const token = `ghd_${randomToken(32)}`;
      await developersRepository.insertToken(db, {
        id: newId('developerToken', now),
        developer_id: developerId,
        kind,
        token_hash: sha256Hex(token),
        expires_at: now + ctx.sessionTtlHours * 3_600_000,
        last_used_at: null,
        created_at: now,
      });
      return token;
    },

    /** The active developer a bearer token belongs to, or null. */
    async fromToken(token: string): Promise<Developer | null> {
      const found = await developersRepository.findToken(db, sha256Hex(token));
      if (!found || (found.expires_at !== null && found.expires_at <= clock.now())) return null;
      const row = await developersRepository.findById(db, found.developer_id);
      if (!row || row.status !== 'active') return null;
      return toDeveloper(row);
    },

    revokeToken: (token: string) => developersRepository.deleteToken(db, sha256Hex(token)),

    async updateProfile(developerId: string, body: DeveloperProfilePatchBody): Promise<DeveloperResponse> {
      const row = await loadRow(developerId);
      const now = clock.now();
      const patch: Partial<DevelopersTable> = { updated_at: now };
      if (body.fields !== undefined) {
        const settings = await readSettings(db);
        const { values, problems } = checkFieldValues(settings.signup_fields, body.fields, 'fields');
        if (problems.length > 0) throw validationError(problems);
        patch.fields = toDbJson(values);
      }
      if (body.password !== undefined) {
        if (!body.current_password || !(await verifyPassword(body.current_password, row.password_hash))) {
          throw validationError([{ field: 'current_password', message: 'is wrong' }]);
        }
        patch.password_hash = await hashPassword(body.password);
      }
      await db.transaction().execute(async (tx) => {
        await developersRepository.update(tx, developerId, patch);
        if (body.password !== undefined) await developersRepository.deleteTokensOf(tx, developerId);
        await recordAudit(
          tx,
          { type: 'developer', id: developerId },
          {
            action: 'developer.profile_updated',
            objectType: 'developer',
            objectId: developerId,
            details: { fields: Object.keys(body).filter((k) => k !== 'current_password') },
          },
          now,
        );
      });
      return presentDeveloper(await loadRow(developerId));
    },

    /** Admin: change status (deactivation stops the developer's keys at once) or fields. */
    async adminUpdate(actor: Actor, id: string, body: DeveloperAdminPatchBody): Promise<DeveloperResponse> {
      await loadRow(id);
      const now = clock.now();
      const patch: Partial<DevelopersTable> = { updated_at: now };
      if (body.status !== undefined) patch.status = body.status;
      if (body.fields !== undefined) {
        const settings = await readSettings(db);
        const { values, problems } = checkFieldValues(settings.signup_fields, body.fields, 'fields');
        if (problems.length > 0) throw validationError(problems);
        patch.fields = toDbJson(values);
      }
      await db.transaction().execute(async (tx) => {
        await developersRepository.update(tx, id, patch);
        if (body.status !== undefined && body.status !== 'active') await developersRepository.deleteTokensOf(tx, id);
        await recordAudit(
          tx,
          actor,
          {
            action: 'developer.updated',
            objectType: 'developer',
            objectId: id,
            details: { fields: Object.keys(body), status: body.status },
          },
          now,
        );
      });
      bus.publish({ topic: 'developers', id });
      return presentDeveloper(await loadRow(id));
    },

    /** Admin: delete a developer with their keys and requests. */
    async remove(actor: Actor, id: string): Promise<void> {
      const row = await loadRow(id);
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('key_requests').where('developer_id', '=', id).execute();
        await tx.deleteFrom('keys').where('developer_id', '=', id).execute();
        await developersRepository.delete(tx, id);
        await recordAudit(
          tx,
          actor,
          { action: 'developer.deleted', objectType: 'developer', objectId: id, details: { email: row.email } },
          now,
        );
      });
      bus.publish({ topic: 'developers', id });
      bus.publish({ topic: 'keys' });
    },
  };
}

export type DevelopersService = ReturnType<typeof createDevelopersService>;
