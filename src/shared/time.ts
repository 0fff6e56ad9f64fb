/** Epoch ms in the database, ISO 8601 on the wire (DESIGN §3). */
export function toIso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export function fromIso(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
