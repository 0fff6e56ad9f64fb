import { Type, type Static } from '@sinclair/typebox';

export const AdminRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('viewer')]);

export const AdminCreateBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    password: Type.String({ minLength: 8, maxLength: 200 }),
    role: AdminRole,
  },
  { additionalProperties: false },
);
export type AdminCreateBody = Static<typeof AdminCreateBody>;

export const AdminTokenCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
export type AdminTokenCreateBody = Static<typeof AdminTokenCreateBody>;

export const AdminResponse = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.String(),
  status: Type.String(),
  last_login_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});
export type AdminResponse = Static<typeof AdminResponse>;
