import type { Updateable } from 'kysely';
import { appError, notFound, validationError, type FieldProblem } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { slugify } from '../../shared/slug.js';
import { isUniqueViolation, toDbBool, violatedConstraint } from '../../platform/db/index.js';
import { recordAudit } from '../audit/index.js';
import type { Actor, ModuleContext, Page } from '../context.js';
import { pageOf } from '../context.js';
import { apisRepository } from './apis.repository.js';
import type { ApiCreateBody, ApiPatchBody, ApiResponse } from './apis.schemas.js';
import { apiFromRow, type Api, type ApisTable } from './apis.table.js';
import { presentApi } from './apis.presenter.js';

const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
const RESERVED_PREFIX = '/__gatehouse';

/**
 * Listen paths are stored with leading and trailing slash (`/petstore/`) so that
 * prefix matching on segment boundaries is a plain `startsWith`.
 */
export function normaliseListenPath(input: string): { value: string; problem?: string } {
  let path = input.trim();
  if (!path.startsWith('/')) return { value: path, problem: 'must start with /' };
  if (!/^[A-Za-z0-9._~\-/]+$/.test(path))
    return { value: path, problem: 'may hold only letters, digits and . _ ~ - /' };
  if (/\/\.\.?(\/|$)/.test(path) || path.includes('//'))
    return { value: path, problem: 'must not contain empty, . or .. segments' };
  if (!path.endsWith('/')) path += '/';
  if (path.toLowerCase().startsWith(`${RESERVED_PREFIX}/`))
    return { value: path, problem: `${RESERVED_PREFIX} is reserved for the gateway` };
  return { value: path };
}

function checkTargetUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http or https URL';
    if (parsed.username || parsed.password) return 'must not contain credentials';
    if (parsed.search || parsed.hash) return 'must not contain a query or fragment';
    return undefined;
  } catch {
    return 'must be an absolute URL';
  }
}

function validate(body: Partial<ApiCreateBody>): { problems: FieldProblem[]; listenPath?: string } {
  const problems: FieldProblem[] = [];
  let listenPath: string | undefined;
  if (body.listen_path !== undefined) {
    const normalised = normaliseListenPath(body.listen_path);
    if (normalised.problem) problems.push({ field: 'listen_path', message: normalised.problem });
    else listenPath = normalised.value;
  }
  if (body.target_url !== undefined) {
    const problem = checkTargetUrl(body.target_url);
    if (problem) problems.push({ field: 'target_url', message: problem });
  }
  if (body.name !== undefined && body.name.trim() === '')
    problems.push({ field: 'name', message: 'must not be blank' });
  return { problems, listenPath };
}

function conflictFrom(error: unknown): never {
  if (isUniqueViolation(error)) {
    const which = violatedConstraint(error);
    if (which.includes('listen_path'))
      throw appError('LISTEN_PATH_TAKEN', 'Another API already uses this listen path', {
        fields: [{ field: 'listen_path', message: 'is already used' }],
      });
    if (which.includes('slug'))
      throw appError('SLUG_TAKEN', 'Another API already uses this slug', {
        fields: [{ field: 'slug', message: 'is already used' }],
      });
    throw appError('DUPLICATE');
  }
  throw error;
}

export function createApisService(ctx: ModuleContext) {
  const { db, bus, clock } = ctx;

  async function load(id: string): Promise<Api> {
    const row = await apisRepository.findById(db, id);
    if (!row) throw notFound('API', id);
    return apiFromRow(row);
  }

  return {
    get: async (id: string): Promise<ApiResponse> => presentApi(await load(id)),
    load,

    async list(opts: { cursor?: string; limit: number }): Promise<Page<ApiResponse>> {
      const rows = await apisRepository.list(db, { after: opts.cursor, limit: opts.limit + 1 });
      return pageOf(rows, opts.limit, (r) => presentApi(apiFromRow(r)));
    },

    async create(actor: Actor, body: ApiCreateBody): Promise<ApiResponse> {
      const { problems, listenPath } = validate(body);
      if (problems.length > 0 || !listenPath) throw validationError(problems);
      const now = clock.now();
      const id = newId('api', now);
      const row: ApisTable = {
        id,
        name: body.name.trim(),
        slug: body.slug ?? `${slugify(body.name)}-${id.slice(-6).toLowerCase()}`,
        listen_path: listenPath,
        target_url: body.target_url.replace(/\/+$/, ''),
        strip_listen_path: toDbBool(body.strip_listen_path ?? true),
        auth: body.auth ?? 'key',
        key_query_param: body.key_query_param ?? null,
        rate: body.rate ?? 0,
        per: body.per ?? 1,
        upstream_timeout_ms: body.upstream_timeout_ms ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
        active: toDbBool(body.active ?? true),
        version: 1,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.transaction().execute(async (tx) => {
          await apisRepository.insert(tx, row);
          await recordAudit(
            tx,
            actor,
            {
              action: 'api.created',
              objectType: 'api',
              objectId: id,
              details: { name: row.name, listen_path: row.listen_path },
            },
            now,
          );
        });
      } catch (error) {
        conflictFrom(error);
      }
      bus.publish({ topic: 'apis', id });
      return presentApi(apiFromRow(row));
    },

    async update(actor: Actor, id: string, body: ApiPatchBody): Promise<ApiResponse> {
      const { problems, listenPath } = validate(body);
      if (problems.length > 0) throw validationError(problems);
      const now = clock.now();
      const patch: Updateable<ApisTable> = { updated_at: now };
      if (body.name !== undefined) patch.name = body.name.trim();
      if (body.slug !== undefined) patch.slug = body.slug;
      if (listenPath !== undefined) patch.listen_path = listenPath;
      if (body.target_url !== undefined) patch.target_url = body.target_url.replace(/\/+$/, '');
      if (body.strip_listen_path !== undefined) patch.strip_listen_path = toDbBool(body.strip_listen_path);
      if (body.auth !== undefined) patch.auth = body.auth;
      if (body.key_query_param !== undefined) patch.key_query_param = body.key_query_param;
      if (body.rate !== undefined) patch.rate = body.rate;
      if (body.per !== undefined) patch.per = body.per;
      if (body.upstream_timeout_ms !== undefined) patch.upstream_timeout_ms = body.upstream_timeout_ms;
      if (body.active !== undefined) patch.active = toDbBool(body.active);
      try {
        await db.transaction().execute(async (tx) => {
          const current = await apisRepository.findById(tx, id);
          if (!current) throw notFound('API', id);
          if (body.version !== undefined && body.version !== current.version) {
            throw appError(
              'CONFLICT',
              `API ${id} was changed by someone else (version ${current.version}); reload and retry`,
            );
          }
          const changed = await apisRepository.update(tx, id, current.version, patch);
          if (changed !== 1) throw appError('CONFLICT', `API ${id} was changed concurrently; reload and retry`);
          await recordAudit(
            tx,
            actor,
            { action: 'api.updated', objectType: 'api', objectId: id, details: { fields: Object.keys(body) } },
            now,
          );
        });
      } catch (error) {
        conflictFrom(error);
      }
      bus.publish({ topic: 'apis', id });
      return presentApi(await load(id));
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const now = clock.now();
      await db.transaction().execute(async (tx) => {
        const current = await apisRepository.findById(tx, id);
        if (!current) throw notFound('API', id);
        const policyIds = await apisRepository.policyIdsUsing(tx, id);
        if (policyIds.length > 0) {
          throw appError(
            'IN_USE',
            `API ${id} is still granted by ${policyIds.length} polic${policyIds.length === 1 ? 'y' : 'ies'}; remove it from them first`,
            { policy_ids: policyIds },
          );
        }
        await apisRepository.delete(tx, id);
        await recordAudit(
          tx,
          actor,
          { action: 'api.deleted', objectType: 'api', objectId: id, details: { name: current.name } },
          now,
        );
      });
      bus.publish({ topic: 'apis', id });
    },
  };
}

export type ApisService = ReturnType<typeof createApisService>;
