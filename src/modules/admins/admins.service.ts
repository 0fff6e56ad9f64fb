import { appError, notFound } from '../../shared/errors.js';
import { hashPassword, randomBase62, randomToken, sha256Hex, verifyPassword } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { toIso } from '../../shared/time.js';
import { isUniqueViolation } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext } from '../context.js';
import type { AdminRole, AdminUsersTable } from './admins.table.js';
import type { AdminCreateBody, AdminResponse } from './admins.schemas.js';

export interface AdminUser {
  id: string;
  email: string;
  name: string;
  role: AdminRole;
}

const ROLE_RANK: Record<AdminRole, number> = { viewer: 0, admin: 1, owner: 2 };

/** True when `role` may do what `needed` may. */
export function roleAllows(role: AdminRole, needed: AdminRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

function toAdmin(row: AdminUsersTable): AdminUser {
  const role: AdminRole = row.role === 'owner' || row.role === 'viewer' ? row.role : 'admin';
  return { id: row.id, email: row.email, name: row.name, role };
}

export function presentAdmin(row: AdminUsersTable): AdminResponse {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    last_login_at: toIso(row.last_login_at),
    created_at: toIso(row.created_at) ?? '',
  };
}

let dummyHash: Promise<string> | null = null;

export function createAdminsService(ctx: ModuleContext & { sessionTtlHours: number }) {
  const { db, clock } = ctx;

  async function insertAdmin(actor: Actor, body: AdminCreateBody): Promise<AdminResponse> {
    const now = clock.now();
    const row: AdminUsersTable = {
      id: newId('admin', now),
      email: body.email.trim(),
      email_normalized: body.email.trim().toLowerCase(),
      name: body.name ?? '',
      password_hash: await hashPassword(body.password),
      role: body.role,
      status: 'active',
      last_login_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('admin_users').values(row).execute();
        await recordAudit(
          tx,
          actor,
          {
            action: 'admin.created',
            objectType: 'admin',
            objectId: row.id,
            details: { email: row.email, role: row.role },
          },
          now,
        );
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw appError('EMAIL_TAKEN', 'An admin with this email already exists', {
          fields: [{ field: 'email', message: 'is already used' }],
        });
      throw error;
    }
    return presentAdmin(row);
  }

  return {
    create: insertAdmin,

    async count(): Promise<number> {
      const row = await db
        .selectFrom('admin_users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /**
     * First boot: create the owner from the given credentials, or with a generated
     * password that is returned (to print once). No-op when any admin exists.
     */
    async ensureFirstOwner(
      email: string | undefined,
      password: string | undefined,
    ): Promise<{ created: boolean; email?: string; generatedPassword?: string }> {
      if ((await this.count()) > 0) return { created: false };
      const generated = password ? undefined : randomBase62(20);
      const mail = email ?? 'admin@gatehouse.local';
      try {
        await insertAdmin(
          { type: 'system', id: null },
          { email: mail, password: password ?? generated ?? '', role: 'owner', name: 'Owner' },
        );
      } catch (error) {
        // Another node created it at the same moment.
        if ((error as { code?: string }).code === 'EMAIL_TAKEN') return { created: false };
        throw error;
      }
      return { created: true, email: mail, generatedPassword: generated };
    },

    async list(): Promise<AdminResponse[]> {
      const rows = await db.selectFrom('admin_users').selectAll().orderBy('id').execute();
      return rows.map(presentAdmin);
    },

    async authenticate(email: string, password: string): Promise<AdminUser> {
      const row = await db
        .selectFrom('admin_users')
        .selectAll()
        .where('email_normalized', '=', email.trim().toLowerCase())
        .executeTakeFirst();
      if (!row) {
        dummyHash ??= hashPassword('not-a-real-password');
        await verifyPassword(password, await dummyHash);
        throw appError('INVALID_CREDENTIALS');
      }
      if (!(await verifyPassword(password, row.password_hash))) throw appError('INVALID_CREDENTIALS');
      if (row.status !== 'active') throw appError('ACCOUNT_INACTIVE');
      await db.updateTable('admin_users').set({ last_login_at: clock.now() }).where('id', '=', row.id).execute();
      return toAdmin(row);
    },

    /** A bearer token; only its SHA-256 is stored, its first characters kept to list it by. */
    async createToken(
      adminId: string,
      kind: 'session' | 'api',
      name: string,
      ttlMs: number | null,
    ): Promise<{ id: string; token: string; prefix: string }> {
      const now = clock.now();
      const token = `gha_${randomToken(32)}`;
      const id = newId('adminToken', now);
      const prefix = token.slice(0, 10);
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('admin_tokens')
          .values({
            id,
            admin_id: adminId,
            name,
            kind,
            prefix,
            token_hash: sha256Hex(token),
            expires_at: ttlMs === null ? null : now + ttlMs,
            last_used_at: null,
            revoked_at: null,
            created_at: now,
          })
          .execute();
        // Personal API tokens are credentials that outlive a session: audited (sessions are not).
        if (kind === 'api')
          await recordAudit(
            tx,
            { type: 'admin', id: adminId },
            { action: 'admin_token.created', objectType: 'admin_token', objectId: id, details: { name, prefix } },
            now,
          );
      });
      return { id, token, prefix };
    },

    sessionTtlMs: () => ctx.sessionTtlHours * 3_600_000,

    async fromToken(token: string): Promise<AdminUser | null> {
      const found = await db
        .selectFrom('admin_tokens')
        .innerJoin('admin_users', 'admin_users.id', 'admin_tokens.admin_id')
        .selectAll('admin_users')
        .select(['admin_tokens.expires_at as token_expires_at', 'admin_tokens.revoked_at as token_revoked_at'])
        .where('admin_tokens.token_hash', '=', sha256Hex(token))
        .executeTakeFirst();
      if (!found || found.token_revoked_at !== null || found.status !== 'active') return null;
      if (found.token_expires_at !== null && found.token_expires_at <= clock.now()) return null;
      return toAdmin(found);
    },

    async revokeTokenValue(token: string): Promise<void> {
      await db
        .updateTable('admin_tokens')
        .set({ revoked_at: clock.now() })
        .where('token_hash', '=', sha256Hex(token))
        .execute();
    },

    /** An admin's live personal API tokens (listed by prefix; the token itself is never shown again). */
    async listTokens(adminId: string): Promise<
      {
        id: string;
        name: string;
        prefix: string;
        expires_at: string | null;
        last_used_at: string | null;
        created_at: string;
      }[]
    > {
      const rows = await db
        .selectFrom('admin_tokens')
        .selectAll()
        .where('admin_id', '=', adminId)
        .where('kind', '=', 'api')
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', clock.now())]))
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        expires_at: toIso(r.expires_at),
        last_used_at: toIso(r.last_used_at),
        created_at: toIso(r.created_at) ?? '',
      }));
    },

    /** Changes one's own password (the current one is required) and ends every other session and token-less login. */
    async changePassword(adminId: string, current: string, next: string): Promise<void> {
      const row = await db.selectFrom('admin_users').selectAll().where('id', '=', adminId).executeTakeFirst();
      if (!row) throw notFound('Admin', adminId);
      if (!(await verifyPassword(current, row.password_hash)))
        throw appError('VALIDATION_FAILED', 'The current password is wrong', {
          fields: [{ field: 'current_password', message: 'is wrong' }],
        });
      if (next.length < 8 || next.length > 200)
        throw appError('VALIDATION_FAILED', 'The new password must have 8 to 200 characters', {
          fields: [{ field: 'password', message: 'must have 8 to 200 characters' }],
        });
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('admin_users')
          .set({ password_hash: await hashPassword(next), updated_at: now })
          .where('id', '=', adminId)
          .execute();
        await tx
          .updateTable('admin_tokens')
          .set({ revoked_at: now })
          .where('admin_id', '=', adminId)
          .where('kind', '=', 'session')
          .where('revoked_at', 'is', null)
          .execute();
        await recordAudit(
          tx,
          { type: 'admin', id: adminId },
          { action: 'admin.password_changed', objectType: 'admin', objectId: adminId, details: {} },
          now,
        );
      });
    },

    /**
     * Owner changes another admin's role or status. The last active owner cannot be
     * demoted or deactivated; deactivating ends the admin's sessions and tokens.
     */
    async update(
      actor: Actor,
      id: string,
      patch: { role?: AdminRole; status?: 'active' | 'inactive'; name?: string },
    ): Promise<AdminResponse> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) throw notFound('Admin', id);
        const losesOwner =
          row.role === 'owner' &&
          row.status === 'active' &&
          ((patch.role !== undefined && patch.role !== 'owner') || patch.status === 'inactive');
        if (losesOwner) {
          const owners = await tx
            .selectFrom('admin_users')
            .select('id')
            .where('role', '=', 'owner')
            .where('status', '=', 'active')
            .execute();
          if (owners.length <= 1)
            throw appError('INVALID_STATE', 'This is the last active owner; make someone else owner first');
        }
        const set: Partial<AdminUsersTable> = { updated_at: now };
        if (patch.role !== undefined) set.role = patch.role;
        if (patch.status !== undefined) set.status = patch.status;
        if (patch.name !== undefined) set.name = patch.name;
        await tx.updateTable('admin_users').set(set).where('id', '=', id).execute();
        if (patch.status === 'inactive')
          await tx
            .updateTable('admin_tokens')
            .set({ revoked_at: now })
            .where('admin_id', '=', id)
            .where('revoked_at', 'is', null)
            .execute();
        await recordAudit(
          tx,
          actor,
          {
            action: 'admin.updated',
            objectType: 'admin',
            objectId: id,
            details: { role: patch.role, status: patch.status },
          },
          now,
        );
      });
      const row = await db.selectFrom('admin_users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return presentAdmin(row);
    },

    async revokeToken(adminId: string, tokenId: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const changed = await tx
          .updateTable('admin_tokens')
          .set({ revoked_at: now })
          .where('id', '=', tokenId)
          .where('admin_id', '=', adminId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (Number(changed.numUpdatedRows) !== 1) throw notFound('Token', tokenId);
        await recordAudit(
          tx,
          { type: 'admin', id: adminId },
          { action: 'admin_token.revoked', objectType: 'admin_token', objectId: tokenId, details: {} },
          now,
        );
      });
    },
  };
}

export type AdminsService = ReturnType<typeof createAdminsService>;
