import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeveloperCatalogueView } from '../../../modules/catalogue/index.js';
import { describeRate, formatCount } from '../../../modules/policies/index.js';
import { requireDeveloper, type PortalPageDeps } from './deps.js';
import { secretView } from './catalogue.js';

/** My keys: list, reveal-once, roll, revoke (issue 4 §5). */
export function registerKeyPages(app: FastifyInstance, deps: PortalPageDeps & { publicGatewayUrl: string }): void {
  const { views, services } = deps;

  /** The entry a key belongs to as the developer sees it (null when gone or hidden). */
  async function entryOf(catalogueId: string | null): Promise<DeveloperCatalogueView | null> {
    if (!catalogueId) return null;
    try {
      return await services.catalogue.getVisible(catalogueId, true);
    } catch {
      return null;
    }
  }

  app.get('/keys', { preHandler: requireDeveloper }, async (request, reply) => {
    const developer = request.developer!;
    const [keys, requests] = await Promise.all([
      services.keys.list({ developerId: developer.id, limit: 200 }),
      services.keyRequests.list({ developerId: developer.id, limit: 200 }),
    ]);
    const entries = new Map<string, DeveloperCatalogueView | null>();
    for (const id of new Set([...keys.data.map((k) => k.catalogue_id), ...requests.data.map((r) => r.catalogue_id)])) {
      if (id) entries.set(id, await entryOf(id));
    }
    const rows = [];
    for (const key of keys.data) {
      const limits = key.status === 'revoked' ? null : await deps.keyLimits.state(key.id);
      const entry = key.catalogue_id ? entries.get(key.catalogue_id) : null;
      rows.push({
        ...key,
        entry_name: entry?.name ?? null,
        entry_url: entry ? `/catalogue/${encodeURIComponent(entry.slug)}` : null,
        rate_text: limits?.rate_limit ? describeRate(limits.rate_limit.limit, limits.rate_limit.per) : 'no rate limit',
        quota_text: limits?.quota ? describeRate(limits.quota.max, limits.quota.renewal_rate) : 'no quota',
        quota_remaining: limits?.quota ? formatCount(limits.quota.remaining) : null,
        can_reveal: key.status === 'active' && !key.has_secret,
        can_roll: key.status === 'active' && key.has_secret,
        can_revoke: key.status !== 'revoked',
      });
    }
    rows.sort(
      (a, b) =>
        (a.status === 'revoked' ? 1 : 0) - (b.status === 'revoked' ? 1 : 0) ||
        b.created_at.localeCompare(a.created_at) ||
        a.id.localeCompare(b.id),
    );
    const pending = requests.data
      .filter((r) => r.status === 'pending' || r.status === 'rejected')
      .map((r) => ({ ...r, entry_name: entries.get(r.catalogue_id)?.name ?? r.catalogue_id }));
    return views.render(request, reply, 'keys', { title: 'My keys', keys: rows, requests: pending });
  });

  async function showSecret(request: FastifyRequest<{ Params: { id: string } }>, reveal: boolean) {
    const developer = request.developer!;
    const current = await services.keys.loadOwned(developer.id, request.params.id);
    const wasRevealed = current.hash !== null;
    const rolled = await services.keys.roll({ type: 'developer', id: developer.id }, request.params.id, developer.id);
    const entry = await entryOf(rolled.catalogue_id);
    return {
      title: reveal && !wasRevealed ? 'Your key' : 'Your new key secret',
      ...secretView(rolled, rolled.secret ?? '', entry, deps.publicGatewayUrl),
      rolled: wasRevealed,
    };
  }

  app.post<{ Params: { id: string } }>('/keys/:id/reveal', { preHandler: requireDeveloper }, async (request, reply) => {
    const current = await services.keys.loadOwned(request.developer!.id, request.params.id);
    if (current.hash !== null) {
      views.flash(reply, {
        kind: 'warning',
        message: 'This key was already revealed. Roll it if you lost the secret.',
      });
      return reply.redirect('/keys', 303);
    }
    return views.render(request, reply, 'key-secret', await showSecret(request, true));
  });

  app.post<{ Params: { id: string } }>('/keys/:id/roll', { preHandler: requireDeveloper }, async (request, reply) =>
    views.render(request, reply, 'key-secret', await showSecret(request, false)),
  );

  app.post<{ Params: { id: string } }>('/keys/:id/revoke', { preHandler: requireDeveloper }, async (request, reply) => {
    const developer = request.developer!;
    const key = await services.keys.revoke({ type: 'developer', id: developer.id }, request.params.id, developer.id);
    views.flash(reply, {
      kind: 'success',
      message: `Key "${key.name}" was revoked; it stops working within a second.`,
    });
    return reply.redirect('/keys', 303);
  });
}
