import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminCreateBody, AdminTokenCreateBody } from '../../../modules/admins/index.js';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from '../../../platform/http/index.js';
import { appError, isAppError } from '../../../shared/errors.js';
import { actorOf } from '../context.js';
import {
  checked,
  compact,
  flash,
  int,
  optionalText,
  problemsOf,
  render,
  safeNext,
  text,
  uiRole,
  type FormBody,
  type UiDeps,
} from './support.js';

/** Sign-in, sign-out, the dashboard, one's own account and tokens, and admin users (owner). */
export function registerAccountPages(app: FastifyInstance, deps: UiDeps): void {
  const { s } = deps;
  const read = { preHandler: uiRole('viewer') };
  const owner = { preHandler: uiRole('owner') };

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    if (request.admin) return reply.redirect(safeNext(request.query.next));
    return render(deps, request, reply, 'login', { title: 'Sign in', next: safeNext(request.query.next), values: {} });
  });

  app.post<{ Body: FormBody }>('/login', async (request, reply) => {
    const email = text(request.body, 'email');
    const password = text(request.body, 'password');
    const next = safeNext(text(request.body, 'next'));
    const again = (message: string, status: number) =>
      render(deps, request, reply, 'login', { title: 'Sign in', next, values: { email }, error: message }, status);
    if (!email || !password) return again('Enter your email and password.', 400);
    try {
      await deps.throttle.check(email, request.ip);
      const admin = await s.admins.authenticate(email, password);
      await deps.throttle.recordSuccess(email);
      // Rotate: a new session token on every sign-in; the one in the old cookie (if any) ends.
      const previous = readSessionCookie(request, deps.web);
      if (previous) await s.admins.revokeTokenValue(previous);
      const { token } = await s.admins.createToken(admin.id, 'session', 'admin dashboard', s.admins.sessionTtlMs());
      setSessionCookie(request, reply, deps.web, token);
      return reply.redirect(next);
    } catch (error) {
      if (isAppError(error) && error.code === 'TOO_MANY_REQUESTS') {
        const retry = (error.details as { retry_after?: number } | undefined)?.retry_after;
        if (retry) void reply.header('retry-after', String(retry));
        return again(error.message, 429);
      }
      if (isAppError(error) && (error.code === 'INVALID_CREDENTIALS' || error.code === 'ACCOUNT_INACTIVE')) {
        await deps.throttle.recordFailure(email, request.ip);
        return again('Email or password is wrong, or the account is not active.', 401);
      }
      throw error;
    }
  });

  app.post('/logout', async (request, reply) => {
    const token = readSessionCookie(request, deps.web);
    if (token) await s.admins.revokeTokenValue(token);
    clearSessionCookie(reply, deps.web);
    return reply.redirect('/login');
  });

  app.get('/', read, async (request, reply) => {
    const [apis, policies, entries, developers, pending] = await Promise.all([
      s.apis.list({ limit: 200 }),
      s.policies.list({ limit: 200 }),
      s.catalogue.list({ limit: 200 }),
      s.developers.list({ limit: 200 }),
      s.keyRequests.list({ status: 'pending', limit: 5 }),
    ]);
    return render(deps, request, reply, 'dashboard', {
      title: 'Dashboard',
      counts: {
        apis: apis.data.length,
        policies: policies.data.length,
        entries: entries.data.length,
        developers: developers.data.length,
      },
      more: { apis: apis.next_cursor !== null, developers: developers.next_cursor !== null },
      pending: pending.data,
    });
  });

  // --- own account ----------------------------------------------------------------
  async function accountPage(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const tokens = await s.admins.listTokens(request.admin!.id);
    return render(deps, request, reply, 'account', { title: 'Your account', tokens, ...extra }, status);
  }

  app.get('/account', read, async (request, reply) => accountPage(request, reply));

  app.post<{ Body: FormBody }>('/account/password', read, async (request, reply) => {
    const next = text(request.body, 'password');
    if (next !== text(request.body, 'password_confirm'))
      return accountPage(request, reply, { password_error: 'The two new passwords differ.' }, 400);
    try {
      await s.admins.changePassword(request.admin!.id, text(request.body, 'current_password'), next);
    } catch (error) {
      const problems = problemsOf(error);
      if (problems) return accountPage(request, reply, { password_error: problems.message }, 400);
      throw error;
    }
    // Every session ended with the change; start a fresh one for this browser.
    const { token } = await s.admins.createToken(
      request.admin!.id,
      'session',
      'admin dashboard',
      s.admins.sessionTtlMs(),
    );
    setSessionCookie(request, reply, deps.web, token);
    flash(reply, 'success', 'Password changed. Other sessions were signed out.');
    return reply.redirect('/account');
  });

  app.post<{ Body: FormBody }>('/account/tokens', read, async (request, reply) => {
    try {
      const body = checked<AdminTokenCreateBody>(
        request,
        AdminTokenCreateBody,
        compact({ name: text(request.body, 'name'), expires_in_days: int(request.body, 'expires_in_days') }),
      );
      const days = body.expires_in_days;
      const created = await s.admins.createToken(request.admin!.id, 'api', body.name, days ? days * 86_400_000 : null);
      // Shown once, in this response only; never stored in a cookie or flash.
      return accountPage(request, reply, { new_token: created.token });
    } catch (error) {
      const problems = problemsOf(error);
      if (problems) return accountPage(request, reply, { token_error: problems.message }, 400);
      throw error;
    }
  });

  app.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', read, async (request, reply) => {
    await s.admins.revokeToken(request.admin!.id, request.params.id);
    flash(reply, 'success', 'Token revoked.');
    return reply.redirect('/account');
  });

  // --- admin users (owner) --------------------------------------------------------------
  async function adminsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    return render(
      deps,
      request,
      reply,
      'admins',
      { title: 'Admin users', admins: await s.admins.list(), values: {}, errors: {}, ...extra },
      status,
    );
  }

  app.get('/admins', owner, async (request, reply) => adminsPage(request, reply));

  app.post<{ Body: FormBody }>('/admins', owner, async (request, reply) => {
    const values = {
      email: text(request.body, 'email'),
      name: optionalText(request.body, 'name'),
      password: text(request.body, 'password'),
      role: text(request.body, 'role'),
    };
    try {
      const body = checked<AdminCreateBody>(request, AdminCreateBody, compact(values));
      await s.admins.create(actorOf(request), body);
    } catch (error) {
      const problems = problemsOf(error);
      if (problems)
        return adminsPage(
          request,
          reply,
          { values: { ...values, password: '' }, errors: problems.fields, error: problems.message },
          400,
        );
      throw error;
    }
    flash(
      reply,
      'success',
      `Admin ${values.email} created. Give them their password through a safe channel; they can change it under "Your account".`,
    );
    return reply.redirect('/admins');
  });

  app.post<{ Params: { id: string }; Body: FormBody }>('/admins/:id', owner, async (request, reply) => {
    const role = text(request.body, 'role');
    const status = text(request.body, 'status');
    if (role && !['owner', 'admin', 'viewer'].includes(role)) throw appError('VALIDATION_FAILED', 'Unknown role');
    if (status && !['active', 'inactive'].includes(status)) throw appError('VALIDATION_FAILED', 'Unknown status');
    await s.admins.update(
      actorOf(request),
      request.params.id,
      compact({
        role: (role || undefined) as 'owner' | 'admin' | 'viewer' | undefined,
        status: (status || undefined) as 'active' | 'inactive' | undefined,
      }),
    );
    flash(reply, 'success', 'Admin updated.');
    return reply.redirect('/admins');
  });
}
