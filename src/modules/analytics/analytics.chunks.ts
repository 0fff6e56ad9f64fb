import { PACKED_NUMBERS, PACKED_STRINGS, packedString, type PackedRecords } from './analytics.buffer.js';
import type { AnalyticsRecordChunksTable, AnalyticsRecordsTable } from './analytics.table.js';

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

/** One raw record as read back from a chunk: the same fields as a failed-request row. */
export type RawRecord = AnalyticsRecordsTable;

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

/** Record `i` of a packed batch as a row (`analytics_records` shape). */
export function rowOf(p: PackedRecords, i: number, id: string, nodeId: string): AnalyticsRecordsTable {
  const n = i * PACKED_NUMBERS;
  const numbers = p.numbers;
  const code = packedString(p, i, 5);
  return {
    id,
    at: whole(numbers[n] as number),
    node_id: nodeId,
    api_id: packedString(p, i, 0),
    key_id: packedString(p, i, 1),
    developer_id: packedString(p, i, 2),
    method: packedString(p, i, 3).slice(0, 16),
    path: packedString(p, i, 4).slice(0, 512),
    status: (numbers[n + 1] as number) | 0,
    code: code === '' ? null : code,
    latency_ms: whole(numbers[n + 2] as number),
    upstream_latency_ms: whole(numbers[n + 3] as number),
    bytes_in: whole(numbers[n + 4] as number),
    bytes_out: whole(numbers[n + 5] as number),
  };
}

/** The records of a stored chunk (ids `<chunk id>.<index>`); throws on a payload this version cannot read. */
export function decodeChunk(
  row: Pick<AnalyticsRecordChunksTable, 'id' | 'node_id' | 'count' | 'payload'>,
): RawRecord[] {
  const payload = JSON.parse(row.payload) as ChunkPayload;
  if (payload.v !== 1) throw new Error(`analytics chunk ${row.id}: unknown payload version ${String(payload.v)}`);
  const packed: PackedRecords = {
    count: Number(row.count),
    indices: decodeArray(payload.strings, (b) => new Uint32Array(b)),
    numbers: decodeArray(payload.numbers, (b) => new Float64Array(b)),
    dict: payload.dict,
  };
  if (
    packed.indices.length !== packed.count * PACKED_STRINGS ||
    packed.numbers.length !== packed.count * PACKED_NUMBERS
  )
    throw new Error(`analytics chunk ${row.id}: payload does not hold ${packed.count} records`);
  return Array.from({ length: packed.count }, (_, i) => rowOf(packed, i, `${row.id}.${i}`, row.node_id));
}
