import { toIso } from '../../shared/time.js';
import type { Key } from './keys.table.js';
import type { KeyResponse } from './keys.schemas.js';

/** A key on the wire. Never the hash; the secret only when `secret` is passed (creation or roll). */
export function presentKey(key: Key, secret?: string): KeyResponse {
  const out: KeyResponse = {
    id: key.id,
    name: key.name,
    developer_id: key.developerId,
    catalogue_id: key.catalogueId,
    policy_ids: key.policyIds,
    prefix: key.prefix,
    last4: key.last4,
    status: key.status,
    has_secret: key.hash !== null,
    expires_at: toIso(key.expiresAt),
    last_used_at: toIso(key.lastUsedAt),
    version: key.version,
    created_at: toIso(key.createdAt) ?? '',
    updated_at: toIso(key.updatedAt) ?? '',
  };
  if (secret !== undefined) out.secret = secret;
  return out;
}
