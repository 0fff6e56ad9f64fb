import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { dialects } from '../helpers/db.js';
import { closedPort, startUpstream, type Upstream } from '../helpers/upstream.js';
import { errorBody, Harness, sleep } from './gateway.harness.js';

const MB = 1024 * 1024;
/**
 * Retained heap + buffers may grow by this much while 200 MB stream through (client,
 * gateway and upstream all live in this process). Buffering a body would show
 * ~200 MB. Measured here: 0–25 MB, in transient steps of 8 or 16 MB of array buffers
 * that also appear, smaller, on a direct client → upstream call without the gateway.
 */
const HEAP_BOUND_MB = 40;
/** RSS does not shrink promptly after a spike (the allocator keeps pages): measured 0–24 MB. */
const RSS_BOUND_MB = 64;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** `total` bytes in 64 KiB chunks of one shared buffer: the producer itself holds nothing. */
function generated(total: number): Readable {
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK.length);
      left -= n;
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

// A garbage collector to call, so samples measure what is retained, not garbage
// waiting for collection (200 MB of 64 KiB chunks is a lot of garbage).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Samples memory (after a GC) while `work` runs; returns the largest growth over the
 * baseline, in MB. Everything — client, gateway, upstream — runs in this process, so
 * a body buffered anywhere shows up here.
 */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; rssMb: number; heapMb: number }> {
  gc();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed + base.arrayBuffers;
  // A full collection before each sample (every 250 ms), so it measures what is
  // retained at that moment, not garbage awaiting collection.
  const timer = setInterval(() => {
    gc();
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed + m.arrayBuffers);
  }, 250);
  try {
    const result = await work();
    if (process.env.GATEWAY_TEST_MEMORY)
      console.log({ rssMb: (rss - base.rss) / MB, heapMb: (heap - base.heapUsed - base.arrayBuffers) / MB });
    return { result, rssMb: (rss - base.rss) / MB, heapMb: (heap - base.heapUsed - base.arrayBuffers) / MB };
  } finally {
    clearInterval(timer);
  }
}

interface StreamResult {
  status: number;
  bytes: number;
  /** True when the response ended normally; false when the connection was cut. */
  complete: boolean;
  body: string;
}

/** A request whose response is counted, not kept (the first 4 KiB are kept as text). */
function streamCall(
  port: number,
  path: string,
  options: { method?: string; body?: Readable; headers?: Record<string, string> } = {},
): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let bytes = 0;
        let body = '';
        let ended = false;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (body.length < 4096) body += c.toString();
        });
        res.on('end', () => (ended = true));
        res.on('error', () => undefined);
        res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: ended && res.complete, body }));
      },
    );
    req.on('error', reject);
    if (options.body) options.body.pipe(req);
    else req.end();
  });
}

for (const dialect of dialects()) {
  void describe(`gateway upstream faults and streaming on ${dialect}`, () => {
    let h: Harness;
    const upstreams: Upstream[] = [];

    async function upstream(handler: Parameters<typeof startUpstream>[0]): Promise<Upstream> {
      const u = await startUpstream(handler);
      upstreams.push(u);
      return u;
    }

    async function keylessApi(listenPath: string, target: string, timeoutMs = 0): Promise<void> {
      await h.createApi({
        listen_path: listenPath,
        target_url: target,
        auth: 'keyless',
        upstream_timeout_ms: timeoutMs,
      });
      await h.changed('apis');
    }

    before(async () => {
      h = await Harness.start(dialect, { config: { upstream_connect_timeout_ms: 1000 } });
    });

    after(async () => {
      await h.close();
      for (const u of upstreams) await u.close();
    });

    void it('502 UPSTREAM_UNAVAILABLE when the upstream refuses connections', async () => {
      await keylessApi('/refused/', `http://127.0.0.1:${await closedPort()}`);
      const get = await h.call('/refused/x');
      assert.equal(get.status, 502);
      assert.equal(errorBody(get).code, 'UPSTREAM_UNAVAILABLE');
      const post = await h.call('/refused/x', {
        method: 'POST',
        body: 'x'.repeat(10_000),
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(post.status, 502);
      assert.equal(errorBody(post).code, 'UPSTREAM_UNAVAILABLE');
      await sleep(10);
      assert.equal(h.records.at(-1)?.code, 'UPSTREAM_UNAVAILABLE');
    });

    void it('502 UPSTREAM_UNAVAILABLE when the upstream resets before answering', async () => {
      const u = await upstream((req) => req.socket.destroy());
      await keylessApi('/reset-early/', u.url);
      const res = await h.call('/reset-early/x');
      assert.equal(res.status, 502);
      assert.equal(errorBody(res).code, 'UPSTREAM_UNAVAILABLE');
    });

    void it('cuts the client connection when the upstream resets mid-response', async () => {
      const u = await upstream((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial body');
        setTimeout(() => req.socket.destroy(), 50);
      });
      await keylessApi('/reset-mid/', u.url);
      const res = await streamCall(h.port, '/reset-mid/x');
      assert.equal(res.status, 200);
      assert.equal(res.complete, false, 'the client must see a truncated response, not a complete one');
      assert.equal(res.body, 'partial body');
    });

    void it('504 UPSTREAM_TIMEOUT when the upstream is slower than the API timeout', async () => {
      const u = await upstream((req, res) => {
        const timer = setTimeout(() => res.end('late'), 3000);
        res.on('close', () => clearTimeout(timer));
      });
      await keylessApi('/slow/', u.url, 200);
      const started = Date.now();
      const res = await h.call('/slow/x');
      assert.equal(res.status, 504);
      assert.equal(errorBody(res).code, 'UPSTREAM_TIMEOUT');
      assert.ok(Date.now() - started < 2000);
    });

    void it('releases the upstream request when the client aborts mid-stream', async () => {
      let upstreamClosed: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
      const u = await upstream((req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const timer = setInterval(() => res.write(CHUNK.subarray(0, 1024)), 10);
        res.on('close', () => {
          clearInterval(timer);
          upstreamClosed();
        });
      });
      await keylessApi('/endless/', u.url);
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: h.port, path: '/endless/x', agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('no data')), 2000);
      });
      await Promise.race([closed, sleep(2000).then(() => assert.fail('the upstream never saw the close'))]);
    });

    void it('releases the upstream request when the client aborts while waiting for headers', async () => {
      let upstreamClosed: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
      const u = await upstream((req, res) => res.on('close', () => upstreamClosed()));
      await keylessApi('/hang/', u.url);
      const req = http.get({ host: '127.0.0.1', port: h.port, path: '/hang/x', agent: false });
      req.on('error', () => undefined);
      await sleep(100);
      req.destroy();
      await Promise.race([closed, sleep(2000).then(() => assert.fail('the upstream never saw the close'))]);
      await sleep(10);
      assert.equal(h.records.at(-1)?.status, 499);
    });

    void it('streams a 200 MB upload through without buffering it', async () => {
      const u = await upstream((req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(JSON.stringify({ received: n, te: req.headers['transfer-encoding'] ?? null })));
      });
      await keylessApi('/upload/', u.url);
      // Warm up the chunked upload path (first-use allocations are not per-request growth).
      await streamCall(h.port, '/upload/warm-up', { method: 'POST', body: generated(8 * MB) });
      const { result, rssMb, heapMb } = await peakGrowth(() =>
        streamCall(h.port, '/upload/big', {
          method: 'POST',
          body: generated(200 * MB),
          headers: { 'content-type': 'application/octet-stream' },
        }),
      );
      assert.equal(result.status, 200);
      assert.deepEqual(JSON.parse(result.body), { received: 200 * MB, te: 'chunked' });
      assert.ok(
        heapMb < HEAP_BOUND_MB && rssMb < RSS_BOUND_MB,
        `memory grew by rss ${rssMb.toFixed(1)} MB, heap+buffers ${heapMb.toFixed(1)} MB`,
      );
      await sleep(10);
      assert.equal(h.records.find((r) => r.path === '/upload/big')?.bytesIn, 200 * MB);
    });

    void it('streams a 200 MB upload with content-length through', async () => {
      const u = await upstream((req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => res.end(JSON.stringify({ received: n, length: req.headers['content-length'] })));
      });
      await keylessApi('/upload-cl/', u.url);
      const { result, heapMb } = await peakGrowth(() =>
        streamCall(h.port, '/upload-cl/big', {
          method: 'PUT',
          body: generated(200 * MB),
          headers: { 'content-length': String(200 * MB) },
        }),
      );
      assert.deepEqual(JSON.parse(result.body), { received: 200 * MB, length: String(200 * MB) });
      assert.ok(heapMb < HEAP_BOUND_MB, `heap+buffers grew by ${heapMb.toFixed(1)} MB`);
    });

    void it('streams a 200 MB download through with backpressure', async () => {
      const u = await upstream((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(200 * MB) });
        generated(200 * MB).pipe(res);
      });
      await keylessApi('/download/', u.url);
      await streamCall(h.port, '/download/warm-up');
      const { result, rssMb, heapMb } = await peakGrowth(() => streamCall(h.port, '/download/big'));
      assert.equal(result.status, 200);
      assert.equal(result.complete, true);
      assert.equal(result.bytes, 200 * MB);
      assert.ok(
        heapMb < HEAP_BOUND_MB && rssMb < RSS_BOUND_MB,
        `memory grew by rss ${rssMb.toFixed(1)} MB, heap+buffers ${heapMb.toFixed(1)} MB`,
      );
      await sleep(10);
      assert.equal(h.records.find((r) => r.path === '/download/big')?.bytesOut, 200 * MB);
    });

    void it('a slow reader slows the upstream instead of filling the gateway memory', async () => {
      let written = 0;
      const u = await upstream((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const pump = (): void => {
          while (written < 200 * MB) {
            written += CHUNK.length;
            if (!res.write(CHUNK)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      });
      await keylessApi('/slow-reader/', u.url);
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: h.port, path: '/slow-reader/x', agent: false }, (res) => {
          res.pause(); // read nothing for a while
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 300);
        });
        req.on('error', () => undefined);
      });
      // Socket buffers on both hops hold a few MB at most; without backpressure it would be all 200.
      assert.ok(written < 32 * MB, `upstream wrote ${(written / MB).toFixed(1)} MB to a reader that read nothing`);
    });
  });
}
