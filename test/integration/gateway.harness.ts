/**
 * A real gateway over a real, migrated database (one per dialect), with rows made
 * through the repositories, a memory change bus and counters, and an analytics sink
 * that keeps every record for assertions.
 */
import http from 'node:http';
import net from 'node:net';
import { DEFAULTS, type Config } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/apps/gateway/index.js';
import type { RequestRecord } from '../../src/modules/analytics/index.js';
import { apisRepository, type ApisTable } from '../../src/modules/apis/index.js';
import { developersRepository, type DevelopersTable } from '../../src/modules/developers/index.js';
import { keysRepository, type KeysTable } from '../../src/modules/keys/index.js';
import { policiesRepository, type AllowedUrl, type PoliciesTable } from '../../src/modules/policies/index.js';
import { MemoryChangeBus, type ChangeTopic } from '../../src/platform/kv/change-bus.js';
import { MemoryCounterStore } from '../../src/platform/kv/memory-counters.js';
import { newSecret, sha256Hex } from '../../src/shared/crypto.js';
import { newId } from '../../src/shared/ids.js';
import type { DialectName } from '../../src/platform/db/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

export interface LogLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  args: unknown[];
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  text: string;
  json: unknown;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HarnessOptions {
  config?: Partial<Config>;
  now?: () => number;
  lastUsedFlushMs?: number;
}

export class Harness {
  readonly records: RequestRecord[] = [];
  readonly logs: LogLine[] = [];
  readonly bus = new MemoryChangeBus();
  readonly counters = new MemoryCounterStore({ sweepIntervalMs: 0 });
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
  gateway!: Gateway;
  port = 0;

  private constructor(readonly db: TestDatabase) {}

  static async start(dialect: DialectName, options: HarnessOptions = {}): Promise<Harness> {
    const h = new Harness(await createTestDatabase(dialect));
    await h.boot(options);
    return h;
  }

  private async boot(options: HarnessOptions): Promise<void> {
    const log =
      (level: LogLine['level']) =>
      (...args: unknown[]) =>
        void this.logs.push({ level, args });
    this.gateway = await createGateway({
      config: { ...DEFAULTS, ...options.config },
      db: this.db.db,
      bus: this.bus,
      counters: this.counters,
      analytics: { record: (r) => void this.records.push(r) },
      logger: { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') } as never,
      nodeId: 'node-test',
      now: options.now,
      lastUsedFlushMs: options.lastUsedFlushMs ?? 60_000,
      drainTimeoutMs: 2_000,
    });
    this.port = await this.gateway.listen(0, '127.0.0.1');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.gateway.close();
    await this.counters.close();
    await this.bus.close();
    await this.db.destroy();
  }

  /** Tells the gateway something changed and waits for the rebuilt snapshot. */
  async changed(topic: ChangeTopic = 'keys'): Promise<void> {
    const before = this.gateway.snapshotVersion();
    this.bus.publish({ topic });
    const deadline = Date.now() + 2_000;
    while (this.gateway.snapshotVersion() === before && Date.now() < deadline) await sleep(5);
  }

  async createApi(overrides: Partial<ApisTable> & { target_url: string; listen_path: string }): Promise<ApisTable> {
    const now = Date.now();
    const id = newId('api');
    const row: ApisTable = {
      id,
      name: `API ${id}`,
      slug: id.toLowerCase(),
      strip_listen_path: 1,
      auth: 'key',
      key_query_param: null,
      rate: 0,
      per: 1,
      upstream_timeout_ms: 0,
      active: 1,
      version: 1,
      created_at: now,
      updated_at: now,
      ...overrides,
    };
    await apisRepository.insert(this.db.db, row);
    return row;
  }

  async createPolicy(
    apiRights: { apiId: string; allowedUrls?: AllowedUrl[] }[],
    overrides: Partial<PoliciesTable> = {},
  ): Promise<PoliciesTable> {
    const now = Date.now();
    const id = newId('policy');
    const row: PoliciesTable = {
      id,
      name: `Policy ${id}`,
      rate: 0,
      per: 1,
      quota_max: 0,
      quota_renewal_rate: 0,
      key_expires_in: 0,
      access_rights: JSON.stringify(apiRights.map((r) => ({ api_id: r.apiId, allowed_urls: r.allowedUrls ?? [] }))),
      active: 1,
      tags: '[]',
      version: 1,
      created_at: now,
      updated_at: now,
      ...overrides,
    };
    await policiesRepository.insert(
      this.db.db,
      row,
      apiRights.map((r) => r.apiId),
    );
    return row;
  }

  async createDeveloper(overrides: Partial<DevelopersTable> = {}): Promise<DevelopersTable> {
    const now = Date.now();
    const id = newId('developer');
    const row: DevelopersTable = {
      id,
      email: `${id}@example.test`,
      email_normalized: `${id.toLowerCase()}@example.test`,
      password_hash: 'x',
      fields: '{}',
      status: 'active',
      email_verified_at: now,
      last_login_at: null,
      created_at: now,
      updated_at: now,
      ...overrides,
    };
    await developersRepository.insert(this.db.db, row);
    return row;
  }

  /** A key with a fresh secret; publish a change (or call `changed`) for the gateway to see it. */
  async createKey(
    policyIds: string[],
    overrides: Partial<KeysTable> = {},
  ): Promise<{ row: KeysTable; secret: string }> {
    const now = Date.now();
    const secret = newSecret('gh_');
    const id = newId('key');
    const row: KeysTable = {
      id,
      developer_id: null,
      catalogue_id: null,
      name: 'test',
      policy_ids: JSON.stringify(policyIds),
      prefix: secret.slice(0, 7),
      last4: secret.slice(-4),
      hash: sha256Hex(secret),
      previous_hash: null,
      previous_hash_expires_at: null,
      status: 'active',
      expires_at: null,
      last_used_at: null,
      meta: '{}',
      version: 1,
      created_at: now,
      updated_at: now,
      ...overrides,
    };
    await keysRepository.insert(this.db.db, row, policyIds);
    return { row, secret };
  }

  /** Plain node:http, so paths reach the gateway exactly as written (no client-side normalisation). */
  call(path: string, options: CallOptions = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          method: options.method ?? 'GET',
          headers: options.headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let json: unknown = undefined;
            try {
              json = JSON.parse(text);
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, text, json });
          });
        },
      );
      req.on('error', reject);
      req.end(options.body);
    });
  }

  /** Writes `text` as is on a new connection and returns everything read until the gateway closes it. */
  rawCall(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1', () => socket.write(text));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
  }

  /** Calls with the key in `Authorization: Bearer`. */
  callWithKey(path: string, secret: string, options: CallOptions = {}): Promise<Response> {
    return this.call(path, { ...options, headers: { authorization: `Bearer ${secret}`, ...options.headers } });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The exact error body of the gateway. */
export function errorBody(response: Response): { error: string; code: string } {
  return response.json as { error: string; code: string };
}
