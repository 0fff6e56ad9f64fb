import type { RequestRecord } from './analytics.types.js';

/**
 * Raw records packed in columns: six numbers and six strings per record. This is how
 * they wait in memory, cross to the writer thread (the Float64Array is transferred, not
 * copied) and reach the writer.
 */
export interface PackedRecords {
  count: number;
  /** at, status, latency, upstream latency, bytes in, bytes out. */
  numbers: Float64Array;
  /** api id, key id, developer id, method, path, code ('' = none). */
  strings: string[];
}

export const PACKED_NUMBERS = 6;
export const PACKED_STRINGS = 6;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Writes one record into row `i` of a segment. */
function put(numbers: Float64Array, strings: string[], i: number, r: RequestRecord): void {
  const n = i * PACKED_NUMBERS;
  numbers[n] = r.at;
  numbers[n + 1] = r.status;
  numbers[n + 2] = r.latencyMs;
  numbers[n + 3] = r.upstreamLatencyMs;
  numbers[n + 4] = r.bytesIn;
  numbers[n + 5] = r.bytesOut;
  const s = i * PACKED_STRINGS;
  strings[s] = text(r.apiId);
  strings[s + 1] = text(r.keyId);
  strings[s + 2] = text(r.developerId);
  strings[s + 3] = text(r.method);
  strings[s + 4] = text(r.path);
  strings[s + 5] = text(r.code);
}

/** Packs records (tests and tools; the recorder packs as records arrive). */
export function packRecords(records: readonly RequestRecord[]): PackedRecords {
  const numbers = new Float64Array(records.length * PACKED_NUMBERS);
  const strings = new Array<string>(records.length * PACKED_STRINGS);
  records.forEach((r, i) => put(numbers, strings, i, r));
  return { count: records.length, numbers, strings };
}

/**
 * The recorder's bounded queue of raw records, kept packed from the moment they
 * arrive: a request's record object then dies young instead of surviving a second of
 * garbage collections until the flush (that cost the bench's gateway ≈ 2.5 µs of GC
 * time a request). Records fill fixed-size segments; a flush takes whole segments,
 * oldest first, and a failed one goes back to the front.
 */
export class RawRecordBuffer {
  private readonly segments: PackedRecords[] = [];
  private open: PackedRecords | null = null;
  private held = 0;

  /**
   * @param capacity records held at most (beyond it `push` refuses)
   * @param segmentSize records per segment, which is also the most a flush takes at once
   */
  constructor(
    private readonly capacity: number,
    private readonly segmentSize: number,
  ) {}

  get size(): number {
    return this.held;
  }

  /** Appends a record; false when the buffer is full (the caller counts the drop). */
  push(record: RequestRecord): boolean {
    if (this.held >= this.capacity) return false;
    let segment = this.open;
    if (segment === null || segment.count === this.segmentSize) {
      segment = {
        count: 0,
        numbers: new Float64Array(this.segmentSize * PACKED_NUMBERS),
        strings: new Array<string>(this.segmentSize * PACKED_STRINGS),
      };
      this.segments.push(segment);
      this.open = segment;
    }
    put(segment.numbers, segment.strings, segment.count, record);
    segment.count++;
    this.held++;
    return true;
  }

  /** The oldest segment, trimmed to its records, or null when empty. */
  take(): PackedRecords | null {
    const segment = this.segments.shift();
    if (segment === undefined) return null;
    if (segment === this.open) this.open = null;
    this.held -= segment.count;
    if (segment.count === this.segmentSize) return segment;
    return {
      count: segment.count,
      numbers: segment.numbers.slice(0, segment.count * PACKED_NUMBERS),
      strings: segment.strings.slice(0, segment.count * PACKED_STRINGS),
    };
  }

  /**
   * Puts a segment that could not be written back in front. Over capacity, the newest
   * records are dropped (the oldest were accepted first); returns how many.
   */
  restore(segment: PackedRecords): number {
    this.segments.unshift(segment);
    this.held += segment.count;
    let dropped = 0;
    while (this.held > this.capacity) {
      const last = this.segments[this.segments.length - 1] as PackedRecords;
      const excess = this.held - this.capacity;
      if (excess >= last.count) {
        this.segments.pop();
        if (last === this.open) this.open = null;
        this.held -= last.count;
        dropped += last.count;
      } else {
        last.count -= excess;
        this.held -= excess;
        dropped += excess;
      }
    }
    return dropped;
  }
}
