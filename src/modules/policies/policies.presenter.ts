import { toIso } from '../../shared/time.js';
import type { Policy } from './policies.table.js';
import type { PolicyResponse } from './policies.schemas.js';

export function presentPolicy(policy: Policy): PolicyResponse {
  return {
    id: policy.id,
    name: policy.name,
    rate: policy.rate,
    per: policy.per,
    quota_max: policy.quotaMax,
    quota_renewal_rate: policy.quotaRenewalRate,
    key_expires_in: policy.keyExpiresIn,
    access_rights: policy.accessRights.map((r) => ({
      api_id: r.apiId,
      allowed_urls: r.allowedUrls.map((u) => ({ path: u.path, methods: u.methods })),
    })),
    active: policy.active,
    tags: policy.tags,
    version: policy.version,
    created_at: toIso(policy.createdAt) ?? '',
    updated_at: toIso(policy.updatedAt) ?? '',
  };
}

/** A count as people read it, with thousands separators: "10,000". */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** "100 requests per minute", "10,000 requests per month" — plain words for the portal. */
export function describeRate(count: number, seconds: number): string {
  if (count <= 0) return 'unlimited';
  const units: [number, string][] = [
    [31_536_000, 'year'],
    [2_592_000, 'month'],
    [604_800, 'week'],
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const n = formatCount(count);
  for (const [size, name] of units) {
    if (seconds === size) return `${n} request${count === 1 ? '' : 's'} per ${name}`;
    if (seconds % size === 0 && seconds / size > 1)
      return `${n} request${count === 1 ? '' : 's'} per ${seconds / size} ${name}s`;
  }
  return `${n} request${count === 1 ? '' : 's'} per ${seconds} seconds`;
}
