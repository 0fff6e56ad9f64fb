import { Type, type Static } from '@sinclair/typebox';
import { DOC_FORMATS } from './docs.formats.js';

export const DocFormatSchema = Type.Union(DOC_FORMATS.map((f) => Type.Literal(f)));

export const SpecProblemSchema = Type.Object({
  message: Type.String(),
  line: Type.Optional(Type.Integer()),
  column: Type.Optional(Type.Integer()),
  pointer: Type.Optional(Type.String()),
});

export const SpecSummarySchema = Type.Object({
  openapi_version: Type.String(),
  title: Type.String(),
  operations: Type.Integer(),
  paths: Type.Integer(),
  webhooks: Type.Integer(),
});

/** One stored version of an entry's documentation (the bodies are fetched separately). */
export const DocumentationVersion = Type.Object({
  id: Type.String(),
  catalogue_id: Type.String(),
  format: DocFormatSchema,
  source_content_type: Type.String(),
  content_hash: Type.String(),
  is_current: Type.Boolean(),
  uploaded_by: Type.Union([Type.String(), Type.Null()]),
  uploaded_at: Type.String({ format: 'date-time' }),
  source_url: Type.String(),
});
export type DocumentationVersion = Static<typeof DocumentationVersion>;

/** The current documentation: metadata, a summary and the normalised OpenAPI 3 document. */
export const DocumentationResponse = Type.Object({
  ...DocumentationVersion.properties,
  summary: Type.Union([SpecSummarySchema, Type.Null()]),
  warnings: Type.Optional(Type.Array(SpecProblemSchema)),
  openapi: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()])),
  html: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type DocumentationResponse = Static<typeof DocumentationResponse>;

export const DocumentationQuery = Type.Object({
  source: Type.Optional(Type.Boolean({ description: 'true: download the source exactly as uploaded' })),
});

export const DocumentationPutQuery = Type.Object({
  format: Type.Optional(DocFormatSchema),
});
