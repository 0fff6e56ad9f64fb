import { fromDbJson } from '../../platform/db/index.js';

export interface KeysTable {
  id: string;
  developer_id: string | null;
  catalogue_id: string | null;
  name: string;
  policy_ids: string;
  prefix: string | null;
  last4: string | null;
  hash: string | null;
  previous_hash: string | null;
  previous_hash_expires_at: number | null;
  status: string;
  expires_at: number | null;
  last_used_at: number | null;
  meta: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/**
 * The columns the gateway's snapshot needs of a key: loading only these (not the name,
 * meta JSON and bookkeeping) keeps a 100,000-key snapshot build's garbage, and so the
 * process's peak memory, down.
 */
export const GATEWAY_KEY_COLUMNS = [
  'id',
  'developer_id',
  'policy_ids',
  'hash',
  'previous_hash',
  'previous_hash_expires_at',
  'status',
  'expires_at',
] as const;
export type GatewayKeyRow = Pick<KeysTable, (typeof GATEWAY_KEY_COLUMNS)[number]>;

export interface KeyPoliciesTable {
  key_id: string;
  policy_id: string;
}

export type KeyStatus = 'active' | 'inactive' | 'revoked';

export interface Key {
  id: string;
  developerId: string | null;
  catalogueId: string | null;
  name: string;
  policyIds: string[];
  /** Display only: `gh_AbCd`; null until the secret exists (admin-approved, not yet revealed). */
  prefix: string | null;
  last4: string | null;
  /** SHA-256 hex of the secret; the secret itself is never stored. */
  hash: string | null;
  /** The hash of the secret before the last roll, accepted until `previousHashExpiresAt`. */
  previousHash: string | null;
  previousHashExpiresAt: number | null;
  status: KeyStatus;
  expiresAt: number | null;
  lastUsedAt: number | null;
  meta: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export function keyFromRow(row: KeysTable): Key {
  return {
    id: row.id,
    developerId: row.developer_id,
    catalogueId: row.catalogue_id,
    name: row.name,
    policyIds: fromDbJson<string[]>(row.policy_ids, []),
    prefix: row.prefix,
    last4: row.last4,
    hash: row.hash,
    previousHash: row.previous_hash,
    previousHashExpiresAt: row.previous_hash_expires_at,
    status: row.status === 'inactive' || row.status === 'revoked' ? row.status : 'active',
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    meta: fromDbJson<Record<string, unknown>>(row.meta, {}),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
