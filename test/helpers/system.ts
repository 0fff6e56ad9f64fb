import { Writable } from 'node:stream';
import { DEFAULTS, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/platform/logging/logger.js';
import type { DialectName } from '../../src/platform/db/index.js';
import { startGatehouse, type RunningGatehouse } from '../../src/runtime/runtime.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const ADMIN = { email: 'owner@example.com', password: 'owner-password-1' };

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny JSON client bound to one base URL and, optionally, a bearer token. */
export class Client {
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  withToken(token: string): Client {
    return new Client(this.base, token);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (this.token) (init.headers as Record<string, string>).authorization = `Bearer ${this.token}`;
    if (body !== undefined) {
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${this.base}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T = any>(path: string, body: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  put<T = any>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body, headers);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

export interface TestSystem {
  running: RunningGatehouse;
  db: TestDatabase;
  /** Everything the process logged, to check that no secret leaks. */
  logs: () => string;
  admin: Client;
  portal: Client;
  gatewayUrl: string;
  stop(): Promise<void>;
}

/** Starts the whole product in-process on ephemeral ports over a fresh database. */
export async function startSystem(dialect: DialectName, overrides: Partial<Config> = {}): Promise<TestSystem> {
  const db = await createTestDatabase(dialect);
  await db.close();
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const config: Config = {
    ...DEFAULTS,
    database_url: db.url,
    host: '127.0.0.1',
    gateway_port: 0,
    portal_port: 0,
    admin_port: 0,
    demo: false,
    admin_email: ADMIN.email,
    admin_password: ADMIN.password,
    log_level: 'info',
    analytics_flush_ms: 100,
    ...overrides,
  };
  const running = await startGatehouse(config, createLogger(config.log_level, sink));
  const admin = new Client(running.urls.admin);
  const login = await admin.post<{ token: string }>('/api/v1/auth/tokens', ADMIN);
  if (login.status !== 201) throw new Error(`admin login failed: ${login.status}`);
  return {
    running,
    db,
    logs: () => chunks.join(''),
    admin: admin.withToken(login.body.token),
    portal: new Client(running.urls.portal),
    gatewayUrl: running.urls.gateway,
    async stop() {
      await running.close();
      await db.destroy();
    },
  };
}

/** Signs up a developer through the developer API and returns a client with their token. */
export async function signUpDeveloper(
  system: TestSystem,
  email: string,
  fields: Record<string, unknown> = { name: 'Dev Eloper' },
): Promise<Client> {
  const password = 'dev-password-1';
  const created = await system.portal.post('/api/v1/developers', { email, password, fields });
  if (created.status !== 201) throw new Error(`sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await system.portal.post<{ token: string }>('/api/v1/auth/tokens', { email, password });
  return system.portal.withToken(login.body.token);
}

/** Polls `check` until it returns true or `ms` passes. */
export async function eventually(check: () => Promise<boolean>, ms = 1000, step = 25): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return check();
}
