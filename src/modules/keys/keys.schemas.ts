import { Type, type Static } from '@sinclair/typebox';

export const KeyIssueBody = Type.Object(
  {
    developer_id: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    policy_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 20 }),
    catalogue_id: Type.Optional(Type.String({ minLength: 1 })),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type KeyIssueBody = Static<typeof KeyIssueBody>;

export const KeyPatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    policy_ids: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 20 })),
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('inactive')], { description: 'Use DELETE to revoke' }),
    ),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
    version: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type KeyPatchBody = Static<typeof KeyPatchBody>;

export const KeyResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  developer_id: Type.Union([Type.String(), Type.Null()]),
  catalogue_id: Type.Union([Type.String(), Type.Null()]),
  policy_ids: Type.Array(Type.String()),
  prefix: Type.Union([Type.String(), Type.Null()]),
  last4: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  /** False for an admin-approved key whose secret the developer has not revealed yet. */
  has_secret: Type.Boolean(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  version: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
  secret: Type.Optional(Type.String({ description: 'Only in the one response that creates the secret' })),
});
export type KeyResponse = Static<typeof KeyResponse>;
