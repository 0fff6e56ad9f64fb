import type { Updateable } from 'kysely';
import { appError, notFound, validationError } from '../../shared/errors.js';
import { checkFieldDefinitions } from '../../shared/fields.js';
import { newId } from '../../shared/ids.js';
import { slugify } from '../../shared/slug.js';
import { isUniqueViolation, toDbBool, toDbJson } from '../../platform/db/index.js';
import { apisRepository } from '../apis/index.js';
import { recordAudit } from '../audit/index.js';
import { readSettings } from '../content/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { pageOf } from '../context.js';
import { describeRate, policiesRepository, policyFromRow } from '../policies/index.js';
import { catalogueRepository } from './catalogue.repository.js';
import { entryFromRow, presentEntry, visibleTo, type CatalogueEntry } from './catalogue.model.js';
import type { CatalogueCreateBody, CataloguePatchBody, CatalogueResponse } from './catalogue.schemas.js';
import type { CatalogueEntriesTable } from './catalogue.table.js';

/** What a developer sees of an entry: the policy in plain numbers and words, its APIs on the gateway. */
export interface DeveloperCatalogueView {
  id: string;
  name: string;
  slug: string;
  short_description: string;
  long_description: string;
  approval: string;
  visibility: string;
  allow_multiple_keys: boolean;
  tags: string[];
  key_request_fields: CatalogueEntry['keyRequestFields'];
  policy: {
    rate: number;
    per: number;
    quota_max: number;
    quota_renewal_rate: number;
    key_expires_in: number;
    rate_text: string;
    quota_text: string;
  } | null;
  apis: { name: string; listen_path: string; gateway_url: string }[];
  documentation: { format: string; uploaded_at: string; url: string } | null;
}

function slugConflict(error: unknown): never {
  if (isUniqueViolation(error)) {
    throw appError('SLUG_TAKEN', 'Another catalogue entry already uses this slug', {
      fields: [{ field: 'slug', message: 'is already used' }],
    });
  }
  throw error;
}

export function createCatalogueService(ctx: ModuleContext & { publicGatewayUrl: string }) {
  const { db, bus, clock } = ctx;

  async function load(id: string): Promise<CatalogueEntry> {
    const row = await catalogueRepository.findById(db, id);
    if (!row) throw notFound('Catalogue entry', id);
    return entryFromRow(row);
  }

  async function checkPolicy(policyId: string): Promise<void> {
    if (!(await policiesRepository.findById(db, policyId))) {
      throw validationError([{ field: 'policy_id', message: `no policy ${policyId}` }]);
    }
  }

  async function developerView(entry: CatalogueEntry): Promise<DeveloperCatalogueView> {
    const policyRow = await policiesRepository.findById(db, entry.policyId);
    const policy = policyRow ? policyFromRow(policyRow) : null;
    const apiRows = policy
      ? await apisRepository.findByIds(
          db,
          policy.accessRights.map((r) => r.apiId),
        )
      : [];
    const doc = await db
      .selectFrom('documentation')
      .select(['format', 'uploaded_at'])
      .where('catalogue_id', '=', entry.id)
      .where('is_current', '=', 1)
      .executeTakeFirst();
    const base = ctx.publicGatewayUrl.replace(/\/+$/, '');
    return {
      id: entry.id,
      name: entry.name,
      slug: entry.slug,
      short_description: entry.shortDescription,
      long_description: entry.longDescription,
      approval: entry.approval,
      visibility: entry.visibility,
      allow_multiple_keys: entry.allowMultipleKeys,
      tags: entry.tags,
      key_request_fields: entry.keyRequestFields,
      policy: policy && {
        rate: policy.rate,
        per: policy.per,
        quota_max: policy.quotaMax,
        quota_renewal_rate: policy.quotaRenewalRate,
        key_expires_in: policy.keyExpiresIn,
        rate_text: describeRate(policy.rate, policy.per),
        quota_text: describeRate(policy.quotaMax, policy.quotaRenewalRate),
      },
      apis: apiRows
        .filter((a) => a.active === 1)
        .map((a) => ({ name: a.name, listen_path: a.listen_path, gateway_url: `${base}${a.listen_path}` })),
      documentation: doc
        ? {
            format: doc.format,
            uploaded_at: new Date(doc.uploaded_at).toISOString(),
            url: `/api/v1/catalogue/${entry.id}/documentation`,
          }
        : null,
    };
  }

  return {
    load,
    get: async (id: string): Promise<CatalogueResponse> => presentEntry(await load(id)),

    async list(opts: { cursor?: string; limit: number }): Promise<Page<CatalogueResponse>> {
      const rows = await catalogueRepository.list(db, { after: opts.cursor, limit: opts.limit + 1 });
      return pageOf(rows, opts.limit, (r) => presentEntry(entryFromRow(r)));
    },

    /** Entries a visitor may see; hidden ones never, members-only ones when signed in. */
    async listVisible(
      signedIn: boolean,
      opts: { cursor?: string; limit: number; q?: string; tag?: string },
    ): Promise<Page<DeveloperCatalogueView>> {
      const rows = await catalogueRepository.list(db, {
        visibilities: visibleTo(signedIn),
        after: opts.cursor,
        limit: 1000,
      });
      const q = opts.q?.trim().toLowerCase();
      const matching = rows
        .map(entryFromRow)
        .filter(
          (e) =>
            !q ||
            e.name.toLowerCase().includes(q) ||
            e.shortDescription.toLowerCase().includes(q) ||
            e.tags.some((t) => t.toLowerCase() === q),
        )
        .filter((e) => !opts.tag || e.tags.includes(opts.tag));
      const more = matching.length > opts.limit;
      const kept = matching.slice(0, opts.limit);
      return {
        data: await Promise.all(kept.map(developerView)),
        next_cursor: more ? (kept[kept.length - 1]?.id ?? null) : null,
      };
    },

    /** One entry as a visitor sees it (by id or slug); 404 when not visible to them. */
    async getVisible(idOrSlug: string, signedIn: boolean): Promise<DeveloperCatalogueView> {
      const row =
        (await catalogueRepository.findById(db, idOrSlug)) ?? (await catalogueRepository.findBySlug(db, idOrSlug));
      const entry = row ? entryFromRow(row) : null;
      if (!entry || !visibleTo(signedIn).includes(entry.visibility)) throw notFound('Catalogue entry', idOrSlug);
      return developerView(entry);
    },

    async create(actor: Actor, body: CatalogueCreateBody): Promise<CatalogueResponse> {
      const problems = checkFieldDefinitions(body.key_request_fields ?? [], 'key_request_fields');
      if (problems.length > 0) throw validationError(problems);
      await checkPolicy(body.policy_id);
      const settings = await readSettings(db);
      const keyRequestFields = body.key_request_fields ?? settings.default_key_request_fields;
      const now = clock.now();
      const id = newId('catalogue', now);
      const row: CatalogueEntriesTable = {
        id,
        name: body.name.trim(),
        slug: body.slug ?? `${slugify(body.name)}-${id.slice(-6).toLowerCase()}`,
        short_description: body.short_description ?? '',
        long_description: body.long_description ?? '',
        policy_id: body.policy_id,
        approval: body.approval ?? settings.default_approval,
        visibility: body.visibility ?? 'public',
        key_request_fields: toDbJson(keyRequestFields),
        allow_multiple_keys: toDbBool(body.allow_multiple_keys ?? false),
        tags: toDbJson(body.tags ?? []),
        version: 1,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await catalogueRepository.insert(tx, row);
          await recordAudit(
            tx,
            actor,
            { action: 'catalogue.created', objectType: 'catalogue_entry', objectId: id, details: { name: row.name } },
            now,
          );
        });
      } catch (error) {
        slugConflict(error);
      }
      bus.publish({ topic: 'catalogue', id });
      return presentEntry(entryFromRow(row));
    },

    async update(actor: Actor, id: string, body: CataloguePatchBody): Promise<CatalogueResponse> {
      if (body.key_request_fields) {
        const problems = checkFieldDefinitions(body.key_request_fields, 'key_request_fields');
        if (problems.length > 0) throw validationError(problems);
      }
      if (body.policy_id !== undefined) await checkPolicy(body.policy_id);
      const now = clock.now();
      const patch: Updateable<CatalogueEntriesTable> = { updated_at: now };
      if (body.name !== undefined) patch.name = body.name.trim();
      if (body.slug !== undefined) patch.slug = body.slug;
      if (body.short_description !== undefined) patch.short_description = body.short_description;
      if (body.long_description !== undefined) patch.long_description = body.long_description;
      if (body.policy_id !== undefined) patch.policy_id = body.policy_id;
      if (body.approval !== undefined) patch.approval = body.approval;
      if (body.visibility !== undefined) patch.visibility = body.visibility;
      if (body.key_request_fields !== undefined) patch.key_request_fields = toDbJson(body.key_request_fields);
      if (body.allow_multiple_keys !== undefined) patch.allow_multiple_keys = toDbBool(body.allow_multiple_keys);
      if (body.tags !== undefined) patch.tags = toDbJson(body.tags);
      try {
        await db.transaction().execute(async (tx) => {
          const current = await catalogueRepository.findById(tx, id);
          if (!current) throw notFound('Catalogue entry', id);
          if (body.version !== undefined && body.version !== current.version) {
            throw appError(
              'CONFLICT',
              `Catalogue entry ${id} was changed by someone else (version ${current.version}); reload and retry`,
            );
          }
          if ((await catalogueRepository.update(tx, id, current.version, patch)) !== 1) {
            throw appError('CONFLICT', `Catalogue entry ${id} was changed concurrently; reload and retry`);
          }
          await recordAudit(
            tx,
            actor,
            {
              action: 'catalogue.updated',
              objectType: 'catalogue_entry',
              objectId: id,
              details: { fields: Object.keys(body) },
            },
            now,
          );
        });
      } catch (error) {
        slugConflict(error);
      }
      bus.publish({ topic: 'catalogue', id });
      return presentEntry(await load(id));
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const current = await catalogueRepository.findById(tx, id);
        if (!current) throw notFound('Catalogue entry', id);
        const keys = await catalogueRepository.countKeys(tx, id);
        if (keys > 0) {
          throw appError(
            'IN_USE',
            `Catalogue entry ${id} still has ${keys} live key(s); revoke them or set visibility to hidden`,
            { key_count: keys },
          );
        }
        await catalogueRepository.delete(tx, id);
        await recordAudit(
          tx,
          actor,
          { action: 'catalogue.deleted', objectType: 'catalogue_entry', objectId: id, details: { name: current.name } },
          now,
        );
      });
      bus.publish({ topic: 'catalogue', id });
    },
  };
}

export type CatalogueService = ReturnType<typeof createCatalogueService>;
