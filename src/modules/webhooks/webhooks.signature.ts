import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, in the style of Stripe and GitHub: the receiver recomputes
 * HMAC-SHA256(secret, `${timestamp}.${raw body}`) and compares it in constant time
 * with `X-Gatehouse-Signature: sha256=<hex>`. The timestamp (`X-Gatehouse-Timestamp`,
 * unix seconds) is inside the MAC, so a captured delivery cannot be replayed later
 * than the receiver's tolerance.
 */
export const SIGNATURE_HEADER = 'x-gatehouse-signature';
export const TIMESTAMP_HEADER = 'x-gatehouse-timestamp';
export const EVENT_HEADER = 'x-gatehouse-event';
export const DELIVERY_HEADER = 'x-gatehouse-delivery';

export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** True when `signature` is valid for the body and the timestamp is within `toleranceSeconds` of `nowMs`. */
export function verifySignature(
  secret: string,
  timestamp: string,
  body: string,
  signature: string,
  nowMs = Date.now(),
  toleranceSeconds = 300,
): boolean {
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, ts, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
