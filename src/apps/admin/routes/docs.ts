import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import {
  DocumentationPutQuery,
  DocumentationQuery,
  DocumentationResponse,
  DocumentationVersion,
  type DocFormat,
  type DocsService,
  type DocumentationSource,
} from '../../../modules/docs/index.js';
import { appError } from '../../../shared/errors.js';
import { actorOf, requireRole } from '../context.js';
import { ERRORS, ErrorResponse, IdParams, ListOf, PageQuery } from '../schemas.js';

const DocParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100 }),
  docId: Type.String({ minLength: 1, maxLength: 100 }),
});
const DOC_ERRORS = { ...ERRORS, 413: ErrorResponse, 422: ErrorResponse };

function sendSource(reply: FastifyReply, source: DocumentationSource): FastifyReply {
  return reply
    .type(source.contentType)
    .header('content-disposition', `attachment; filename="${source.filename}"`)
    .header('last-modified', new Date(source.uploadedAt).toUTCString())
    .header('x-content-type-options', 'nosniff')
    .send(source.body);
}

/**
 * Documentation of a catalogue entry (issue 5): upload (raw JSON, YAML, API Blueprint
 * or Markdown body), read, delete, and earlier versions. Registered in its own plugin
 * so that only here the body is taken as text of any content type, up to
 * `docs_max_bytes` instead of the admin API's general body limit.
 */
export async function registerDocsRoutes(app: FastifyInstance, docs: DocsService): Promise<void> {
  const maxBytes = docs.maxBytes;
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBytes }, (_request, body, done) =>
      done(null, body),
    );

    // Refuse oversized uploads before reading them when the length is announced, and
    // say which limit applies when a chunked body crosses it.
    const tooLarge = () =>
      appError('PAYLOAD_TOO_LARGE', `Documentation uploads are limited to ${maxBytes} bytes (docs_max_bytes)`, {
        max_bytes: maxBytes,
      });
    scope.setErrorHandler(async (error: FastifyError, request) => {
      if (error.code !== 'FST_ERR_CTP_BODY_TOO_LARGE') throw error;
      // A chunked body crossed the limit mid-stream. Answering at once and closing with
      // the rest of the upload unread makes TCP reset the connection, and the client
      // loses the 413 with it; so read and discard the rest first (lingering close),
      // bounded in bytes and time, then answer.
      const raw = request.raw;
      if (!raw.complete && !raw.destroyed) {
        await new Promise<void>((resolve) => {
          let discarded = 0;
          const finish = () => {
            clearTimeout(timer);
            raw.off('data', onData);
            raw.off('end', finish);
            raw.off('error', finish);
            resolve();
          };
          const onData = (chunk: Buffer) => {
            discarded += chunk.length;
            if (discarded > 4 * maxBytes) finish();
          };
          const timer = setTimeout(finish, 10_000);
          raw.on('data', onData);
          raw.on('end', finish);
          raw.on('error', finish);
          raw.resume();
        });
      }
      throw tooLarge();
    });

    const write = requireRole('admin');
    const read = requireRole('viewer');
    const base = '/catalogue/:id/documentation';

    scope.put<{ Params: { id: string }; Querystring: { format?: DocFormat }; Body: string }>(
      base,
      {
        // onRequest, not preHandler: an anonymous or read-only caller is refused before
        // a 10 MB body is read.
        onRequest: [
          write,
          async (request) => {
            const length = Number(request.headers['content-length'] ?? 0);
            if (length > maxBytes) throw tooLarge();
          },
        ],
        schema: {
          tags: ['documentation'],
          summary: 'Upload documentation (OpenAPI 3.x, Swagger 2.0, API Blueprint or Markdown) as the raw request body',
          params: IdParams,
          querystring: DocumentationPutQuery,
          response: { 200: DocumentationResponse, 201: DocumentationResponse, ...DOC_ERRORS },
        },
      },
      async (request, reply) => {
        const text = typeof request.body === 'string' ? request.body : '';
        const result = await docs.put(actorOf(request), request.params.id, {
          text,
          format: request.query.format,
          contentType: request.headers['content-type'],
        });
        return reply.status(result.created ? 201 : 200).send(result.documentation);
      },
    );

    scope.get<{ Params: { id: string }; Querystring: { source?: boolean } }>(
      base,
      {
        onRequest: read,
        schema: {
          tags: ['documentation'],
          summary: 'Current documentation: metadata and normalised OpenAPI 3, or ?source=true for the upload as it was',
          params: IdParams,
          querystring: DocumentationQuery,
          response: { 200: DocumentationResponse, ...ERRORS },
        },
      },
      async (request, reply) => {
        if (request.query.source) return sendSource(reply, await docs.source(request.params.id));
        return docs.get(request.params.id);
      },
    );

    scope.delete<{ Params: { id: string } }>(
      base,
      { onRequest: write, schema: { tags: ['documentation'], params: IdParams, response: ERRORS } },
      async (request, reply) => {
        await docs.remove(actorOf(request), request.params.id);
        return reply.status(204).send();
      },
    );

    scope.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
      `${base}/versions`,
      {
        onRequest: read,
        schema: {
          tags: ['documentation'],
          summary: 'Uploaded versions, newest first',
          params: IdParams,
          querystring: PageQuery,
          response: { 200: ListOf(DocumentationVersion), ...ERRORS },
        },
      },
      async (request) => docs.versions(request.params.id, request.query),
    );

    scope.get<{ Params: { id: string; docId: string }; Querystring: { source?: boolean } }>(
      `${base}/versions/:docId`,
      {
        onRequest: read,
        schema: {
          tags: ['documentation'],
          params: DocParams,
          querystring: DocumentationQuery,
          response: { 200: DocumentationResponse, ...ERRORS },
        },
      },
      async (request, reply) => {
        if (request.query.source)
          return sendSource(reply, await docs.versionSource(request.params.id, request.params.docId));
        return docs.version(request.params.id, request.params.docId);
      },
    );
  });
}
