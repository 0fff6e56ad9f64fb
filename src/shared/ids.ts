import { randomBytes } from 'node:crypto';

/**
 * Prefixed, time-sortable ids (`api_01J...`): 10 chars of Crockford base32 time
 * (ms) followed by 16 chars of randomness, as in ULID. Sorting the text sorts by
 * creation time; a counter keeps ids made in the same millisecond ordered.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export const ID_PREFIXES = {
  api: 'api',
  policy: 'pol',
  catalogue: 'cat',
  developer: 'dev',
  keyRequest: 'kreq',
  key: 'key',
  admin: 'adm',
  adminToken: 'atok',
  developerToken: 'dtok',
  page: 'page',
  audit: 'evt',
  documentation: 'doc',
  webhook: 'whk',
  webhookDelivery: 'whd',
  event: 'ev',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

let lastTime = 0;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function nextRandom(now: number): number[] {
  if (now === lastTime && lastRandom.length === 16) {
    // Same millisecond: increment the previous random part so order is kept.
    const next = [...lastRandom];
    for (let i = 15; i >= 0; i--) {
      const digit = next[i] ?? 0;
      if (digit < 31) {
        next[i] = digit + 1;
        break;
      }
      next[i] = 0;
    }
    return next;
  }
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => b % 32);
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  const random = nextRandom(now);
  lastTime = now;
  lastRandom = random;
  return `${ID_PREFIXES[kind]}_${encodeTime(now)}${random.map((d) => CROCKFORD[d]).join('')}`;
}
