import { Type, type Static } from '@sinclair/typebox';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const AllowedUrlBody = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Regular expression matched against the whole path after the listen path',
    }),
    methods: Type.Array(Type.Union(HTTP_METHODS.map((m) => Type.Literal(m))), {
      maxItems: 7,
      description: 'Empty = any method',
    }),
  },
  { additionalProperties: false },
);

export const AccessRightBody = Type.Object(
  {
    api_id: Type.String({ minLength: 1 }),
    allowed_urls: Type.Optional(Type.Array(AllowedUrlBody, { maxItems: 100 })),
  },
  { additionalProperties: false },
);

const policyFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  rate: Type.Integer({
    minimum: -1,
    maximum: 1_000_000_000,
    description: 'Requests per `per` seconds; ≤ 0 = no limit',
  }),
  per: Type.Integer({ minimum: 1, maximum: 31_536_000 }),
  quota_max: Type.Integer({
    minimum: -1,
    maximum: 1_000_000_000_000,
    description: 'Requests per renewal period; ≤ 0 = unlimited',
  }),
  quota_renewal_rate: Type.Integer({ minimum: 1, maximum: 315_360_000, description: 'Seconds per quota period' }),
  key_expires_in: Type.Integer({
    minimum: 0,
    maximum: 315_360_000,
    description: 'Lifetime of new keys in seconds; 0 = never',
  }),
  access_rights: Type.Array(AccessRightBody, { maxItems: 200 }),
  active: Type.Boolean(),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 50 }),
};

export const PolicyCreateBody = Type.Object(
  {
    name: policyFields.name,
    rate: Type.Optional(policyFields.rate),
    per: Type.Optional(policyFields.per),
    quota_max: Type.Optional(policyFields.quota_max),
    quota_renewal_rate: Type.Optional(policyFields.quota_renewal_rate),
    key_expires_in: Type.Optional(policyFields.key_expires_in),
    access_rights: policyFields.access_rights,
    active: Type.Optional(policyFields.active),
    tags: Type.Optional(policyFields.tags),
  },
  { additionalProperties: false },
);
export type PolicyCreateBody = Static<typeof PolicyCreateBody>;

export const PolicyPatchBody = Type.Partial(
  Type.Object({ ...policyFields, version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  { additionalProperties: false, minProperties: 1 },
);
export type PolicyPatchBody = Static<typeof PolicyPatchBody>;

export const PolicyResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  rate: Type.Integer(),
  per: Type.Integer(),
  quota_max: Type.Integer(),
  quota_renewal_rate: Type.Integer(),
  key_expires_in: Type.Integer(),
  access_rights: Type.Array(
    Type.Object({
      api_id: Type.String(),
      allowed_urls: Type.Array(Type.Object({ path: Type.String(), methods: Type.Array(Type.String()) })),
    }),
  ),
  active: Type.Boolean(),
  tags: Type.Array(Type.String()),
  version: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type PolicyResponse = Static<typeof PolicyResponse>;
