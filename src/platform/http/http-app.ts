import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { AppError, type FieldProblem } from '../../shared/errors.js';
import { isConnectionError } from '../db/sql.js';

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
 * node-postgres reports a connection lost mid-query, or a pool that cannot hand out a
 * client in time, by message only (no code); isConnectionError covers the coded cases.
 */
function isDriverDisconnect(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return false;
  return /Connection terminated|timeout exceeded when trying to connect|Client was closed|Connection ended unexpectedly/i.test(
    message,
  );
}

/**
 * A Fastify instance with the product's error contract: every failure becomes
 * `{error: {code, message, details?}}` with the right status; 5xx never leak internals.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    // Request ids: the caller's X-Request-Id when it sends a sane one, else a new UUID;
    // every log line of the request carries it (reqId) and the response echoes it.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
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

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
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
        return reply
          .status(413)
          .send(errorBody('PAYLOAD_TOO_LARGE', `The request body exceeds ${options.bodyLimit} bytes`));
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
    if (isConnectionError(error) || isDriverDisconnect(error)) {
      // The database is down or restarting: say so, without internals, and let clients retry.
      request.log.warn({ err: error }, 'database unreachable');
      return reply
        .status(503)
        .header('retry-after', '5')
        .send(errorBody('SERVICE_UNAVAILABLE', 'The database is unreachable; try again shortly'));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL', 'Internal error'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(errorBody('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );

  return app;
}
