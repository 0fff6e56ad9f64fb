/**
 * Open-loop, constant-rate load (what wrk2 does; Debian has no wrk2, and autocannon's
 * `-R` is not constant: each connection sends its share of a second back to back at
 * the start of every second, then waits). Request i is due at `start + i / rate`
 * whether or not earlier ones have been answered; each goes out on an idle keep-alive
 * connection (a new one is opened when all are busy, up to `maxConnections`, after
 * which requests wait for one). Latency is measured two ways:
 *
 * - `latencyMs`: from the time the request was *due* to the last byte of its answer
 *   (coordinated-omission corrected, as wrk2 reports it) — includes any wait for a
 *   connection and this process's own timer lateness (≤ ~1 ms, the same for every
 *   target);
 * - `serviceLatencyMs`: from the moment the request was written to the last byte.
 *
 * Run as its own process by bench/run.ts (`node --import tsx bench/lib/rate-load.ts`
 * with a JSON argument); prints one JSON line with the result. Raw sockets and a
 * pre-built request keep its own cost per request small (a few µs), so it disturbs
 * the target as little as possible on a 2-core machine.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RateLoadArgs {
  url: string;
  headers: Record<string, string>;
  /** Requests per second. */
  rate: number;
  /** Timed seconds (after `warmupS`). */
  durationS: number;
  warmupS: number;
  maxConnections: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface RateLoadResult {
  rate: number;
  durationS: number;
  /** Requests due in the timed window, and those answered (any status). */
  sent: number;
  completed: number;
  /** Achieved answers per second over the timed window. */
  rps: number;
  non2xx: number;
  errors: number;
  /** Connections opened (a target that keeps up needs few). */
  connections: number;
  latencyMs: Percentiles;
  serviceLatencyMs: Percentiles;
}

interface Conn {
  socket: net.Socket;
  busy: boolean;
  /** Due and written times of the request in flight. */
  due: number;
  sentAt: number;
  timed: boolean;
  buffer: Buffer;
}

function percentiles(values: Float64Array, n: number): Percentiles {
  const sorted = values.slice(0, n).sort();
  const at = (q: number): number => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0));
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(n === 0 ? 0 : (sorted[n - 1] ?? 0)),
  };
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/**
 * Length of the first complete response in `buf` (status line, headers, body by
 * Content-Length or chunked), or -1 when more bytes are needed.
 */
function responseLength(buf: Buffer): { length: number; status: number } | null {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const total = end + 4 + Number(cl[1]);
    return buf.length >= total ? { length: total, status } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const last = buf.indexOf(CHUNKED_END, end + 4);
    return last < 0 ? null : { length: last + CHUNKED_END.length, status };
  }
  return { length: end + 4, status }; // no body (e.g. 204)
}

export async function runRateLoad(args: RateLoadArgs): Promise<RateLoadResult> {
  const url = new URL(args.url);
  const port = Number(url.port || 80);
  const host = url.hostname;
  const request = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      Object.entries(args.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n',
    'latin1',
  );
  const interval = 1000 / args.rate;
  const capacity = Math.ceil(args.rate * args.durationS * 1.2) + 16;
  const latencies = new Float64Array(capacity);
  const service = new Float64Array(capacity);
  let samples = 0;
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  let opened = 0;
  const idle: Conn[] = [];
  const waiting: number[] = []; // due times of requests with no connection yet

  const start = performance.now() + 50;
  const timedFrom = start + args.warmupS * 1000;
  const timedUntil = timedFrom + args.durationS * 1000;
  const total = Math.round(((timedUntil - start) / 1000) * args.rate);
  let next = 0; // index of the next request to send
  let sentTimed = 0;

  function send(conn: Conn, due: number): void {
    conn.busy = true;
    conn.due = due;
    conn.timed = due >= timedFrom && due < timedUntil;
    conn.sentAt = performance.now();
    conn.socket.write(request);
  }

  function open(): Conn {
    opened++;
    const socket = net.connect({ host, port, noDelay: true });
    const conn: Conn = { socket, busy: false, due: 0, sentAt: 0, timed: false, buffer: Buffer.alloc(0) };
    socket.on('data', (chunk: Buffer) => {
      conn.buffer = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
      const r = responseLength(conn.buffer);
      if (r === null) return;
      const now = performance.now();
      conn.buffer = conn.buffer.subarray(r.length);
      if (conn.timed && samples < capacity) {
        latencies[samples] = now - conn.due;
        service[samples] = now - conn.sentAt;
        samples++;
        completed++;
        if (r.status < 200 || r.status >= 400) non2xx++;
      }
      conn.busy = false;
      const due = waiting.shift();
      if (due !== undefined) send(conn, due);
      else idle.push(conn);
    });
    socket.on('error', () => {
      if (conn.busy && conn.timed) errors++;
      conn.busy = true; // never reused
    });
    socket.on('close', () => {
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
    });
    return conn;
  }

  function dispatch(due: number): void {
    const conn = idle.pop();
    if (conn) return send(conn, due);
    if (opened < args.maxConnections) {
      const fresh = open();
      fresh.socket.once('connect', () => send(fresh, due));
      return;
    }
    waiting.push(due);
  }

  // A few connections up front, so connecting is not in the first samples.
  await Promise.all(
    Array.from({ length: Math.min(8, args.maxConnections) }, () => {
      const c = open();
      return new Promise<void>((resolve, reject) => {
        c.socket.once('connect', () => {
          idle.push(c);
          resolve();
        });
        c.socket.once('error', reject);
      });
    }),
  );

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total) {
        const due = start + next * interval;
        if (due > now) break;
        if (due >= timedFrom && due < timedUntil) sentTimed++;
        next++;
        dispatch(due);
      }
      if (next >= total) return resolve();
      // Node timers fire at ≥ 1 ms granularity: whatever became due meanwhile goes out at the next tick.
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    tick();
  });
  // Let the last answers arrive (bounded).
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && (waiting.length > 0 || completed + errors < sentTimed)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const elapsed = args.durationS;
  const result: RateLoadResult = {
    rate: args.rate,
    durationS: elapsed,
    sent: sentTimed,
    completed,
    rps: completed / elapsed,
    non2xx,
    errors: errors + (sentTimed - completed - errors > 0 ? sentTimed - completed - errors : 0),
    connections: opened,
    latencyMs: percentiles(latencies, samples),
    serviceLatencyMs: percentiles(service, samples),
  };
  return result;
}

// Entry point when run as a process: one JSON argument in, one JSON line out.
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const args = JSON.parse(process.argv[2] ?? '{}') as RateLoadArgs;
  runRateLoad(args).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
