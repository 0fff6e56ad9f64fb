import type { Db } from '../../modules/database.js';
import { apiFromRow, apisRepository, type Api } from '../../modules/apis/index.js';
import { developersRepository } from '../../modules/developers/index.js';
import {
  apiRateLimit,
  keyQuotaLimit,
  keyRateLimit,
  keysRepository,
  type GatewayKeyRow,
} from '../../modules/keys/index.js';
import { fromDbJson } from '../../platform/db/index.js';
import {
  mergePolicies,
  policiesRepository,
  policyFromRow,
  type MergedPolicy,
  type Policy,
} from '../../modules/policies/index.js';
import type { QuotaLimit, RateLimit } from '../../platform/kv/counters.js';

/**
 * The gateway's compiled, immutable view of the configuration (DESIGN §7). Built from
 * the repositories in one go, swapped atomically, and read on every request without
 * touching the database. Everything a request needs is pre-computed here: route
 * prefixes, upstream origins, counter keys, regexes.
 */

/** One routed API. */
export interface CompiledRoute {
  api: Api;
  /** Listen path without its trailing slash (`/petstore`); '' for the root listen path `/`. */
  prefix: string;
  keyless: boolean;
  keyQueryParam: string | null;
  stripListenPath: boolean;
  /** `http://host:port` of the upstream: one undici Pool each. */
  origin: string;
  /** Path of the target URL without a trailing slash ('' for `/`). */
  basePath: string;
  /** Headers and body timeout of upstream calls. */
  timeoutMs: number;
  /** The API-wide limit as the admit() argument for keyless calls: `[apiRate]` or `[]`. */
  keylessRates: readonly RateLimit[];
}

export interface CompiledRule {
  /** Anchored on the path after the listen path. */
  re: RegExp;
  /** Upper-case methods; null = any. */
  methods: ReadonlySet<string> | null;
}

/** What a key may do on one API. */
export interface CompiledRight {
  /** Null = every path and method. */
  rules: readonly CompiledRule[] | null;
  /** admit() arguments, pre-built per key and API: the key's rate limit, then the API-wide one. */
  rates: readonly RateLimit[];
  quota: QuotaLimit | null;
  /** Index in `rates` whose state the X-RateLimit headers show on success (-1 = none). */
  headerRate: number;
}

export interface KeyGrant {
  keyId: string;
  /** '' for keys without a developer. */
  developerId: string;
  status: 'active' | 'inactive' | 'revoked';
  /** False when the key's developer is not active (their keys are refused). */
  developerActive: boolean;
  /** Epoch ms; null = never. */
  expiresAt: number | null;
  merged: MergedPolicy;
  /** By API id; an API absent here is forbidden (default deny). */
  rights: ReadonlyMap<string, CompiledRight>;
  /** `X-Quota-Reset` when no quota period is running: the period length in seconds. */
  quotaPeriodSeconds: number;
}

/** A secret's hash points here: the current hash forever, a rolled-out one until its grace ends. */
export interface KeyEntry {
  grant: KeyGrant;
  /** Epoch ms after which this hash is refused (Infinity for the current hash). */
  validUntil: number;
}

export interface Snapshot {
  version: number;
  builtAt: number;
  /** By prefix, for the segment-by-segment longest-prefix lookup. */
  routes: ReadonlyMap<string, CompiledRoute>;
  rootRoute: CompiledRoute | null;
  /** Length of the longest prefix: longer path prefixes are never looked up. */
  maxPrefixLength: number;
  keys: ReadonlyMap<string, KeyEntry>;
  /** Origins routed by this snapshot (the others' pools can close). */
  origins: ReadonlySet<string>;
  /** Kept for grants compiled after the build (fallback look-ups). */
  policies: ReadonlyMap<string, Policy>;
  apis: ReadonlyMap<string, CompiledRoute>;
  inactiveDevelopers: ReadonlySet<string>;
  /** Merged, compiled access rules per sorted policy-id set, shared by keys with the same policies. */
  ruleCache: Map<string, { merged: MergedPolicy; rules: Map<string, readonly CompiledRule[] | null> }>;
}

export interface SnapshotSource {
  apis: Api[];
  policies: Policy[];
  keys: GatewayKeyRow[];
  inactiveDeveloperIds: string[];
}

export interface CompileOptions {
  /** Used when an API has no positive upstream timeout of its own. */
  defaultTimeoutMs: number;
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

/** Reads everything a snapshot needs: four queries, none per key. */
export async function loadSnapshotSource(db: Db): Promise<SnapshotSource> {
  const [apis, policies, keys, inactiveDeveloperIds] = await Promise.all([
    apisRepository.listAll(db),
    policiesRepository.listAll(db),
    keysRepository.listLive(db),
    developersRepository.listNotActiveIds(db),
  ]);
  return { apis: apis.map(apiFromRow), policies: policies.map(policyFromRow), keys, inactiveDeveloperIds };
}

/** `/petstore/` → `/petstore`; `/` → ''. */
export function listenPrefix(listenPath: string): string {
  let end = listenPath.length;
  while (end > 0 && listenPath.charCodeAt(end - 1) === 0x2f) end--;
  const trimmed = listenPath.slice(0, end);
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function compileRoute(api: Api, options: CompileOptions): CompiledRoute | null {
  let target: URL;
  try {
    target = new URL(api.targetUrl);
  } catch {
    options.onWarning?.('API has an invalid target URL; not routed', { api_id: api.id });
    return null;
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    options.onWarning?.('API target is not http(s); not routed', { api_id: api.id });
    return null;
  }
  const apiRate = apiRateLimit(api);
  return {
    api,
    prefix: listenPrefix(api.listenPath),
    keyless: api.auth === 'keyless',
    keyQueryParam: api.keyQueryParam && api.keyQueryParam !== '' ? api.keyQueryParam : null,
    stripListenPath: api.stripListenPath,
    origin: target.origin,
    basePath: target.pathname.replace(/\/+$/, ''),
    timeoutMs: api.upstreamTimeoutMs > 0 ? api.upstreamTimeoutMs : options.defaultTimeoutMs,
    keylessRates: apiRate ? [apiRate] : [],
  };
}

/**
 * `allowed_urls[].path` is a regex on the path after the listen path, which starts
 * with `/`. It is anchored at both ends; a pattern written without its leading slash
 * (`pets/\d+`) gets an optional one, so both spellings behave the same.
 */
export function compileAllowedPath(pattern: string): RegExp {
  let body = pattern;
  if (body.startsWith('^')) body = body.slice(1);
  if (body.endsWith('$') && !body.endsWith('\\$')) body = body.slice(0, -1);
  const lead = body.startsWith('/') ? '' : '/?';
  return new RegExp(`^${lead}(?:${body})$`);
}

function compileRules(merged: MergedPolicy, options: CompileOptions): Map<string, readonly CompiledRule[] | null> {
  const out = new Map<string, readonly CompiledRule[] | null>();
  for (const right of merged.accessRights) {
    if (right.allowedUrls.length === 0) {
      out.set(right.apiId, null);
      continue;
    }
    const rules: CompiledRule[] = [];
    for (const url of right.allowedUrls) {
      try {
        rules.push({
          re: compileAllowedPath(url.path),
          methods: url.methods.length === 0 ? null : new Set(url.methods.map((m) => m.toUpperCase())),
        });
      } catch {
        // An invalid pattern allows nothing (the control plane validates; this is belt and braces).
        options.onWarning?.('allowed_urls path is not a valid regex; ignored', { api_id: right.apiId, path: url.path });
      }
    }
    out.set(right.apiId, rules);
  }
  return out;
}

/**
 * A key's grant. What a request needs from it is pre-computed, but the per-key part of
 * `rights` (the key's own rate-limit and quota counter keys, one Map per key) is built
 * on the key's first request, not for every key at every rebuild: with 100,000 keys
 * loaded that was ≈ 0.45 KB a key (+126 MB RSS for 100k keys before, see
 * test/integration/gateway-keys-scale.test.ts), for keys most of which send nothing
 * before the next rebuild. After that first request the grant allocates nothing.
 */
class CompiledGrant implements KeyGrant {
  private compiledRights: ReadonlyMap<string, CompiledRight> | null = null;

  constructor(
    readonly keyId: string,
    readonly developerId: string,
    readonly status: KeyGrant['status'],
    readonly developerActive: boolean,
    readonly expiresAt: number | null,
    readonly merged: MergedPolicy,
    readonly quotaPeriodSeconds: number,
    private readonly rules: ReadonlyMap<string, readonly CompiledRule[] | null>,
    private readonly apis: ReadonlyMap<string, CompiledRoute>,
  ) {}

  get rights(): ReadonlyMap<string, CompiledRight> {
    return (this.compiledRights ??= compileRights(this.keyId, this.merged, this.rules, this.apis));
  }
}

function compileRights(
  keyId: string,
  merged: MergedPolicy,
  rules: ReadonlyMap<string, readonly CompiledRule[] | null>,
  apis: ReadonlyMap<string, CompiledRoute>,
): ReadonlyMap<string, CompiledRight> {
  const keyRate = keyRateLimit(keyId, merged);
  const quota = keyQuotaLimit(keyId, merged);
  const rights = new Map<string, CompiledRight>();
  for (const [apiId, apiRules] of rules) {
    const route = apis.get(apiId);
    if (!route) continue; // unknown or inactive API: nothing to grant
    const apiRate = route.keylessRates[0];
    const rates: RateLimit[] = [];
    if (keyRate) rates.push(keyRate);
    if (apiRate) rates.push(apiRate);
    rights.set(apiId, { rules: apiRules, rates, quota, headerRate: rates.length > 0 ? 0 : -1 });
  }
  return rights;
}

/** Status values as the shared literals, not one driver string per row. */
function keyStatus(status: string): KeyGrant['status'] {
  return status === 'inactive' ? 'inactive' : status === 'revoked' ? 'revoked' : 'active';
}

/** Compiles one key row into its grant, using the snapshot's policies, APIs and developers. */
export function compileGrant(
  row: GatewayKeyRow,
  snapshot: Pick<Snapshot, 'policies' | 'apis' | 'inactiveDevelopers' | 'ruleCache'>,
  options: CompileOptions,
): KeyGrant {
  const developerId = row.developer_id;
  const policyIds = [...new Set(fromDbJson<string[]>(row.policy_ids, []))].sort();
  const cacheKey = policyIds.join(',');
  let shared = snapshot.ruleCache.get(cacheKey);
  if (!shared) {
    const policies = policyIds.map((id) => snapshot.policies.get(id)).filter((p): p is Policy => p !== undefined);
    const merged = mergePolicies(policies);
    shared = { merged, rules: compileRules(merged, options) };
    snapshot.ruleCache.set(cacheKey, shared);
  }
  const { merged } = shared;
  const quota = keyQuotaLimit(row.id, merged);
  return new CompiledGrant(
    row.id,
    developerId ?? '',
    keyStatus(row.status),
    developerId === null || !snapshot.inactiveDevelopers.has(developerId),
    row.expires_at,
    merged,
    quota ? Math.ceil(quota.periodMs / 1000) : 0,
    shared.rules,
    snapshot.apis,
  );
}

/** Turns a key row found by hash into the entry for that hash (null when the hash no longer admits). */
export function entryFor(row: GatewayKeyRow, hash: string, grant: KeyGrant): KeyEntry | null {
  if (row.hash === hash) return { grant, validUntil: Infinity };
  if (row.previous_hash === hash && row.previous_hash_expires_at !== null)
    return { grant, validUntil: row.previous_hash_expires_at };
  return null;
}

/** Builds a snapshot from loaded rows. Pure apart from the warnings callback. */
export function compileSnapshot(
  source: SnapshotSource,
  version: number,
  now: number,
  options: CompileOptions,
): Snapshot {
  const routes = new Map<string, CompiledRoute>();
  const apis = new Map<string, CompiledRoute>();
  const origins = new Set<string>();
  let rootRoute: CompiledRoute | null = null;
  let maxPrefixLength = 0;
  for (const api of source.apis) {
    if (!api.active) continue; // inactive APIs are not routed: 404 API_NOT_FOUND
    const route = compileRoute(api, options);
    if (!route) continue;
    if (route.prefix === '') {
      if (rootRoute) options.onWarning?.('two APIs share the root listen path; the first wins', { api_id: api.id });
      else rootRoute = route;
    } else if (routes.has(route.prefix)) {
      options.onWarning?.('two APIs share a listen path; the first wins', {
        api_id: api.id,
        listen_path: api.listenPath,
      });
      continue;
    } else {
      routes.set(route.prefix, route);
      maxPrefixLength = Math.max(maxPrefixLength, route.prefix.length);
    }
    apis.set(api.id, route);
    origins.add(route.origin);
  }

  const snapshot: Snapshot = {
    version,
    builtAt: now,
    routes,
    rootRoute,
    maxPrefixLength,
    keys: new Map(),
    origins,
    policies: new Map(source.policies.map((p) => [p.id, p])),
    apis,
    inactiveDevelopers: new Set(source.inactiveDeveloperIds),
    ruleCache: new Map(),
  };
  const keys = snapshot.keys as Map<string, KeyEntry>;
  for (const row of source.keys) {
    if (row.hash === null) continue;
    const grant = compileGrant(row, snapshot, options);
    keys.set(row.hash, { grant, validUntil: Infinity });
    if (row.previous_hash !== null && row.previous_hash_expires_at !== null && row.previous_hash_expires_at > now) {
      keys.set(row.previous_hash, { grant, validUntil: row.previous_hash_expires_at });
    }
  }
  return snapshot;
}

/**
 * Longest listen-path prefix on a segment boundary: `/petstore` matches `/petstore`
 * and `/petstore/x`, never `/petstorex`. Looks up each boundary of the path from the
 * longest, in a Map, starting no longer than the longest prefix — O(segments), not
 * O(routes), and bounded for absurdly deep paths.
 */
export function matchRoute(snapshot: Snapshot, path: string): CompiledRoute | null {
  const routes = snapshot.routes;
  if (routes.size > 0) {
    let end = path.length;
    if (end > snapshot.maxPrefixLength) end = path.lastIndexOf('/', snapshot.maxPrefixLength);
    while (end > 0) {
      // One Map lookup per segment boundary; V8 makes longer slices views of the path, not copies.
      const route = routes.get(end === path.length ? path : path.slice(0, end));
      if (route) return route;
      end = path.lastIndexOf('/', end - 1);
    }
  }
  return snapshot.rootRoute;
}
