import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets must never reach a log line: the redaction list
 * covers every header and field that can carry one.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-api-key"]',
          'req.headers.cookie',
          'headers.authorization',
          'headers["x-api-key"]',
          '*.password',
          '*.secret',
          '*.token',
          'password',
          'secret',
          'token',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
