export interface AnalyticsRollupsTable {
  /** `minute` or `hour`. */
  resolution: string;
  /** Bucket start, epoch ms. */
  bucket: number;
  api_id: string;
  /** '' when the request carried no valid key. */
  key_id: string;
  developer_id: string;
  status: number;
  hits: number;
  successes: number;
  errors: number;
  bytes_in: number;
  bytes_out: number;
  latency_sum: number;
  latency_min: number;
  latency_max: number;
  upstream_latency_sum: number;
  /** JSON array of counts per latency bucket (bounds: LATENCY_BOUNDS_MS in analytics.histogram). */
  histogram: string;
}

export interface AnalyticsRecordsTable {
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

/** The raw request log, one row per flushed batch (analytics.chunks.ts). */
export interface AnalyticsRecordChunksTable {
  id: string;
  node_id: string;
  /** Earliest and latest request time in the chunk, epoch ms. */
  first_at: number;
  last_at: number;
  count: number;
  /** JSON, see ChunkPayload. */
  payload: string;
}
