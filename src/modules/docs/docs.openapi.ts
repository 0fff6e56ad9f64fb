/** Light helpers over a normalised OpenAPI 3 document (no parser libraries loaded). */

export interface SpecSummary {
  openapi_version: string;
  title: string;
  operations: number;
  paths: number;
  webhooks: number;
}

type Json = Record<string, unknown>;

export const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The security scheme the gateway understands, added to every portal rendering. */
export const GATEWAY_KEY_SCHEME = 'gatehouse_key';
export const GATEWAY_KEY_HEADER = 'X-API-Key';

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Counts operations the way a renderer lists them: one per method under each path, plus webhooks. */
export function summarise(doc: Json): SpecSummary {
  const count = (items: unknown) =>
    isObject(items)
      ? Object.values(items).reduce<number>(
          (n, item) => n + (isObject(item) ? Object.keys(item).filter((k) => HTTP_METHODS.has(k)).length : 0),
          0,
        )
      : 0;
  const info = isObject(doc.info) ? doc.info : {};
  return {
    openapi_version: typeof doc.openapi === 'string' ? doc.openapi : typeof doc.swagger === 'string' ? doc.swagger : '',
    title: typeof info.title === 'string' ? info.title : '',
    operations: count(doc.paths) + count(doc.webhooks),
    paths: isObject(doc.paths) ? Object.keys(doc.paths).length : 0,
    webhooks: count(doc.webhooks),
  };
}

export interface GatewayServer {
  url: string;
  description?: string;
}

/**
 * The document as the portal's console must see it: every call goes through the
 * gateway (servers replaced at document, path and operation level), authenticated with
 * the gateway key in `X-API-Key` instead of whatever the upstream's own scheme was.
 * Webhooks are left alone: the provider calls them, nobody tries them out.
 */
export function forGateway(doc: Json, servers: GatewayServer[], requiresKey: boolean): Json {
  const out: Json = {
    ...doc,
    servers: servers.map((s) => ({ url: s.url, ...(s.description ? { description: s.description } : {}) })),
  };
  const components = isObject(doc.components) ? { ...doc.components } : {};
  if (requiresKey) {
    components.securitySchemes = {
      [GATEWAY_KEY_SCHEME]: {
        type: 'apiKey',
        in: 'header',
        name: GATEWAY_KEY_HEADER,
        description: 'Your Gatehouse API key, from the portal (My keys).',
      },
    };
    out.security = [{ [GATEWAY_KEY_SCHEME]: [] }];
  } else {
    delete components.securitySchemes;
    out.security = [];
  }
  out.components = components;
  if (isObject(doc.paths)) {
    const paths: Json = {};
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!isObject(item)) {
        paths[path] = item;
        continue;
      }
      const copy: Json = { ...item };
      delete copy.servers;
      for (const method of Object.keys(copy)) {
        const op = copy[method];
        if (!HTTP_METHODS.has(method) || !isObject(op)) continue;
        const opCopy: Json = { ...op };
        delete opCopy.servers;
        // An operation that declared itself public (`security: []`) stays so only for keyless APIs.
        delete opCopy.security;
        copy[method] = opCopy;
      }
      paths[path] = copy;
    }
    out.paths = paths;
  }
  return out;
}

/**
 * A small LRU of rendered output keyed by content hash (plus whatever else shaped it),
 * so a popular page is not re-serialised on every view. Bounded by entries and by
 * total characters so a few huge specs cannot hold memory.
 */
export class RenderCache<T> {
  private readonly entries = new Map<string, T>();
  private size = 0;

  constructor(
    private readonly sizeOf: (value: T) => number,
    private readonly maxEntries = 32,
    private readonly maxChars = 64 * 1024 * 1024,
  ) {}

  get(key: string): T | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: T): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.size -= this.sizeOf(old);
      this.entries.delete(key);
    }
    const size = this.sizeOf(value);
    if (size > this.maxChars) return;
    this.entries.set(key, value);
    this.size += size;
    while (this.entries.size > this.maxEntries || this.size > this.maxChars) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const value = this.entries.get(oldest.value);
      if (value !== undefined) this.size -= this.sizeOf(value);
      this.entries.delete(oldest.value);
    }
  }

  get count(): number {
    return this.entries.size;
  }
}
