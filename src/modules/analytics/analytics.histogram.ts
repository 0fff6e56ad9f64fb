/**
 * The fixed-bound latency histogram stored with every rollup row (DESIGN §3).
 *
 * Bucket `i` counts requests with `LATENCY_BOUNDS_MS[i-1] < latency <= LATENCY_BOUNDS_MS[i]`;
 * the last bucket (index `LATENCY_BOUNDS_MS.length`) counts everything slower than the
 * last bound. The bounds are part of the stored data: changing them needs a data
 * migration, because old rows would be read with the new bounds.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
]);

/** Counts per bucket, including the overflow bucket. */
export const HISTOGRAM_SIZE = LATENCY_BOUNDS_MS.length + 1;

/** A fresh all-zero histogram. */
export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_SIZE).fill(0);
}

/** Index of the bucket `latencyMs` falls into (a linear scan over 13 bounds beats a binary search here). */
export function bucketIndex(latencyMs: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) {
    if (latencyMs <= (LATENCY_BOUNDS_MS[i] as number)) return i;
  }
  return LATENCY_BOUNDS_MS.length;
}

/** Adds `source` into `target` in place; tolerates a shorter or longer stored array. */
export function addHistogram(target: number[], source: readonly number[]): number[] {
  const n = Math.min(source.length, HISTOGRAM_SIZE);
  for (let i = 0; i < n; i++) target[i] = (target[i] ?? 0) + (Number(source[i]) || 0);
  return target;
}

/** Reads a stored histogram (JSON text); anything unreadable counts as empty. */
export function parseHistogram(text: string | null | undefined): number[] {
  const out = emptyHistogram();
  if (!text) return out;
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) addHistogram(out, parsed as number[]);
  } catch {
    // A damaged row must not break a flush or a dashboard; it reads as empty.
  }
  return out;
}

/**
 * The `p`-th percentile (0 < p <= 100, nearest rank) as the upper bound of the bucket
 * that holds it, capped at the largest latency actually seen (so a histogram of 3 ms
 * requests reports 3, not 5, and the overflow bucket reports the observed maximum).
 * Null when there is nothing to measure.
 */
export function histogramPercentile(
  histogram: readonly number[],
  p: number,
  maxLatencyMs: number | null = null,
): number | null {
  let total = 0;
  for (const count of histogram) total += count;
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) {
      const bound = LATENCY_BOUNDS_MS[i];
      if (bound === undefined) return maxLatencyMs;
      return maxLatencyMs === null ? bound : Math.min(bound, maxLatencyMs);
    }
  }
  return maxLatencyMs;
}
