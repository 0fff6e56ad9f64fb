import { validationError } from '../../shared/errors.js';
import { hashPassword, randomToken, sha256Hex } from '../../shared/crypto.js';
import { newId } from '../../shared/ids.js';
import { fromDbJson } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { ModuleContext } from '../context.js';
import type { Executor } from '../database.js';
import type { AccountTokenPurpose } from './account-tokens.table.js';
import { developersRepository } from './developers.repository.js';
import { normaliseEmail } from './developers.service.js';

export const PASSWORD_RESET_TTL_MS = 60 * 60_000;
export const EMAIL_VERIFICATION_TTL_MS = 48 * 3_600_000;

/** Who an emailed link is for: enough to address the message, nothing more. */
export interface AccountTokenRecipient {
  id: string;
  email: string;
  name: string;
}

export interface IssuedAccountToken {
  developer: AccountTokenRecipient;
  /** The token for the link; shown once, only its hash is stored. */
  token: string;
  expiresAt: number;
}

const INVALID_LINK = 'This link is invalid, was already used or has expired; ask for a new one';

function recipient(row: { id: string; email: string; fields: string }): AccountTokenRecipient {
  const name = fromDbJson<Record<string, unknown>>(row.fields, {}).name;
  return { id: row.id, email: row.email, name: typeof name === 'string' ? name : '' };
}

/**
 * Password reset and email verification (issue 4): single-use tokens that expire.
 * Redeeming one claims it with a conditional update, so two concurrent uses of the
 * same link succeed once.
 */
export function createAccountTokensService(ctx: ModuleContext) {
  const { db, bus, clock } = ctx;

  async function issue(
    tx: Executor,
    developerId: string,
    purpose: AccountTokenPurpose,
    ttlMs: number,
    now: number,
  ): Promise<{ token: string; expiresAt: number }> {
    // A new link replaces older unused ones of the same kind.
    await tx
      .updateTable('developer_account_tokens')
      .set({ used_at: now })
      .where('developer_id', '=', developerId)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .execute();
    const token = `ght_${randomToken(32)}`;
    const expiresAt = now + ttlMs;
    await tx
      .insertInto('developer_account_tokens')
      .values({
        id: newId('developerToken', now),
        developer_id: developerId,
        purpose,
        token_hash: sha256Hex(token),
        expires_at: expiresAt,
        used_at: null,
        created_at: now,
      })
      .execute();
    return { token, expiresAt };
  }

  /** Claims a token: returns its developer id, or throws the same message for every kind of bad link. */
  async function redeem(tx: Executor, token: string, purpose: AccountTokenPurpose, now: number): Promise<string> {
    const row = await tx
      .selectFrom('developer_account_tokens')
      .selectAll()
      .where('token_hash', '=', sha256Hex(token))
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (!row || row.used_at !== null || Number(row.expires_at) <= now)
      throw validationError([{ field: 'token', message: INVALID_LINK }], INVALID_LINK);
    const claimed = await tx
      .updateTable('developer_account_tokens')
      .set({ used_at: now })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1)
      throw validationError([{ field: 'token', message: INVALID_LINK }], INVALID_LINK);
    return row.developer_id;
  }

  return {
    /**
     * Starts a password reset for an email address. Returns null when there is no
     * usable account, and the caller answers the same either way (no enumeration).
     */
    async startPasswordReset(email: string): Promise<IssuedAccountToken | null> {
      const row = await developersRepository.findByEmail(db, normaliseEmail(email));
      if (!row || row.status === 'inactive') return null;
      const now = clock.now();
      const issued = await db
        .transaction()
        .execute((tx) => issue(tx, row.id, 'password_reset', PASSWORD_RESET_TTL_MS, now));
      return { developer: recipient(row), ...issued };
    },

    /** True when the reset link can still be used (to show the form or an error). */
    async isUsable(token: string, purpose: AccountTokenPurpose): Promise<boolean> {
      const row = await db
        .selectFrom('developer_account_tokens')
        .select(['used_at', 'expires_at'])
        .where('token_hash', '=', sha256Hex(token))
        .where('purpose', '=', purpose)
        .executeTakeFirst();
      return !!row && row.used_at === null && Number(row.expires_at) > clock.now();
    },

    /** Sets a new password with a reset token; signs out every session of the account. */
    async resetPassword(token: string, password: string): Promise<AccountTokenRecipient> {
      if (password.length < 8 || password.length > 200)
        throw validationError([{ field: 'password', message: 'must be 8 to 200 characters' }]);
      const passwordHash = await hashPassword(password);
      const now = clock.now();
      const developerId = await db.transaction().execute(async (tx) => {
        const id = await redeem(tx, token, 'password_reset', now);
        await developersRepository.update(tx, id, { password_hash: passwordHash, updated_at: now });
        await developersRepository.deleteTokensOf(tx, id);
        await recordAudit(
          tx,
          { type: 'developer', id },
          { action: 'developer.password_reset', objectType: 'developer', objectId: id, details: {} },
          now,
        );
        return id;
      });
      const row = await developersRepository.findById(db, developerId);
      return row ? recipient(row) : { id: developerId, email: '', name: '' };
    },

    /** A verification link for a newly signed-up (pending) developer. */
    async startEmailVerification(developerId: string): Promise<IssuedAccountToken | null> {
      const row = await developersRepository.findById(db, developerId);
      if (!row || row.email_verified_at !== null) return null;
      const now = clock.now();
      const issued = await db
        .transaction()
        .execute((tx) => issue(tx, row.id, 'email_verification', EMAIL_VERIFICATION_TTL_MS, now));
      return { developer: recipient(row), ...issued };
    },

    /** Confirms the address; a developer pending only on verification becomes active. */
    async verifyEmail(token: string): Promise<AccountTokenRecipient> {
      const now = clock.now();
      const developerId = await db.transaction().execute(async (tx) => {
        const id = await redeem(tx, token, 'email_verification', now);
        const row = await developersRepository.findById(tx, id);
        if (row && row.email_verified_at === null) {
          await developersRepository.update(tx, id, {
            email_verified_at: now,
            updated_at: now,
            ...(row.status === 'pending' ? { status: 'active' } : {}),
          });
          await recordAudit(
            tx,
            { type: 'developer', id },
            { action: 'developer.email_verified', objectType: 'developer', objectId: id, details: {} },
            now,
          );
        }
        return id;
      });
      bus.publish({ topic: 'developers', id: developerId });
      const row = await developersRepository.findById(db, developerId);
      return row ? recipient(row) : { id: developerId, email: '', name: '' };
    },
  };
}

export type AccountTokensService = ReturnType<typeof createAccountTokensService>;
