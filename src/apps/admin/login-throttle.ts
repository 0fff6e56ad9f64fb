import type { FastifyInstance } from 'fastify';
import type { LoginThrottle } from '../../modules/login-throttle/index.js';
import { isAppError } from '../../shared/errors.js';

const TOKEN_ROUTE = '/api/v1/auth/tokens';

/**
 * Puts the admin sign-in throttle in front of `POST /api/v1/auth/tokens` (the UI's
 * sign-in form calls the throttle itself): a locked account or IP gets 429 with
 * Retry-After before the password is checked; a 401 counts as a failure. The outcome is
 * recorded in onSend, before the answer leaves, so a client that sends its next guess as
 * soon as it reads a 401 finds that failure already counted.
 */
export function registerLoginThrottle(app: FastifyInstance, throttle: LoginThrottle): void {
  const isLogin = (method: string, url: string | undefined) => method === 'POST' && url === TOKEN_ROUTE;

  app.addHook('preHandler', async (request, reply) => {
    if (!isLogin(request.method, request.routeOptions.url)) return;
    const email = (request.body as { email?: unknown } | undefined)?.email;
    if (typeof email !== 'string') return;
    try {
      await throttle.check(email, request.ip);
    } catch (error) {
      const retry = isAppError(error)
        ? (error.details as { retry_after?: number } | undefined)?.retry_after
        : undefined;
      if (retry) void reply.header('retry-after', String(retry));
      throw error;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!isLogin(request.method, request.routeOptions.url)) return payload;
    const email = (request.body as { email?: unknown } | undefined)?.email;
    if (typeof email !== 'string') return payload;
    if (reply.statusCode === 401) await throttle.recordFailure(email, request.ip);
    else if (reply.statusCode === 201) await throttle.recordSuccess(email);
    return payload;
  });
}
