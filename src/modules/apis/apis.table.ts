import { fromDbBool } from '../../platform/db/index.js';

export interface ApisTable {
  id: string;
  name: string;
  slug: string;
  listen_path: string;
  target_url: string;
  strip_listen_path: number;
  auth: string;
  key_query_param: string | null;
  rate: number;
  per: number;
  upstream_timeout_ms: number;
  active: number;
  version: number;
  created_at: number;
  updated_at: number;
}

export type ApiAuth = 'key' | 'keyless';

/** An API as the domain sees it. */
export interface Api {
  id: string;
  name: string;
  slug: string;
  listenPath: string;
  targetUrl: string;
  stripListenPath: boolean;
  auth: ApiAuth;
  /** Query parameter that may carry the key; null = header only (the default). */
  keyQueryParam: string | null;
  /** API-wide rate limit across all keys: `rate` per `per` seconds (≤ 0 = none). */
  rate: number;
  per: number;
  upstreamTimeoutMs: number;
  active: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export function apiFromRow(row: ApisTable): Api {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    listenPath: row.listen_path,
    targetUrl: row.target_url,
    stripListenPath: fromDbBool(row.strip_listen_path),
    auth: row.auth === 'keyless' ? 'keyless' : 'key',
    keyQueryParam: row.key_query_param,
    rate: row.rate,
    per: row.per,
    upstreamTimeoutMs: row.upstream_timeout_ms,
    active: fromDbBool(row.active),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
