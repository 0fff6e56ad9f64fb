/**
 * The one registry of error codes. Every error the product returns is made by
 * `appError(code, ...)`, so status and code never drift apart (DESIGN §4).
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required' },
  INVALID_CREDENTIALS: { status: 401, message: 'Email or password is wrong' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this' },
  ACCOUNT_INACTIVE: { status: 403, message: 'This account is not active' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'Conflict' },
  DUPLICATE: { status: 409, message: 'Already exists' },
  EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists' },
  LISTEN_PATH_TAKEN: { status: 409, message: 'Another API already uses this listen path' },
  SLUG_TAKEN: { status: 409, message: 'Another object already uses this slug' },
  IN_USE: { status: 409, message: 'Still referenced by other objects' },
  INVALID_STATE: { status: 409, message: 'Not possible in the current state' },
  KEY_LIMIT_REACHED: { status: 409, message: 'You already have a key for this catalogue entry' },
  SIGNUP_DISABLED: { status: 403, message: 'Sign-up is switched off' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNPROCESSABLE: { status: 422, message: 'The content could not be processed' },
  SPEC_INVALID: { status: 422, message: 'The documentation could not be imported' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many attempts, try again later' },
  INTERNAL: { status: 500, message: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'A backing service is unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one field; `field` is a dotted path such as `fields.company`. */
export interface FieldProblem {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
}

/** The single factory for product errors. */
export function appError(code: ErrorCode, message?: string, details?: unknown): AppError {
  return new AppError(code, message, details);
}

/** A 400 listing every field problem at once. */
export function validationError(problems: FieldProblem[], message?: string): AppError {
  return new AppError('VALIDATION_FAILED', message ?? describeProblems(problems), { fields: problems });
}

function describeProblems(problems: FieldProblem[]): string {
  const first = problems[0];
  if (!first) return ERROR_CODES.VALIDATION_FAILED.message;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return `${first.field}: ${first.message}${more}`;
}

export function notFound(what: string, id?: string): AppError {
  return new AppError('NOT_FOUND', id ? `${what} ${id} not found` : `${what} not found`);
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
