import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { AppError, type FieldProblem } from '../../shared/errors.js';

export interface HttpAppOptions {
  logger: Logger;
  bodyLimit: number;
  trustProxy: boolean;
}

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** AJV issues → `[{field, message}]` with dotted field paths (`fields.company`). */
export function problemsFromAjv(issues: AjvIssue[], prefix = ''): FieldProblem[] {
  return issues.map((issue) => {
    let field = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (issue.keyword === 'required' && typeof issue.params?.missingProperty === 'string') {
      field = field ? `${field}.${issue.params.missingProperty}` : issue.params.missingProperty;
    }
    if (issue.keyword === 'additionalProperties' && typeof issue.params?.additionalProperty === 'string') {
      const extra = issue.params.additionalProperty;
      return { field: field ? `${field}.${extra}` : extra, message: 'is not a known field' };
    }
    return { field: field || prefix || 'body', message: issue.message ?? 'is invalid' };
  });
}

/** JSON error body used by the admin and developer APIs (DESIGN §4). */
export function errorBody(code: string, message: string, details?: unknown): { error: Record<string, unknown> } {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * A Fastify instance with the product's error contract: every failure becomes
 * `{error: {code, message, details?}}` with the right status; 5xx never leak internals.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true } },
  };
  const app = Fastify(serverOptions) as unknown as FastifyInstance;

  app.setSchemaErrorFormatter((errors, dataVar) => {
    const problems = problemsFromAjv(errors, dataVar === 'body' ? '' : dataVar);
    const where = dataVar === 'body' ? '' : ` in ${dataVar}`;
    const first = problems[0];
    const message = first ? `${first.field}: ${first.message}${where}` : 'invalid request';
    return new AppError('VALIDATION_FAILED', message, { fields: problems });
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.status(error.status).send(errorBody(error.code, error.message, error.details));
    }
    const fe = error as FastifyError;
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.status(400).send(errorBody('MALFORMED_JSON', 'The request body is not valid JSON'));
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send(errorBody('PAYLOAD_TOO_LARGE', `The request body exceeds ${options.bodyLimit} bytes`));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', 'Send application/json'));
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return reply.status(400).send(errorBody('VALIDATION_FAILED', 'Content-Length does not match the body'));
      default:
        break;
    }
    if (error instanceof SyntaxError) {
      return reply.status(400).send(errorBody('MALFORMED_JSON', 'The request body is not valid JSON'));
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody('VALIDATION_FAILED', fe.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'Internal error'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );

  return app;
}
