import type { AccessRight, AllowedUrl, Policy } from './policies.table.js';

/**
 * What a key may do when it holds several policies, merged "most permissively" as
 * Tyk does (DESIGN §3): best rate, highest quota with unlimited winning, the union of
 * access rights and the longest key lifetime. The gateway compiles this once per
 * snapshot; the control plane shows it as the key's current limits.
 */
export interface MergedPolicy {
  /** The active policies that took part, in the order given. Empty = the key grants nothing. */
  policyIds: string[];
  /** `rate` requests per `per` seconds; rate ≤ 0 = no rate limit (then `per` is 0). */
  rate: number;
  per: number;
  /** Requests per `quotaRenewalRate` seconds; quotaMax ≤ 0 = unlimited (then the renewal is 0). */
  quotaMax: number;
  quotaRenewalRate: number;
  /** Seconds a new key lives; 0 = never expires. */
  keyExpiresIn: number;
  /** One entry per API; `allowedUrls` empty = every path and method of that API. */
  accessRights: AccessRight[];
}

/** A policy whose rate is ≤ 0, or whose window is not positive, does not limit. */
function limitsRate(p: Policy): boolean {
  return p.rate > 0 && p.per > 0;
}

/**
 * Merges the active policies among `policies`; inactive ones are ignored.
 *
 * - rate: the highest `rate / per`; a policy without a limit wins outright. On a tie
 *   the larger `rate` (the larger burst) is kept.
 * - quota: the highest `quotaMax`; an unlimited quota (≤ 0) wins outright. On a tie
 *   the shorter renewal period (more requests over time) is kept.
 * - key_expires_in: the longest; 0 (never) wins.
 * - access rights: the union per API. An API granted without `allowed_urls` by any
 *   policy allows every path; otherwise the rules are concatenated, rules with the
 *   same path regex share their methods (an empty method list = any method).
 */
export function mergePolicies(policies: readonly Policy[]): MergedPolicy {
  const active = policies.filter((p) => p.active);
  const merged: MergedPolicy = {
    policyIds: active.map((p) => p.id),
    rate: 0,
    per: 0,
    quotaMax: 0,
    quotaRenewalRate: 0,
    keyExpiresIn: 0,
    accessRights: [],
  };
  if (active.length === 0) return merged;

  // Rate: unlimited wins; otherwise the best ratio.
  if (active.every(limitsRate)) {
    let best = active[0] as Policy;
    for (const p of active) {
      const ratio = p.rate / p.per;
      const bestRatio = best.rate / best.per;
      if (ratio > bestRatio || (ratio === bestRatio && p.rate > best.rate)) best = p;
    }
    merged.rate = best.rate;
    merged.per = best.per;
  }

  // Quota: unlimited wins; otherwise the highest maximum.
  if (active.every((p) => p.quotaMax > 0)) {
    let best = active[0] as Policy;
    for (const p of active) {
      if (p.quotaMax > best.quotaMax || (p.quotaMax === best.quotaMax && p.quotaRenewalRate < best.quotaRenewalRate))
        best = p;
    }
    merged.quotaMax = best.quotaMax;
    merged.quotaRenewalRate = best.quotaRenewalRate;
  }

  // Key lifetime: never expiring wins; otherwise the longest.
  merged.keyExpiresIn = active.some((p) => p.keyExpiresIn <= 0) ? 0 : Math.max(...active.map((p) => p.keyExpiresIn));

  merged.accessRights = mergeAccessRights(active.flatMap((p) => p.accessRights));
  return merged;
}

interface RightBuilder {
  everything: boolean;
  /** path regex → methods (null = any method), in first-seen order. */
  urls: Map<string, Set<string> | null>;
}

function mergeAccessRights(rights: readonly AccessRight[]): AccessRight[] {
  const byApi = new Map<string, RightBuilder>();
  for (const right of rights) {
    let builder = byApi.get(right.apiId);
    if (!builder) {
      builder = { everything: false, urls: new Map() };
      byApi.set(right.apiId, builder);
    }
    if (right.allowedUrls.length === 0) {
      builder.everything = true;
      continue;
    }
    for (const url of right.allowedUrls) {
      const known = builder.urls.get(url.path);
      if (url.methods.length === 0) builder.urls.set(url.path, null);
      else if (known === undefined) builder.urls.set(url.path, new Set(url.methods.map((m) => m.toUpperCase())));
      else if (known !== null) for (const m of url.methods) known.add(m.toUpperCase());
    }
  }
  const out: AccessRight[] = [];
  for (const [apiId, builder] of byApi) {
    const allowedUrls: AllowedUrl[] = builder.everything
      ? []
      : [...builder.urls].map(([path, methods]) => ({ path, methods: methods ? [...methods] : [] }));
    out.push({ apiId, allowedUrls });
  }
  return out;
}
