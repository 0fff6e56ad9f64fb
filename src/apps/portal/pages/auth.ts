import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EMAIL_VERIFICATION_TTL_MS, PASSWORD_RESET_TTL_MS } from '../../../modules/developers/index.js';
import { isAppError } from '../../../shared/errors.js';
import { checkFieldValues } from '../../../shared/fields.js';
import { sendMail, signIn, signOut, type PortalPageDeps } from './deps.js';
import { EMAIL_PATTERN, fieldErrors, fieldViews, formBody, isFormError, prefixed, safeNext } from './forms.js';

/** Sign-up, email verification, log-in/out, forgot/reset password (issue 4 §2). */
export function registerAuthPages(app: FastifyInstance, deps: PortalPageDeps): void {
  const { views, services } = deps;
  const portalUrl = () => deps.publicPortalUrl().replace(/\/+$/, '');

  async function signupPage(
    request: FastifyRequest,
    reply: FastifyReply,
    values: { email?: string; fields?: Record<string, unknown> },
    errors: Record<string, string> = {},
    status = 200,
  ) {
    const settings = await views.settings();
    if (!settings.signup_enabled)
      return views.render(request, reply, 'signup-closed', { title: 'Sign-up is closed' }, status === 200 ? 200 : 403);
    return views.render(
      request,
      reply,
      'signup',
      {
        title: 'Create your developer account',
        email: values.email ?? '',
        email_error: errors.email ?? null,
        password_error: errors.password ?? null,
        form_error: errors._form ?? null,
        fields: fieldViews(settings.signup_fields, values.fields ?? {}, errors, 'fields.'),
        email_verification: settings.email_verification,
      },
      status,
    );
  }

  app.get('/signup', async (request, reply) => {
    if (request.developer) return reply.redirect('/dashboard', 303);
    return signupPage(request, reply, {});
  });

  app.post('/signup', async (request, reply) => {
    const form = formBody(request.body);
    const settings = await views.settings();
    if (!settings.signup_enabled) return signupPage(request, reply, {}, {}, 403);
    const email = (form.email ?? '').trim();
    const password = form.password ?? '';
    const fields = prefixed(form, 'fields.');
    const errors: Record<string, string> = {};
    if (!EMAIL_PATTERN.test(email) || email.length > 254) errors.email = 'Enter a valid email address';
    if (password.length < 8) errors.password = 'Use at least 8 characters';
    else if (password.length > 200) errors.password = 'Use at most 200 characters';
    if (Object.keys(errors).length > 0) {
      // Show every problem at once: the custom fields are checked here too.
      for (const problem of checkFieldValues(settings.signup_fields, fields, 'fields').problems)
        errors[problem.field] ??= problem.message;
      return signupPage(request, reply, { email, fields }, errors, 400);
    }
    let created;
    try {
      created = await services.developers.register({ email, password, fields });
    } catch (error) {
      if (isAppError(error) && error.code === 'EMAIL_TAKEN') {
        return signupPage(
          request,
          reply,
          { email, fields },
          { email: 'An account with this email already exists. Log in or reset your password instead.' },
          409,
        );
      }
      if (isFormError(error))
        return signupPage(
          request,
          reply,
          { email, fields },
          { _form: error.message, ...fieldErrors(error) },
          error.status,
        );
      throw error;
    }
    if (settings.email_verification) {
      const issued = await deps.accountTokens.startEmailVerification(created.id);
      if (issued) {
        await sendMail(deps, {
          to: created.email,
          template: 'verify-email',
          data: {
            email: created.email,
            verify_url: `${portalUrl()}/verify-email?token=${encodeURIComponent(issued.token)}`,
            expires_in_hours: EMAIL_VERIFICATION_TTL_MS / 3_600_000,
          },
        });
      }
      return views.render(request, reply, 'message', {
        title: 'Check your email',
        message: `We sent a confirmation link to ${created.email}. Open it to activate your account, then log in.`,
      });
    }
    await sendMail(deps, {
      to: created.email,
      template: 'welcome',
      data: { developer: { email: created.email, name: created.fields.name ?? '' } },
    });
    views.flash(reply, { kind: 'success', message: 'Your account is ready. Log in to continue.' });
    return reply.redirect(`/login?email=${encodeURIComponent(created.email)}`, 303);
  });

  app.get<{ Querystring: { token?: string } }>('/verify-email', async (request, reply) => {
    const token = typeof request.query.token === 'string' ? request.query.token : '';
    try {
      const developer = await deps.accountTokens.verifyEmail(token);
      await sendMail(deps, {
        to: developer.email,
        template: 'welcome',
        data: { developer: { email: developer.email, name: developer.name } },
      });
      views.flash(reply, { kind: 'success', message: 'Your email address is confirmed. Log in to continue.' });
      return reply.redirect(`/login?email=${encodeURIComponent(developer.email)}`, 303);
    } catch (error) {
      if (isFormError(error))
        return views.render(
          request,
          reply,
          'message',
          { title: 'Link not valid', message: error.message, kind: 'danger' },
          400,
        );
      throw error;
    }
  });

  function loginPage(
    request: FastifyRequest,
    reply: FastifyReply,
    values: { email?: string; next?: string; error?: string },
    status = 200,
  ) {
    return views.render(
      request,
      reply,
      'login',
      { title: 'Log in', email: values.email ?? '', next: safeNext(values.next), error: values.error ?? null },
      status,
    );
  }

  app.get<{ Querystring: { next?: string; email?: string } }>('/login', async (request, reply) => {
    if (request.developer) return reply.redirect(safeNext(request.query.next), 303);
    return loginPage(request, reply, {
      email: typeof request.query.email === 'string' ? request.query.email : '',
      next: request.query.next,
    });
  });

  app.post('/login', async (request, reply) => {
    const form = formBody(request.body);
    const email = (form.email ?? '').trim().slice(0, 254);
    const password = (form.password ?? '').slice(0, 200);
    const next = safeNext(form.next);
    const wait = await deps.throttle.retryAfter(email, request.ip);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      return views.render(
        request,
        reply,
        'message',
        {
          title: 'Too many attempts',
          message: `Too many failed log-ins. Try again in ${Math.ceil(wait / 60)} minute(s), or reset your password.`,
          kind: 'warning',
          link: { url: '/forgot-password', label: 'Reset your password' },
        },
        429,
      );
    }
    if (!email || !password)
      return loginPage(request, reply, { email, next, error: 'Enter your email and password' }, 400);
    try {
      const developer = await services.developers.authenticate(email, password);
      await deps.throttle.succeeded(email);
      await signIn(deps, request, reply, developer.id);
      return reply.redirect(next, 303);
    } catch (error) {
      if (isAppError(error) && error.code === 'INVALID_CREDENTIALS') {
        await deps.throttle.failed(email, request.ip);
        return loginPage(request, reply, { email, next, error: 'Email or password is wrong' }, 401);
      }
      if (isAppError(error) && error.code === 'ACCOUNT_INACTIVE')
        return loginPage(request, reply, { email, next, error: error.message }, 403);
      throw error;
    }
  });

  app.post('/logout', async (request, reply) => {
    await signOut(deps, request, reply);
    views.flash(reply, { kind: 'info', message: 'You are logged out.' });
    return reply.redirect('/', 303);
  });

  app.get('/forgot-password', async (request, reply) =>
    views.render(request, reply, 'forgot-password', { title: 'Reset your password', email: '' }),
  );

  app.post('/forgot-password', async (request, reply) => {
    const form = formBody(request.body);
    const email = (form.email ?? '').trim();
    if (!EMAIL_PATTERN.test(email)) {
      return views.render(
        request,
        reply,
        'forgot-password',
        { title: 'Reset your password', email, error: 'Enter a valid email address' },
        400,
      );
    }
    const issued = await deps.accountTokens.startPasswordReset(email);
    if (issued) {
      await sendMail(deps, {
        to: issued.developer.email,
        template: 'password-reset',
        data: {
          email: issued.developer.email,
          reset_url: `${portalUrl()}/reset-password?token=${encodeURIComponent(issued.token)}`,
          expires_in_minutes: PASSWORD_RESET_TTL_MS / 60_000,
        },
      });
    }
    // The same answer whether or not the address has an account.
    return views.render(request, reply, 'message', {
      title: 'Check your email',
      message: `If ${email} has an account, we sent it a link to choose a new password. The link works once and expires in ${PASSWORD_RESET_TTL_MS / 60_000} minutes.`,
    });
  });

  app.get<{ Querystring: { token?: string } }>('/reset-password', async (request, reply) => {
    const token = typeof request.query.token === 'string' ? request.query.token : '';
    if (!token || !(await deps.accountTokens.isUsable(token, 'password_reset'))) {
      return views.render(
        request,
        reply,
        'message',
        {
          title: 'Link not valid',
          message: 'This link is invalid, was already used or has expired; ask for a new one.',
          kind: 'danger',
          link: { url: '/forgot-password', label: 'Ask for a new link' },
        },
        400,
      );
    }
    return views.render(request, reply, 'reset-password', { title: 'Choose a new password', token });
  });

  app.post('/reset-password', async (request, reply) => {
    const form = formBody(request.body);
    const token = form.token ?? '';
    const password = form.password ?? '';
    if (password.length < 8 || password.length > 200) {
      return views.render(
        request,
        reply,
        'reset-password',
        { title: 'Choose a new password', token, password_error: 'Use 8 to 200 characters' },
        400,
      );
    }
    if (password !== (form.password_confirm ?? '')) {
      return views.render(
        request,
        reply,
        'reset-password',
        { title: 'Choose a new password', token, confirm_error: 'The two passwords differ' },
        400,
      );
    }
    try {
      const developer = await deps.accountTokens.resetPassword(token, password);
      await signOut(deps, request, reply);
      await deps.throttle.succeeded(developer.email);
      views.flash(reply, { kind: 'success', message: 'Your password was changed. Log in with the new one.' });
      return reply.redirect(`/login?email=${encodeURIComponent(developer.email)}`, 303);
    } catch (error) {
      if (isFormError(error)) {
        return views.render(
          request,
          reply,
          'message',
          {
            title: 'Link not valid',
            message: error.message,
            kind: 'danger',
            link: { url: '/forgot-password', label: 'Ask for a new link' },
          },
          400,
        );
      }
      throw error;
    }
  });
}
