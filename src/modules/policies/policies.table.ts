import { fromDbBool, fromDbJson } from '../../platform/db/index.js';

export interface PoliciesTable {
  id: string;
  name: string;
  rate: number;
  per: number;
  quota_max: number;
  quota_renewal_rate: number;
  key_expires_in: number;
  access_rights: string;
  active: number;
  tags: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface PolicyApisTable {
  policy_id: string;
  api_id: string;
}

export interface AllowedUrl {
  /** A regular expression matched against the path after the listen path. */
  path: string;
  /** Upper-case HTTP methods; empty = any. */
  methods: string[];
}

export interface AccessRight {
  apiId: string;
  /** Absent or empty = every path and method of the API. */
  allowedUrls: AllowedUrl[];
}

export interface Policy {
  id: string;
  name: string;
  /** `rate` requests per `per` seconds; rate ≤ 0 = no limit. */
  rate: number;
  per: number;
  /** Requests per `quotaRenewalRate` seconds; ≤ 0 = unlimited. */
  quotaMax: number;
  quotaRenewalRate: number;
  /** Seconds a new key lives; 0 = never expires. */
  keyExpiresIn: number;
  accessRights: AccessRight[];
  active: boolean;
  tags: string[];
  version: number;
  createdAt: number;
  updatedAt: number;
}

interface StoredAccessRight {
  api_id: string;
  allowed_urls?: AllowedUrl[];
}

export function policyFromRow(row: PoliciesTable): Policy {
  const rights = fromDbJson<StoredAccessRight[]>(row.access_rights, []);
  return {
    id: row.id,
    name: row.name,
    rate: row.rate,
    per: row.per,
    quotaMax: row.quota_max,
    quotaRenewalRate: row.quota_renewal_rate,
    keyExpiresIn: row.key_expires_in,
    accessRights: rights.map((r) => ({ apiId: r.api_id, allowedUrls: r.allowed_urls ?? [] })),
    active: fromDbBool(row.active),
    tags: fromDbJson<string[]>(row.tags, []),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function accessRightsToDb(rights: AccessRight[]): StoredAccessRight[] {
  return rights.map((r) => ({ api_id: r.apiId, allowed_urls: r.allowedUrls }));
}
