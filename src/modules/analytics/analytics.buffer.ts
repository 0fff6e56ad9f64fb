import type { RequestRecord } from './analytics.types.js';

/**
 * Raw records packed in columns: six numbers and six strings per record, the strings
 * as indices into a per-batch dictionary (a busy node repeats the same api, key,
 * developer, method and often path). This is how they wait in memory, cross to the
 * writer thread (two typed arrays and a short string list: ≈ 0.4 µs a record less of
 * structured cloning on the gateway's thread than six strings a record) and reach the
 * writer and the stored chunk.
 */
export interface PackedRecords {
  count: number;
  /** at, status, latency, upstream latency, bytes in, bytes out. */
  numbers: Float64Array;
  /** api id, key id, developer id, method, path, code ('' = none), as indices into `dict`. */
  indices: Uint32Array;
  dict: string[];
}

export const PACKED_NUMBERS = 6;
export const PACKED_STRINGS = 6;

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A segment being filled: its dictionary, and the last string seen per column (most records repeat it). */
class Segment implements PackedRecords {
  count = 0;
  readonly numbers: Float64Array;
  readonly indices: Uint32Array;
  readonly dict: string[] = [];
  private readonly lookup = new Map<string, number>();
  private readonly lastText: string[] = ['', '', '', '', '', ''];
  private readonly lastIndex: number[] = [-1, -1, -1, -1, -1, -1];

  constructor(size: number) {
    this.numbers = new Float64Array(size * PACKED_NUMBERS);
    this.indices = new Uint32Array(size * PACKED_STRINGS);
  }

  private index(column: number, value: string): number {
    if (value === this.lastText[column] && (this.lastIndex[column] as number) >= 0)
      return this.lastIndex[column] as number;
    let index = this.lookup.get(value);
    if (index === undefined) {
      index = this.dict.length;
      this.dict.push(value);
      this.lookup.set(value, index);
    }
    this.lastText[column] = value;
    this.lastIndex[column] = index;
    return index;
  }

  put(r: RequestRecord): void {
    const i = this.count++;
    const n = i * PACKED_NUMBERS;
    const numbers = this.numbers;
    numbers[n] = r.at;
    numbers[n + 1] = r.status;
    numbers[n + 2] = r.latencyMs;
    numbers[n + 3] = r.upstreamLatencyMs;
    numbers[n + 4] = r.bytesIn;
    numbers[n + 5] = r.bytesOut;
    const s = i * PACKED_STRINGS;
    const indices = this.indices;
    indices[s] = this.index(0, text(r.apiId));
    indices[s + 1] = this.index(1, text(r.keyId));
    indices[s + 2] = this.index(2, text(r.developerId));
    indices[s + 3] = this.index(3, text(r.method));
    indices[s + 4] = this.index(4, text(r.path));
    indices[s + 5] = this.index(5, text(r.code));
  }

  /** What leaves the buffer: plain data (no Map), trimmed to the records held. */
  packed(): PackedRecords {
    return {
      count: this.count,
      numbers: this.numbers.subarray(0, this.count * PACKED_NUMBERS),
      indices: this.indices.subarray(0, this.count * PACKED_STRINGS),
      dict: this.dict,
    };
  }
}

/** String `column` (0–5) of record `i`. */
export function packedString(p: PackedRecords, i: number, column: number): string {
  return p.dict[p.indices[i * PACKED_STRINGS + column] as number] ?? '';
}

/** Packs records (tests and tools; the recorder packs as records arrive). */
export function packRecords(records: readonly RequestRecord[]): PackedRecords {
  const segment = new Segment(records.length);
  for (const r of records) segment.put(r);
  return segment.packed();
}

/**
 * The recorder's bounded queue of raw records, kept packed from the moment they
 * arrive: a request's record object then dies young instead of surviving a second of
 * garbage collections until the flush (that cost the bench's gateway ≈ 2.5 µs of GC
 * time a request). Records fill fixed-size segments; a flush takes whole segments,
 * oldest first, and a failed one goes back to the front.
 */
export class RawRecordBuffer {
  /** Oldest first: taken-and-restored batches, then segments still being filled. */
  private readonly queue: Array<Segment | PackedRecords> = [];
  private open: Segment | null = null;
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
      segment = new Segment(this.segmentSize);
      this.queue.push(segment);
      this.open = segment;
    }
    segment.put(record);
    this.held++;
    return true;
  }

  /** The oldest batch, or null when empty. */
  take(): PackedRecords | null {
    const next = this.queue.shift();
    if (next === undefined) return null;
    if (next === this.open) this.open = null;
    this.held -= next.count;
    return next instanceof Segment ? next.packed() : next;
  }

  /**
   * Puts a batch that could not be written back in front. Over capacity, the newest
   * records are dropped (the oldest were accepted first); returns how many.
   */
  restore(batch: PackedRecords): number {
    this.queue.unshift(batch);
    this.held += batch.count;
    let dropped = 0;
    while (this.held > this.capacity) {
      const last = this.queue[this.queue.length - 1] as Segment | PackedRecords;
      const excess = this.held - this.capacity;
      if (excess >= last.count) {
        this.queue.pop();
        if (last === this.open) this.open = null;
        this.held -= last.count;
        dropped += last.count;
      } else {
        const keep = last.count - excess;
        const trimmed: PackedRecords = {
          count: keep,
          numbers: last.numbers.subarray(0, keep * PACKED_NUMBERS),
          indices: last.indices.subarray(0, keep * PACKED_STRINGS),
          dict: last.dict,
        };
        this.queue[this.queue.length - 1] = trimmed;
        if (last === this.open) this.open = null;
        this.held -= excess;
        dropped += excess;
      }
    }
    return dropped;
  }
}
