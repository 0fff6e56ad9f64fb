import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoginThrottle } from '../../modules/login-throttle/index.js';
import { isAppError } from '../../shared/errors.js';

function emailOf(request: FastifyRequest): string | null {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email : null;
}

/**
 * The admin sign-in throttle as route hooks for `POST /api/v1/auth/tokens` (the UI's
 * sign-in form calls the throttle itself): a locked account or IP gets 429 with
 * Retry-After before the password is checked; a 401 counts as a failure. The outcome is
 * recorded in onSend, before the answer leaves, so a client that sends its next guess as
 * soon as it reads a 401 finds that failure already counted.
 */
export function loginThrottleHooks(throttle: LoginThrottle) {
  return {
    async preHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const email = emailOf(request);
      if (email === null) return;
      try {
        await throttle.check(email, request.ip);
      } catch (error) {
        const retry = isAppError(error)
          ? (error.details as { retry_after?: number } | undefined)?.retry_after
          : undefined;
        if (retry) void reply.header('retry-after', String(retry));
        throw error;
      }
    },
    async onSend(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
      const email = emailOf(request);
      if (email === null) return payload;
      if (reply.statusCode === 401) await throttle.recordFailure(email, request.ip);
      else if (reply.statusCode === 201) await throttle.recordSuccess(email);
      return payload;
    },
  };
}
