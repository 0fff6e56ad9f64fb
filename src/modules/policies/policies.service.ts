import type { Updateable } from 'kysely';
import { appError, notFound, validationError, type FieldProblem } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { toDbBool, toDbJson } from '../../platform/db/index.js';
import { apisRepository } from '../apis/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { pageOf } from '../context.js';
import type { Executor } from '../database.js';
import { policiesRepository } from './policies.repository.js';
import type { PolicyCreateBody, PolicyPatchBody, PolicyResponse } from './policies.schemas.js';
import {
  accessRightsToDb,
  policyFromRow,
  type AccessRight,
  type PoliciesTable,
  type Policy,
} from './policies.table.js';
import { presentPolicy } from './policies.presenter.js';

type AccessRightInput = PolicyCreateBody['access_rights'][number];

/** Checks referenced APIs exist and every allowed_urls path compiles as a regex. */
async function checkAccessRights(
  db: Executor,
  rights: AccessRightInput[],
): Promise<{ problems: FieldProblem[]; rights: AccessRight[] }> {
  const problems: FieldProblem[] = [];
  const ids = [...new Set(rights.map((r) => r.api_id))];
  const known = new Set((await apisRepository.findByIds(db, ids)).map((r) => r.id));
  const seen = new Set<string>();
  rights.forEach((right, i) => {
    if (!known.has(right.api_id))
      problems.push({ field: `access_rights.${i}.api_id`, message: `no API ${right.api_id}` });
    if (seen.has(right.api_id)) problems.push({ field: `access_rights.${i}.api_id`, message: 'listed twice' });
    seen.add(right.api_id);
    (right.allowed_urls ?? []).forEach((url, j) => {
      try {
        new RegExp(url.path);
      } catch (error) {
        problems.push({
          field: `access_rights.${i}.allowed_urls.${j}.path`,
          message: `not a valid regular expression (${(error as Error).message})`,
        });
      }
    });
  });
  return {
    problems,
    rights: rights.map((r) => ({
      apiId: r.api_id,
      allowedUrls: (r.allowed_urls ?? []).map((u) => ({ path: u.path, methods: [...new Set(u.methods)] })),
    })),
  };
}

export function createPoliciesService(ctx: ModuleContext) {
  const { db, bus, clock } = ctx;

  async function load(id: string): Promise<Policy> {
    const row = await policiesRepository.findById(db, id);
    if (!row) throw notFound('Policy', id);
    return policyFromRow(row);
  }

  return {
    load,
    get: async (id: string): Promise<PolicyResponse> => presentPolicy(await load(id)),

    async list(opts: { cursor?: string; limit: number }): Promise<Page<PolicyResponse>> {
      const rows = await policiesRepository.list(db, { after: opts.cursor, limit: opts.limit + 1 });
      return pageOf(rows, opts.limit, (r) => presentPolicy(policyFromRow(r)));
    },

    /** Which keys and catalogue entries use a policy (shown before editing or deleting it). */
    async usage(id: string): Promise<{ key_count: number; catalogue_ids: string[] }> {
      await load(id);
      return {
        key_count: await policiesRepository.countKeysUsing(db, id),
        catalogue_ids: await policiesRepository.catalogueIdsUsing(db, id),
      };
    },

    async create(actor: Actor, body: PolicyCreateBody): Promise<PolicyResponse> {
      const now = clock.now();
      const id = newId('policy', now);
      const row = await db.transaction().execute(async (tx) => {
        const { problems, rights } = await checkAccessRights(tx, body.access_rights);
        if (body.name.trim() === '') problems.push({ field: 'name', message: 'must not be blank' });
        if (problems.length > 0) throw validationError(problems);
        const values: PoliciesTable = {
          id,
          name: body.name.trim(),
          rate: body.rate ?? 0,
          per: body.per ?? 60,
          quota_max: body.quota_max ?? -1,
          quota_renewal_rate: body.quota_renewal_rate ?? 3600,
          key_expires_in: body.key_expires_in ?? 0,
          access_rights: toDbJson(accessRightsToDb(rights)),
          active: toDbBool(body.active ?? true),
          tags: toDbJson(body.tags ?? []),
          version: 1,
          created_at: now,
          updated_at: now,
        };
        await policiesRepository.insert(
          tx,
          values,
          rights.map((r) => r.apiId),
        );
        await recordAudit(
          tx,
          actor,
          { action: 'policy.created', objectType: 'policy', objectId: id, details: { name: values.name } },
          now,
        );
        return values;
      });
      bus.publish({ topic: 'policies', id });
      return presentPolicy(policyFromRow(row));
    },

    async update(actor: Actor, id: string, body: PolicyPatchBody): Promise<PolicyResponse> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const current = await policiesRepository.findById(tx, id);
        if (!current) throw notFound('Policy', id);
        if (body.version !== undefined && body.version !== current.version) {
          throw appError(
            'CONFLICT',
            `Policy ${id} was changed by someone else (version ${current.version}); reload and retry`,
          );
        }
        const patch: Updateable<PoliciesTable> = { updated_at: now };
        let apiIds: string[] | undefined;
        if (body.access_rights !== undefined) {
          const { problems, rights } = await checkAccessRights(tx, body.access_rights);
          if (problems.length > 0) throw validationError(problems);
          patch.access_rights = toDbJson(accessRightsToDb(rights));
          apiIds = rights.map((r) => r.apiId);
        }
        if (body.name !== undefined) {
          if (body.name.trim() === '') throw validationError([{ field: 'name', message: 'must not be blank' }]);
          patch.name = body.name.trim();
        }
        if (body.rate !== undefined) patch.rate = body.rate;
        if (body.per !== undefined) patch.per = body.per;
        if (body.quota_max !== undefined) patch.quota_max = body.quota_max;
        if (body.quota_renewal_rate !== undefined) patch.quota_renewal_rate = body.quota_renewal_rate;
        if (body.key_expires_in !== undefined) patch.key_expires_in = body.key_expires_in;
        if (body.active !== undefined) patch.active = toDbBool(body.active);
        if (body.tags !== undefined) patch.tags = toDbJson(body.tags);
        const changed = await policiesRepository.update(tx, id, current.version, patch);
        if (changed !== 1) throw appError('CONFLICT', `Policy ${id} was changed concurrently; reload and retry`);
        if (apiIds) await policiesRepository.setApis(tx, id, apiIds);
        await recordAudit(
          tx,
          actor,
          { action: 'policy.updated', objectType: 'policy', objectId: id, details: { fields: Object.keys(body) } },
          now,
        );
      });
      bus.publish({ topic: 'policies', id });
      return presentPolicy(await load(id));
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const current = await policiesRepository.findById(tx, id);
        if (!current) throw notFound('Policy', id);
        const keyCount = await policiesRepository.countKeysUsing(tx, id);
        const entries = await policiesRepository.catalogueIdsUsing(tx, id);
        if (keyCount > 0 || entries.length > 0) {
          throw appError(
            'IN_USE',
            `Policy ${id} is used by ${keyCount} key(s) and ${entries.length} catalogue entr${entries.length === 1 ? 'y' : 'ies'}`,
            {
              key_count: keyCount,
              catalogue_ids: entries,
            },
          );
        }
        // Revoked keys may still list the policy: drop those links so the row can go.
        await tx.deleteFrom('key_policies').where('policy_id', '=', id).execute();
        await policiesRepository.delete(tx, id);
        await recordAudit(
          tx,
          actor,
          { action: 'policy.deleted', objectType: 'policy', objectId: id, details: { name: current.name } },
          now,
        );
      });
      bus.publish({ topic: 'policies', id });
    },
  };
}

export type PoliciesService = ReturnType<typeof createPoliciesService>;
