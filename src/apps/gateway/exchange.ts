import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { GatewayCore } from './core.js';
import { PREPARED, type GatewayErrorCode, type PreparedError } from './errors.js';
import { CORS_RESPONSE_HEADERS } from './cors.js';
import { connectionTokens, isHopByHop } from './headers.js';
import type { CompiledRoute, KeyGrant } from './snapshot.js';

/** Where the key came from, so exactly that carrier is stripped before proxying. */
export type KeySource = 'none' | 'authorization' | 'x-api-key' | 'query';

/** Raised into undici when the client went away, so the upstream request is released. */
class ClientClosedError extends Error {
  constructor() {
    super('client closed the connection');
    this.name = 'ClientClosedError';
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Where a response finds its Exchange, for the shared 'close'/'drain' listeners below. */
const EXCHANGE = Symbol('gatehouse.exchange');
type ResponseWithExchange = ServerResponse & { [EXCHANGE]?: Exchange };

// Listeners shared by every request (`this` is the response) instead of two arrow
// functions per Exchange, which under tsx also cost a `__name` call each, plus the
// wrapper `once` allocates: 0.8–1.2% of the gateway's CPU in a profile at 6k req/s.
function onResponseClose(this: ResponseWithExchange): void {
  this[EXCHANGE]?.clientClosed();
}
function onResponseDrain(this: ResponseWithExchange): void {
  this[EXCHANGE]?.clientDrained();
}

/** Status recorded when the client left before any response was written (nginx's convention). */
const CLIENT_CLOSED = 499;

/**
 * One request from arrival to the analytics record. It is also the undici dispatch
 * handler of its upstream call, so a proxied request allocates one object for both.
 * It uses undici's core handler interface (onConnect/onHeaders/onData/...): the newer
 * controller interface wraps every handler and parses headers into an object per
 * response, which this proxy never needs.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly at: number;
  /** performance.now() at arrival, for latencies. */
  private readonly started: number;
  route: CompiledRoute | null = null;
  grant: KeyGrant | null = null;
  /** Path as received (no query), for analytics. */
  rawPath = '';
  /** Normalised path, and the part after the listen path ('' or starting with `/`). */
  path = '';
  rest = '';
  /** Query without `?` as forwarded (the key parameter removed). */
  query = '';
  keySource: KeySource = 'none';
  /** Key candidates found by the header scan. */
  bearer: string | null = null;
  apiKeyHeader: string | null = null;
  hasBody = false;
  host = '';
  connection: string | null = null;
  /** The client's X-Request-Id (forwarded as sent); null = one is generated when proxying. */
  requestId: string | null = null;
  /** The browser's Origin header: responses then carry CORS headers (cors.ts). */
  origin: string | null = null;
  /** X-RateLimit-* / X-Quota-* name/value pairs for the proxied response. */
  limitHeaders: string[] | null = null;
  code: GatewayErrorCode | null = null;
  skipRecord = false;

  private bytesIn = 0;
  private bytesOut = 0;
  private upstreamStarted = 0;
  private upstreamLatency = 0;
  /** True once the client connection is gone (response finished or aborted). */
  private closed = false;
  private dispatched = false;
  private upstreamDone = false;
  private abortUpstream: ((error?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private drainListening = false;

  constructor(
    private readonly core: GatewayCore,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    this.at = core.now();
    this.started = performance.now();
    core.inFlight++;
    (res as ResponseWithExchange)[EXCHANGE] = this;
    // 'close' comes once per response: `on` with a shared function, no `once` wrapper.
    res.on('close', onResponseClose);
  }

  /** Answers with a gateway error; `extra` adds header name/value pairs. */
  fail(error: PreparedError, extra?: readonly string[]): void {
    this.code = error.code;
    const res = this.res;
    if (this.closed || res.headersSent) {
      // A response already started cannot turn into an error: cut the connection so
      // the client sees a truncated response, not a complete-looking one.
      if (!res.destroyed) res.destroy();
      return;
    }
    const headers: string[] = ['content-type', 'application/json', 'content-length', error.length];
    if (extra) for (const h of extra) headers.push(h);
    if (error.status === 401) headers.push('www-authenticate', 'Bearer');
    if (this.origin !== null) for (const h of CORS_RESPONSE_HEADERS) headers.push(h);
    // An upload we will not read to the end: close rather than drain it (RFC 7230 §6.6).
    if (this.hasBody && !this.req.complete) headers.push('connection', 'close');
    try {
      res.writeHead(error.status, headers);
      res.end(error.body);
      this.bytesOut += error.body.length;
    } catch (err) {
      this.core.logger.warn({ err }, 'gateway could not write an error response');
      res.destroy();
    }
  }

  /** Answers with a small JSON document (health). */
  json(status: number, body: unknown): void {
    const buffer = Buffer.from(JSON.stringify(body));
    this.res.writeHead(status, [
      'content-type',
      'application/json',
      'content-length',
      String(buffer.length),
      'cache-control',
      'no-store',
    ]);
    this.res.end(buffer);
  }

  /** Sends the request upstream through the route's pool; the answer streams back through the handler methods. */
  proxy(): void {
    const route = this.route as CompiledRoute;
    if (this.closed) return;
    let path = route.basePath + (route.stripListenPath ? this.rest : this.path);
    if (path === '') path = '/';
    if (this.query !== '') path += `?${this.query}`;
    this.dispatched = true;
    this.upstreamStarted = performance.now();
    const options: Dispatcher.DispatchOptions = {
      path,
      method: this.req.method as Dispatcher.HttpMethod,
      headers: this.forwardHeaders(),
      // The request itself is the body stream: undici reads it with backpressure.
      body: this.hasBody ? this.req : null,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.timeoutMs,
    };
    try {
      this.core.upstreams.get(route.origin).dispatch(options, this);
    } catch (error) {
      this.onError(error as Error);
    }
  }

  // --- undici handler -------------------------------------------------------

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.closed) abort(new ClientClosedError());
  }

  /** undici 7 passes the chunk written (its typings say a size; both are handled). */
  onBodySent(chunk: Buffer | string | number): void {
    this.bytesIn +=
      typeof chunk === 'number' ? chunk : typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: informational, not forwarded
    this.upstreamLatency = performance.now() - this.upstreamStarted;
    this.resumeUpstream = resume;
    if (this.closed) return false;
    const headers = this.responseHeaders(rawHeaders);
    try {
      if (statusText) this.res.writeHead(statusCode, statusText, headers);
      else this.res.writeHead(statusCode, headers);
    } catch (error) {
      // The upstream sent something node:http refuses to repeat (invalid header text).
      this.core.logger.warn({ err: error, api_id: this.route?.api.id }, 'upstream response headers refused');
      this.abortUpstream?.(error as Error);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length;
    if (this.closed) return false;
    // false = the client socket is full: undici pauses the upstream until 'drain'. The
    // listener is added then, not for every request (small bodies never need it).
    if (this.res.write(chunk)) return true;
    if (!this.drainListening) {
      this.drainListening = true;
      this.res.on('drain', onResponseDrain);
    }
    return false;
  }

  onComplete(): void {
    this.upstreamDone = true;
    if (!this.closed) this.res.end();
  }

  onError(error: Error): void {
    this.upstreamDone = true;
    if (error instanceof ClientClosedError) return;
    const code = errorCode(error);
    const timeout = TIMEOUT_CODES.has(code);
    if (this.closed) return;
    this.core.logger.debug(
      { err: error, api_id: this.route?.api.id, request_id: this.requestId },
      'upstream call failed',
    );
    this.fail(PREPARED[timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE']);
  }

  // --- client side -----------------------------------------------------------

  /** The client socket took what was written: let undici read the upstream again. */
  clientDrained(): void {
    this.resumeUpstream?.();
  }

  /** The response finished or the client went away. */
  clientClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.inFlight--;
    if (this.dispatched && !this.upstreamDone) {
      // The client left mid-request: release the upstream connection now.
      this.abortUpstream?.(new ClientClosedError());
    }
    if (!this.skipRecord) this.record();
  }

  private record(): void {
    const res = this.res;
    const route = this.route;
    const grant = this.grant;
    try {
      this.core.analytics.record({
        at: this.at,
        apiId: route ? route.api.id : '',
        keyId: grant ? grant.keyId : '',
        developerId: grant ? grant.developerId : '',
        method: this.req.method ?? '',
        path: this.rawPath.length > 512 ? this.rawPath.slice(0, 512) : this.rawPath,
        status: res.headersSent ? res.statusCode : CLIENT_CLOSED,
        code: this.code,
        latencyMs: performance.now() - this.started,
        upstreamLatencyMs: this.upstreamLatency,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
      });
    } catch (error) {
      this.core.logger.warn({ err: error }, 'analytics sink threw');
    }
  }

  /**
   * The request headers for the upstream: hop-by-hop headers, Host (undici sends the
   * upstream's), Expect (node:http answered 100-continue already) and the key's
   * carrier removed; X-Forwarded-For/-Proto/-Host added. Incoming X-Forwarded-* are
   * kept (and extended) only when `trust_proxy` says the previous hop is ours.
   */
  private forwardHeaders(): string[] {
    const raw = this.req.rawHeaders;
    const trust = this.core.config.trust_proxy;
    const keyed = this.route !== null && !this.route.keyless;
    const named = connectionTokens(this.connection);
    const out: string[] = [];
    let forwardedFor: string | null = null;
    let forwardedProto: string | null = null;
    let forwardedHost: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const value = raw[i + 1] as string;
      const lower = name.toLowerCase();
      if (isHopByHop(lower) || lower === 'host' || lower === 'expect') continue;
      if (named !== null && named.has(lower)) continue;
      if (keyed) {
        if (lower === 'x-api-key') continue;
        if (lower === 'authorization' && this.keySource === 'authorization') continue;
      }
      if (lower === 'x-forwarded-for') {
        if (trust) forwardedFor = forwardedFor === null ? value : `${forwardedFor}, ${value}`;
        continue;
      }
      if (lower === 'x-forwarded-proto') {
        if (trust && forwardedProto === null) forwardedProto = value;
        continue;
      }
      if (lower === 'x-forwarded-host') {
        if (trust && forwardedHost === null) forwardedHost = value;
        continue;
      }
      out.push(name, value);
    }
    // Carried to the upstream so its logs and ours can be joined (generated if absent).
    if (this.requestId === null) {
      this.requestId = this.core.nextRequestId();
      out.push('x-request-id', this.requestId);
    }
    const client = this.req.socket.remoteAddress ?? '';
    out.push('x-forwarded-for', forwardedFor === null ? client : `${forwardedFor}, ${client}`);
    out.push('x-forwarded-proto', forwardedProto ?? 'http');
    const host = forwardedHost ?? this.host;
    if (host !== '') out.push('x-forwarded-host', host);
    return out;
  }

  /** The upstream's response headers minus hop-by-hop ones, plus the limit headers. */
  private responseHeaders(raw: Buffer[]): string[] {
    const out: string[] = [];
    const limits = this.limitHeaders;
    let named: Set<string> | null = null;
    let upstreamCors = false;
    for (let i = 0; i < raw.length; i += 2) {
      // latin1 round-trips header bytes exactly (node:http writes headers as latin1).
      const name = (raw[i] as Buffer).toString('latin1');
      const value = (raw[i + 1] as Buffer).toString('latin1');
      const lower = name.toLowerCase();
      if (lower === 'connection') {
        // The usual `keep-alive` / `close` name no header: skip the split (most responses).
        if (!isPlainConnection(value)) named = connectionTokens(value);
        continue;
      }
      if (isHopByHop(lower)) continue;
      // Ours replace the upstream's own limit headers, which would contradict them.
      if (limits !== null && (lower.startsWith('x-ratelimit-') || lower.startsWith('x-quota-'))) continue;
      if (lower === 'access-control-allow-origin') upstreamCors = true;
      out.push(name, value);
    }
    const cors = this.origin !== null && !upstreamCors;
    if (named !== null) {
      const kept: string[] = [];
      for (let i = 0; i < out.length; i += 2) {
        if (!named.has((out[i] as string).toLowerCase())) kept.push(out[i] as string, out[i + 1] as string);
      }
      if (limits !== null) for (const h of limits) kept.push(h);
      if (cors) for (const h of CORS_RESPONSE_HEADERS) kept.push(h);
      return kept;
    }
    if (limits !== null) for (const h of limits) out.push(h);
    if (cors) for (const h of CORS_RESPONSE_HEADERS) out.push(h);
    return out;
  }
}

function isPlainConnection(value: string): boolean {
  return (
    value.length <= 10 &&
    (value === 'keep-alive' ||
      value === 'close' ||
      value.toLowerCase() === 'keep-alive' ||
      value.toLowerCase() === 'close')
  );
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
