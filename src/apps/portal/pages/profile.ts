import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireDeveloper, sendMail, signIn, type PortalPageDeps } from './deps.js';
import { fieldErrors, fieldViews, formBody, isFormError, prefixed } from './forms.js';

/** Profile: edit the custom fields, change the password (issue 4 §2). */
export function registerProfilePages(app: FastifyInstance, deps: PortalPageDeps): void {
  const { views, services } = deps;

  async function profilePage(
    request: FastifyRequest,
    reply: FastifyReply,
    opts: { values?: Record<string, unknown>; errors?: Record<string, string>; status?: number } = {},
  ) {
    const me = await services.developers.get(request.developer!.id);
    const settings = await views.settings();
    const errors = opts.errors ?? {};
    return views.render(
      request,
      reply,
      'profile',
      {
        title: 'Your profile',
        email: me.email,
        created_at: me.created_at,
        fields: fieldViews(settings.signup_fields, opts.values ?? me.fields, errors, 'fields.'),
        form_error: errors._form ?? null,
        current_password_error: errors.current_password ?? null,
        password_error: errors.password ?? null,
        confirm_error: errors.password_confirm ?? null,
      },
      opts.status ?? 200,
    );
  }

  app.get('/profile', { preHandler: requireDeveloper }, async (request, reply) => profilePage(request, reply));

  app.post('/profile', { preHandler: requireDeveloper }, async (request, reply) => {
    const fields = prefixed(formBody(request.body), 'fields.');
    try {
      await services.developers.updateProfile(request.developer!.id, { fields });
    } catch (error) {
      if (isFormError(error))
        return profilePage(request, reply, {
          values: fields,
          errors: { _form: error.message, ...fieldErrors(error) },
          status: error.status,
        });
      throw error;
    }
    views.flash(reply, { kind: 'success', message: 'Your profile was saved.' });
    return reply.redirect('/profile', 303);
  });

  app.post('/profile/password', { preHandler: requireDeveloper }, async (request, reply) => {
    const form = formBody(request.body);
    const password = form.password ?? '';
    if (password.length < 8 || password.length > 200)
      return profilePage(request, reply, { errors: { password: 'Use 8 to 200 characters' }, status: 400 });
    if (password !== (form.password_confirm ?? ''))
      return profilePage(request, reply, { errors: { password_confirm: 'The two passwords differ' }, status: 400 });
    const developer = request.developer!;
    try {
      await services.developers.updateProfile(developer.id, {
        password,
        current_password: form.current_password ?? '',
      });
    } catch (error) {
      if (isFormError(error)) {
        const errors = fieldErrors(error);
        if (errors.current_password) errors.current_password = 'Your current password is wrong';
        return profilePage(request, reply, { errors, status: error.status });
      }
      throw error;
    }
    // Changing the password ended every session (this one too); start a new one here.
    await signIn(deps, request, reply, developer.id);
    await sendMail(deps, { to: developer.email, template: 'password-changed', data: { email: developer.email } });
    views.flash(reply, { kind: 'success', message: 'Your password was changed; other sessions were signed out.' });
    return reply.redirect('/profile', 303);
  });
}
