/** One request as the gateway saw it; recorded for every request, admitted or not. */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  at: number;
  /** '' when no API matched (404 API_NOT_FOUND). */
  apiId: string;
  /** '' when the request had no valid key or the API is keyless. */
  keyId: string;
  developerId: string;
  method: string;
  /** Path as received, without the query string, truncated to 512 chars. */
  path: string;
  status: number;
  /** The gateway's error code (`RATE_LIMITED` …) or null for proxied responses. */
  code: string | null;
  /** Total time in the gateway, ms. */
  latencyMs: number;
  /** Time waiting for the upstream, ms (0 when not proxied). */
  upstreamLatencyMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** Where the gateway puts records; must never block or throw. */
export interface AnalyticsSink {
  record(record: RequestRecord): void;
}
