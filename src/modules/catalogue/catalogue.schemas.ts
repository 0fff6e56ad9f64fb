import { Type, type Static } from '@sinclair/typebox';
import { FieldDefinitionBody } from '../content/index.js';

const Approval = Type.Union([Type.Literal('auto'), Type.Literal('manual')]);
const Visibility = Type.Union([Type.Literal('public'), Type.Literal('members'), Type.Literal('hidden')]);

const entryFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' }),
  short_description: Type.String({ maxLength: 500 }),
  long_description: Type.String({ maxLength: 200_000, description: 'Markdown' }),
  policy_id: Type.String({ minLength: 1 }),
  approval: Approval,
  visibility: Visibility,
  key_request_fields: Type.Array(FieldDefinitionBody, { maxItems: 50 }),
  allow_multiple_keys: Type.Boolean(),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 50 }),
};

export const CatalogueCreateBody = Type.Object(
  {
    name: entryFields.name,
    slug: Type.Optional(entryFields.slug),
    short_description: Type.Optional(entryFields.short_description),
    long_description: Type.Optional(entryFields.long_description),
    policy_id: entryFields.policy_id,
    approval: Type.Optional(Approval),
    visibility: Type.Optional(Visibility),
    key_request_fields: Type.Optional(entryFields.key_request_fields),
    allow_multiple_keys: Type.Optional(entryFields.allow_multiple_keys),
    tags: Type.Optional(entryFields.tags),
  },
  { additionalProperties: false },
);
export type CatalogueCreateBody = Static<typeof CatalogueCreateBody>;

export const CataloguePatchBody = Type.Partial(
  Type.Object({ ...entryFields, version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  {
    additionalProperties: false,
    minProperties: 1,
  },
);
export type CataloguePatchBody = Static<typeof CataloguePatchBody>;

export const CatalogueResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  short_description: Type.String(),
  long_description: Type.String(),
  policy_id: Type.String(),
  approval: Type.String(),
  visibility: Type.String(),
  key_request_fields: Type.Array(FieldDefinitionBody),
  allow_multiple_keys: Type.Boolean(),
  tags: Type.Array(Type.String()),
  version: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type CatalogueResponse = Static<typeof CatalogueResponse>;
