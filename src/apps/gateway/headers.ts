/**
 * Header rules of a proxy. Hop-by-hop headers belong to one connection and are never
 * forwarded (RFC 7230 §6.1: Connection and every header it names, Keep-Alive,
 * Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade); undici and node:http write
 * their own framing headers for each side.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** True for headers that must not cross the proxy (besides those named by Connection). */
export function isHopByHop(lowerName: string): boolean {
  // `proxy-*` covers Proxy-Authorization, Proxy-Authenticate and friends.
  return HOP_BY_HOP.has(lowerName) || lowerName.startsWith('proxy-');
}

/** The header names a Connection header lists (RFC 7230 §6.1), lower case; null when none. */
export function connectionTokens(value: string | null): Set<string> | null {
  if (value === null) return null;
  let tokens: Set<string> | null = null;
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive') continue;
    (tokens ??= new Set()).add(token);
  }
  return tokens;
}

/** Seconds, rounded up, never negative: for Retry-After and the *-Reset headers. */
export function secondsUntil(atMs: number, nowMs: number): number {
  const ms = atMs - nowMs;
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}
