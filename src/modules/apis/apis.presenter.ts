import { toIso } from '../../shared/time.js';
import type { Api } from './apis.table.js';
import type { ApiResponse } from './apis.schemas.js';

export function presentApi(api: Api): ApiResponse {
  return {
    id: api.id,
    name: api.name,
    slug: api.slug,
    listen_path: api.listenPath,
    target_url: api.targetUrl,
    strip_listen_path: api.stripListenPath,
    auth: api.auth,
    key_query_param: api.keyQueryParam,
    rate: api.rate,
    per: api.per,
    upstream_timeout_ms: api.upstreamTimeoutMs,
    active: api.active,
    version: api.version,
    created_at: toIso(api.createdAt) ?? '',
    updated_at: toIso(api.updatedAt) ?? '',
  };
}
