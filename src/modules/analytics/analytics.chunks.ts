import { PACKED_NUMBERS, PACKED_STRINGS, type PackedRecords } from './analytics.buffer.js';
import type { AnalyticsRecordChunksTable } from './analytics.table.js';

/**
 * The raw request log is stored a batch at a time: one `analytics_record_chunks` row per
 * flushed segment (up to 500 records) instead of one row per request. A row per request
 * cost the writer ≈ 5 µs of SQLite time each (index upkeep), ≈ 10 µs of CPU per request
 * in all with its garbage, against ≈ 0.06 µs to encode a record into a chunk.
 *
 * Payload (JSON text, so both dialects store it alike):
 * `{"v":1,"dict":[strings…],"strings":"<base64 Uint32 indices into dict>","numbers":"<base64 Float64>"}`,
 * six strings and six numbers per record in PackedRecords order; little-endian, as on
 * every platform Node.js runs on.
 */
export interface ChunkPayload {
  v: 1;
  dict: string[];
  strings: string;
  numbers: string;
}

/** One raw record as read back from a chunk. */
export interface RawRecord {
  /** `<chunk id>.<index>`: stable, and sorts in write order within a chunk. */
  id: string;
  at: number;
  node_id: string;
  api_id: string;
  key_id: string;
  developer_id: string;
  method: string;
  path: string;
  status: number;
  code: string | null;
  latency_ms: number;
  upstream_latency_ms: number;
  bytes_in: number;
  bytes_out: number;
}

/** Non-negative integer, whatever the gateway passed. */
export function whole(value: number): number {
  return value > 0 && Number.isFinite(value) ? Math.round(value) : 0;
}

export function encodeChunk(id: string, nodeId: string, packed: PackedRecords): AnalyticsRecordChunksTable {
  const numbers = packed.numbers.subarray(0, packed.count * PACKED_NUMBERS);
  const indices = packed.indices.subarray(0, packed.count * PACKED_STRINGS);
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < numbers.length; i += PACKED_NUMBERS) {
    const at = numbers[i] as number;
    if (at < first) first = at;
    if (at > last) last = at;
  }
  const payload: ChunkPayload = {
    v: 1,
    dict: packed.dict,
    strings: Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength).toString('base64'),
    numbers: Buffer.from(numbers.buffer, numbers.byteOffset, numbers.byteLength).toString('base64'),
  };
  return {
    id,
    node_id: nodeId,
    first_at: packed.count > 0 ? whole(first) : 0,
    last_at: packed.count > 0 ? whole(last) : 0,
    count: packed.count,
    payload: JSON.stringify(payload),
  };
}

/** A typed array over base64 data, copied so that its alignment is right. */
function decodeArray<T>(base64: string, make: (buffer: ArrayBuffer) => T): T {
  const bytes = Buffer.from(base64, 'base64');
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return make(copy);
}

/** The records of a stored chunk; throws on a payload this version cannot read. */
export function decodeChunk(
  row: Pick<AnalyticsRecordChunksTable, 'id' | 'node_id' | 'count' | 'payload'>,
): RawRecord[] {
  const payload = JSON.parse(row.payload) as ChunkPayload;
  if (payload.v !== 1) throw new Error(`analytics chunk ${row.id}: unknown payload version ${String(payload.v)}`);
  const indices = decodeArray(payload.strings, (b) => new Uint32Array(b));
  const numbers = decodeArray(payload.numbers, (b) => new Float64Array(b));
  const count = Number(row.count);
  if (indices.length !== count * PACKED_STRINGS || numbers.length !== count * PACKED_NUMBERS)
    throw new Error(`analytics chunk ${row.id}: payload does not hold ${count} records`);
  const str = (i: number): string => payload.dict[indices[i] as number] ?? '';
  const out = new Array<RawRecord>(count);
  for (let i = 0; i < count; i++) {
    const n = i * PACKED_NUMBERS;
    const s = i * PACKED_STRINGS;
    const code = str(s + 5);
    out[i] = {
      id: `${row.id}.${i}`,
      at: whole(numbers[n] as number),
      node_id: row.node_id,
      api_id: str(s),
      key_id: str(s + 1),
      developer_id: str(s + 2),
      method: str(s + 3).slice(0, 16),
      path: str(s + 4).slice(0, 512),
      status: (numbers[n + 1] as number) | 0,
      code: code === '' ? null : code,
      latency_ms: whole(numbers[n + 2] as number),
      upstream_latency_ms: whole(numbers[n + 3] as number),
      bytes_in: whole(numbers[n + 4] as number),
      bytes_out: whole(numbers[n + 5] as number),
    };
  }
  return out;
}
