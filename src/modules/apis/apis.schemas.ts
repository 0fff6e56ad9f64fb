import { Type, type Static } from '@sinclair/typebox';

const ListenPath = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Path prefix on the gateway, e.g. /petstore/',
});
const TargetUrl = Type.String({ minLength: 1, maxLength: 2000, description: 'Upstream base URL (http or https)' });

export const ApiCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' })),
    listen_path: ListenPath,
    target_url: TargetUrl,
    strip_listen_path: Type.Optional(Type.Boolean({ default: true })),
    auth: Type.Optional(Type.Union([Type.Literal('key'), Type.Literal('keyless')], { default: 'key' })),
    key_query_param: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.Null()])),
    rate: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000_000,
        description: 'API-wide limit: requests per `per` seconds, 0 = none',
      }),
    ),
    per: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    upstream_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type ApiCreateBody = Static<typeof ApiCreateBody>;

export const ApiPatchBody = Type.Partial(
  Type.Object(
    {
      ...ApiCreateBody.properties,
      version: Type.Integer({
        minimum: 1,
        description: 'If given, the update applies only to this version (409 otherwise)',
      }),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, minProperties: 1 },
);
export type ApiPatchBody = Static<typeof ApiPatchBody>;

export const ApiResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  listen_path: Type.String(),
  target_url: Type.String(),
  strip_listen_path: Type.Boolean(),
  auth: Type.String(),
  key_query_param: Type.Union([Type.String(), Type.Null()]),
  rate: Type.Integer(),
  per: Type.Integer(),
  upstream_timeout_ms: Type.Integer(),
  active: Type.Boolean(),
  version: Type.Integer(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type ApiResponse = Static<typeof ApiResponse>;
