/**
 * The gateway's own error registry (DESIGN §4 gateway table plus the protocol-level
 * refusals). The data plane answers `{"error": "<message>", "code": "<CODE>"}`, a
 * different shape from the control plane's errors, so the bodies are built here once
 * at load time and written as ready-made buffers.
 */
export const GATEWAY_ERRORS = {
  PATH_INVALID: { status: 400, message: 'The request path is not valid' },
  BAD_REQUEST: { status: 400, message: 'The request could not be parsed' },
  KEY_MISSING: { status: 401, message: 'An API key is required' },
  KEY_INVALID: { status: 401, message: 'The API key is not valid' },
  KEY_EXPIRED: { status: 401, message: 'The API key has expired' },
  KEY_INACTIVE: { status: 403, message: 'The API key is not active' },
  API_FORBIDDEN: { status: 403, message: 'The API key gives no access to this API' },
  RESOURCE_FORBIDDEN: { status: 403, message: 'The API key gives no access to this path or method' },
  API_NOT_FOUND: { status: 404, message: 'No API is published at this path' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive' },
  URL_TOO_LONG: { status: 414, message: 'The request URL is too long' },
  RATE_LIMITED: { status: 429, message: 'Rate limit exceeded' },
  QUOTA_EXCEEDED: { status: 429, message: 'Quota exhausted' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large' },
  INTERNAL: { status: 500, message: 'Internal gateway error' },
  UPSTREAM_UNAVAILABLE: { status: 502, message: 'The upstream service is unavailable' },
  LIMITS_UNAVAILABLE: { status: 503, message: 'Rate limits cannot be checked right now' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream service did not answer in time' },
} as const satisfies Record<string, { status: number; message: string }>;

export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export interface PreparedError {
  code: GatewayErrorCode;
  status: number;
  body: Buffer;
  /** `content-length` as text, so the hot path does not format numbers. */
  length: string;
}

function prepare(code: GatewayErrorCode): PreparedError {
  const { status, message } = GATEWAY_ERRORS[code];
  const body = Buffer.from(JSON.stringify({ error: message, code }));
  return { code, status, body, length: String(body.length) };
}

export const PREPARED: { readonly [C in GatewayErrorCode]: PreparedError } = Object.fromEntries(
  (Object.keys(GATEWAY_ERRORS) as GatewayErrorCode[]).map((code) => [code, prepare(code)]),
) as { [C in GatewayErrorCode]: PreparedError };

/**
 * A complete HTTP/1.1 response for errors raised before node:http built a request
 * (`clientError`: header overflow, malformed request), written straight to the socket.
 */
export function rawErrorResponse(code: GatewayErrorCode): string {
  const e = PREPARED[code];
  const reason: Record<number, string> = {
    400: 'Bad Request',
    408: 'Request Timeout',
    414: 'URI Too Long',
    431: 'Request Header Fields Too Large',
  };
  return (
    `HTTP/1.1 ${e.status} ${reason[e.status] ?? 'Error'}\r\n` +
    `content-type: application/json\r\ncontent-length: ${e.length}\r\nconnection: close\r\n\r\n${e.body.toString()}`
  );
}
