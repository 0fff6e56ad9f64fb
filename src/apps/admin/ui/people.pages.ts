import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { analyticsQuery } from '../../../modules/analytics/index.js';
import { recordAudit } from '../../../modules/audit/index.js';
import type { DeveloperResponse } from '../../../modules/developers/index.js';
import { KeyIssueBody, KeyPatchBody } from '../../../modules/keys/index.js';
import { appError, isAppError } from '../../../shared/errors.js';
import { actorOf } from '../context.js';
import {
  all,
  checked,
  compact,
  flash,
  list,
  optionalText,
  problemsOf,
  queryString,
  render,
  text,
  uiRole,
  type FormBody,
  type UiDeps,
} from './support.js';

const DAY = 86_400_000;

/** Key requests inbox, developers and keys. */
export function registerPeoplePages(app: FastifyInstance, deps: UiDeps): void {
  const { s } = deps;
  const read = { preHandler: uiRole('viewer') };
  const write = { preHandler: uiRole('admin') };

  async function names() {
    const [entries, policies] = await Promise.all([all((o) => s.catalogue.list(o)), all((o) => s.policies.list(o))]);
    return {
      entries: new Map(entries.map((e) => [e.id, e])),
      policies: new Map(policies.map((p) => [p.id, p])),
      policyList: policies,
    };
  }

  async function developerOf(
    cache: Map<string, DeveloperResponse | null>,
    id: string | null,
  ): Promise<DeveloperResponse | null> {
    if (!id) return null;
    if (!cache.has(id)) cache.set(id, await s.developers.get(id).catch(() => null));
    return cache.get(id) ?? null;
  }

  // ── Key requests inbox ────────────────────────────────────────────────────────────
  app.get<{ Querystring: { status?: string; cursor?: string } }>('/key-requests', read, async (request, reply) => {
    const status = ['pending', 'approved', 'rejected', 'all'].includes(request.query.status ?? '')
      ? (request.query.status as string)
      : 'pending';
    // Oldest pending first: they have waited longest.
    const page = await s.keyRequests.list({
      status: status === 'all' ? undefined : status,
      cursor: request.query.cursor,
      limit: 50,
    });
    const { entries } = await names();
    const devs = new Map<string, DeveloperResponse | null>();
    const rows = [];
    for (const r of page.data) {
      const developer = await developerOf(devs, r.developer_id);
      const entry = entries.get(r.catalogue_id);
      const labels = new Map((entry?.key_request_fields ?? []).map((f) => [f.name, f.label]));
      rows.push({
        ...r,
        developer,
        developer_fields: Object.entries(developer?.fields ?? {}).map(([k, v]) => ({ name: k, value: String(v) })),
        answers: Object.entries(r.fields).map(([k, v]) => ({ label: labels.get(k) ?? k, value: String(v) })),
        entry_name: entry?.name ?? r.catalogue_id,
      });
    }
    return render(deps, request, reply, 'key-requests', {
      title: 'Key requests',
      status,
      requests: rows,
      next_cursor: page.next_cursor,
      next_query: page.next_cursor ? queryString({ status, cursor: page.next_cursor }) : null,
    });
  });

  app.post<{ Params: { id: string } }>('/key-requests/:id/approve', write, async (request, reply) => {
    await s.keyRequests.approve(actorOf(request), request.params.id);
    flash(reply, 'success', 'Request approved; the developer reveals the key in the portal.');
    return reply.redirect('/key-requests');
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/key-requests/:id/reject', write, async (request, reply) => {
    const reason = text(request.body, 'reason');
    if (reason === '' || reason.length > 1000)
      throw appError('VALIDATION_FAILED', 'Give a reason (at most 1,000 characters); the developer sees it.');
    await s.keyRequests.reject(actorOf(request), request.params.id, reason);
    flash(reply, 'success', 'Request rejected.');
    return reply.redirect('/key-requests');
  });
  app.post<{ Body: FormBody }>('/key-requests/bulk', write, async (request, reply) => {
    const ids = list(request.body, 'ids').slice(0, 100);
    const action = text(request.body, 'action');
    const reason = text(request.body, 'reason');
    if (ids.length === 0) throw appError('VALIDATION_FAILED', 'Select at least one request.');
    if (action !== 'approve' && action !== 'reject') throw appError('VALIDATION_FAILED', 'Choose approve or reject.');
    if (action === 'reject' && reason === '') throw appError('VALIDATION_FAILED', 'Give a reason to reject.');
    let done = 0;
    const failed: string[] = [];
    // One at a time, each in its own transaction: one failure does not undo the others.
    for (const id of ids) {
      try {
        if (action === 'approve') await s.keyRequests.approve(actorOf(request), id);
        else await s.keyRequests.reject(actorOf(request), id, reason);
        done += 1;
      } catch (error) {
        failed.push(`${id}: ${isAppError(error) ? error.message : 'failed'}`);
      }
    }
    flash(
      reply,
      failed.length ? 'warning' : 'success',
      `${done} request(s) ${action === 'approve' ? 'approved' : 'rejected'}.${failed.length ? ` Not done: ${failed.join('; ')}` : ''}`,
    );
    return reply.redirect('/key-requests');
  });

  // ── Developers ─────────────────────────────────────────────────────────────────
  app.get<{ Querystring: { q?: string; status?: string; cursor?: string } }>(
    '/developers',
    read,
    async (request, reply) => {
      const q = (request.query.q ?? '').trim().slice(0, 200);
      const status = ['active', 'inactive', 'pending'].includes(request.query.status ?? '')
        ? request.query.status
        : undefined;
      let developers: DeveloperResponse[];
      let next: string | null = null;
      if (q === '' || q.includes('@')) {
        const page = await s.developers.list({
          email: q || undefined,
          status,
          cursor: request.query.cursor,
          limit: 50,
        });
        developers = page.data;
        next = page.next_cursor;
      } else {
        // Email or any profile field containing the text (first 1,000 developers).
        const needle = q.toLowerCase();
        developers = (await all((o) => s.developers.list({ ...o, status })))
          .filter(
            (d) =>
              d.email.toLowerCase().includes(needle) ||
              Object.values(d.fields).some((v) => String(v).toLowerCase().includes(needle)),
          )
          .slice(0, 200);
      }
      return render(deps, request, reply, 'developers', {
        title: 'Developers',
        developers,
        q,
        status: status ?? '',
        next_query: next ? queryString({ q, status, cursor: next }) : null,
      });
    },
  );

  async function developerPage(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const developer = await s.developers.get(id);
    const { entries, policies, policyList } = await names();
    const keys = (await s.keys.list({ developerId: id, limit: 200 })).data.map((k) => ({
      ...k,
      policy_names: k.policy_ids.map((p) => policies.get(p)?.name ?? p),
      entry_name: k.catalogue_id ? (entries.get(k.catalogue_id)?.name ?? k.catalogue_id) : null,
    }));
    const requests = (await s.keyRequests.list({ developerId: id, limit: 200 })).data.map((r) => ({
      ...r,
      entry_name: entries.get(r.catalogue_id)?.name ?? r.catalogue_id,
    }));
    const now = s.ctx.clock.now();
    const usage = await analyticsQuery(s.ctx.db, { from: now - 7 * DAY, to: now, resolution: 'day', developerId: id });
    return render(
      deps,
      request,
      reply,
      'developer',
      {
        title: developer.email,
        developer,
        fields: Object.entries(developer.fields).map(([k, v]) => ({ name: k, value: String(v) })),
        keys,
        requests,
        usage,
        policies: policyList,
        ...extra,
      },
      status,
    );
  }

  app.get<{ Params: { id: string } }>('/developers/:id', read, async (request, reply) =>
    developerPage(request, reply, request.params.id),
  );
  app.post<{ Params: { id: string }; Body: FormBody }>('/developers/:id/status', write, async (request, reply) => {
    const status = text(request.body, 'status');
    if (status !== 'active' && status !== 'inactive')
      throw appError('VALIDATION_FAILED', 'Status must be active or inactive');
    const dev = await s.developers.adminUpdate(actorOf(request), request.params.id, { status });
    flash(
      reply,
      'success',
      status === 'inactive'
        ? `${dev.email} deactivated: their keys stop working at once and their sessions ended.`
        : `${dev.email} reactivated: their keys work again.`,
    );
    return reply.redirect(`/developers/${encodeURIComponent(dev.id)}`);
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/developers/:id/delete', write, async (request, reply) => {
    const dev = await s.developers.get(request.params.id);
    if (text(request.body, 'confirm_email').toLowerCase() !== dev.email.toLowerCase()) {
      return developerPage(
        request,
        reply,
        dev.id,
        { delete_error: 'Type the developer’s email address to confirm.' },
        400,
      );
    }
    await s.developers.remove(actorOf(request), dev.id);
    flash(reply, 'success', `${dev.email} deleted with their keys and requests.`);
    return reply.redirect('/developers');
  });
  app.post<{ Params: { id: string }; Body: FormBody }>('/developers/:id/keys', write, async (request, reply) => {
    const dev = await s.developers.get(request.params.id);
    try {
      const body = checked<KeyIssueBody>(
        request,
        KeyIssueBody,
        compact({
          developer_id: dev.id,
          name: text(request.body, 'name'),
          policy_ids: list(request.body, 'policy_ids'),
        }),
      );
      const key = await s.keys.issue(actorOf(request), body);
      // The secret is in this one response only.
      return developerPage(request, reply, dev.id, { new_key: { id: key.id, name: key.name, secret: key.secret } });
    } catch (error) {
      const p = problemsOf(error);
      if (p) return developerPage(request, reply, dev.id, { issue_error: p.message }, 400);
      throw error;
    }
  });

  // ── Keys ────────────────────────────────────────────────────────────────────────
  app.get<{ Querystring: { prefix?: string; developer?: string; policy?: string; status?: string; cursor?: string } }>(
    '/keys',
    read,
    async (request, reply) => {
      const prefix = (request.query.prefix ?? '').trim().slice(0, 20);
      const developerQuery = (request.query.developer ?? '').trim().slice(0, 254);
      const policyId = (request.query.policy ?? '').trim().slice(0, 100) || undefined;
      const status = ['active', 'inactive', 'revoked'].includes(request.query.status ?? '')
        ? request.query.status
        : undefined;
      let developerId: string | undefined;
      let developerMissing = false;
      if (developerQuery) {
        if (developerQuery.startsWith('dev_')) developerId = developerQuery;
        else {
          const found = await s.developers.list({ email: developerQuery, limit: 1 });
          developerId = found.data[0]?.id;
          developerMissing = !developerId;
        }
      }
      const page = developerMissing
        ? { data: [], next_cursor: null }
        : await s.keys.list({
            prefix: prefix || undefined,
            developerId,
            policyId,
            status,
            cursor: request.query.cursor,
            limit: 50,
          });
      const { policies } = await names();
      const devs = new Map<string, DeveloperResponse | null>();
      const rows = [];
      for (const k of page.data)
        rows.push({
          ...k,
          developer: await developerOf(devs, k.developer_id),
          policy_names: k.policy_ids.map((p) => policies.get(p)?.name ?? p),
        });
      return render(deps, request, reply, 'keys', {
        title: 'Keys',
        keys: rows,
        filter: { prefix, developer: developerQuery, policy: policyId ?? '', status: status ?? '' },
        policy: policyId ? (policies.get(policyId) ?? { id: policyId, name: policyId }) : null,
        next_query: page.next_cursor
          ? queryString({ prefix, developer: developerQuery, policy: policyId, status, cursor: page.next_cursor })
          : null,
      });
    },
  );

  async function keyPage(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const key = await s.keys.get(id);
    const { policyList, entries } = await names();
    const developer = key.developer_id ? await s.developers.get(key.developer_id).catch(() => null) : null;
    const limits = await s.keyLimits.state(id);
    const now = s.ctx.clock.now();
    const usage = await analyticsQuery(s.ctx.db, { from: now - 7 * DAY, to: now, resolution: 'day', keyId: id });
    return render(
      deps,
      request,
      reply,
      'key',
      {
        title: `Key ${key.name}`,
        key,
        developer,
        entry_name: key.catalogue_id ? (entries.get(key.catalogue_id)?.name ?? key.catalogue_id) : null,
        limits,
        usage,
        policies: policyList.map((p) => ({ id: p.id, name: p.name, checked: key.policy_ids.includes(p.id) })),
        expires_local: key.expires_at ? key.expires_at.slice(0, 16) : '',
        ...extra,
      },
      status,
    );
  }

  app.get<{ Params: { id: string } }>('/keys/:id', read, async (request, reply) =>
    keyPage(request, reply, request.params.id),
  );
  app.post<{ Params: { id: string }; Body: FormBody }>('/keys/:id', write, async (request, reply) => {
    const key = await s.keys.get(request.params.id);
    const expires = optionalText(request.body, 'expires_at');
    let expiresIso: string | null = null;
    if (expires) {
      const ms = Date.parse(/Z$|[+-]\d\d:\d\d$/.test(expires) ? expires : `${expires}Z`);
      if (Number.isNaN(ms))
        return keyPage(request, reply, key.id, { error: 'Expiry must be a date and time (UTC).' }, 400);
      expiresIso = new Date(ms).toISOString();
    }
    try {
      const body = checked<KeyPatchBody>(
        request,
        KeyPatchBody,
        compact({
          name: text(request.body, 'name') || undefined,
          policy_ids: list(request.body, 'policy_ids'),
          status: text(request.body, 'status') || undefined,
          expires_at: expiresIso,
          version: key.version,
        }),
      );
      await s.keys.update(actorOf(request), key.id, body);
    } catch (error) {
      const p = problemsOf(error);
      if (p) return keyPage(request, reply, key.id, { error: p.message }, isAppError(error) ? error.status : 400);
      throw error;
    }
    flash(reply, 'success', 'Key saved; the gateway applies it within a second.');
    return reply.redirect(`/keys/${encodeURIComponent(key.id)}`);
  });
  app.post<{ Params: { id: string } }>('/keys/:id/reset-quota', write, async (request, reply) => {
    const key = await s.keys.get(request.params.id);
    await s.keyLimits.resetQuota(key.id);
    await s.keys.load(key.id);
    // Same audit event as the REST route.
    await recordAudit(
      s.ctx.db,
      actorOf(request),
      { action: 'key.quota_reset', objectType: 'key', objectId: key.id },
      s.ctx.clock.now(),
    );
    flash(reply, 'success', 'Quota reset.');
    return reply.redirect(`/keys/${encodeURIComponent(key.id)}`);
  });
  app.post<{ Params: { id: string } }>('/keys/:id/revoke', write, async (request, reply) => {
    const key = await s.keys.revoke(actorOf(request), request.params.id);
    flash(reply, 'success', `Key "${key.name}" revoked; the gateway refuses it within a second.`);
    return reply.redirect(`/keys/${encodeURIComponent(key.id)}`);
  });
}
