import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Actor, Page } from '../../../modules/context.js';
import { actorOf, requireRole } from '../context.js';
import { ERRORS, IdParams, ListOf, PageQuery } from '../schemas.js';

/** The five routes every configuration object has; the service holds the rules. */
export interface CrudService<C, P, R> {
  list(opts: { cursor?: string; limit: number }): Promise<Page<R>>;
  get(id: string): Promise<R>;
  create(actor: Actor, body: C): Promise<R>;
  update(actor: Actor, id: string, body: P): Promise<R>;
  remove(actor: Actor, id: string): Promise<void>;
}

export interface CrudSpec<C, P, R> {
  path: string;
  tag: string;
  createBody: TSchema;
  patchBody: TSchema;
  response: TSchema;
  service: CrudService<C, P, R>;
}

export function registerCrud<C, P, R>(app: FastifyInstance, spec: CrudSpec<C, P, R>): void {
  const { path, tag, service } = spec;
  const read = { onRequest: requireRole('viewer') };
  const write = { onRequest: requireRole('admin') };

  app.get<{ Querystring: { limit: number; cursor?: string } }>(
    path,
    { ...read, schema: { tags: [tag], querystring: PageQuery, response: { 200: ListOf(spec.response), ...ERRORS } } },
    async (request) => service.list(request.query),
  );
  app.post<{ Body: C }>(
    path,
    { ...write, schema: { tags: [tag], body: spec.createBody, response: { 201: spec.response, ...ERRORS } } },
    async (request, reply) => reply.status(201).send(await service.create(actorOf(request), request.body as C)),
  );
  app.get<{ Params: { id: string } }>(
    `${path}/:id`,
    { ...read, schema: { tags: [tag], params: IdParams, response: { 200: spec.response, ...ERRORS } } },
    async (request) => service.get(request.params.id),
  );
  app.patch<{ Params: { id: string }; Body: P }>(
    `${path}/:id`,
    {
      ...write,
      schema: { tags: [tag], params: IdParams, body: spec.patchBody, response: { 200: spec.response, ...ERRORS } },
    },
    async (request) => service.update(actorOf(request), request.params.id, request.body as P),
  );
  app.delete<{ Params: { id: string } }>(
    `${path}/:id`,
    { ...write, schema: { tags: [tag], params: IdParams, response: ERRORS } },
    async (request, reply) => {
      await service.remove(actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
}
