import { Type, type Static } from '@sinclair/typebox';

const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' });
const Password = Type.String({ minLength: 8, maxLength: 200 });
const FieldsInput = Type.Record(
  Type.String(),
  Type.Union([Type.String({ maxLength: 2000 }), Type.Boolean(), Type.Number()]),
);

export const DeveloperRegisterBody = Type.Object(
  { email: Email, password: Password, fields: Type.Optional(FieldsInput) },
  { additionalProperties: false },
);
export type DeveloperRegisterBody = Static<typeof DeveloperRegisterBody>;

export const LoginBody = Type.Object(
  { email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const DeveloperProfilePatchBody = Type.Object(
  {
    fields: Type.Optional(FieldsInput),
    password: Type.Optional(Password),
    current_password: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type DeveloperProfilePatchBody = Static<typeof DeveloperProfilePatchBody>;

export const DeveloperAdminPatchBody = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive'), Type.Literal('pending')])),
    fields: Type.Optional(FieldsInput),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type DeveloperAdminPatchBody = Static<typeof DeveloperAdminPatchBody>;

export const DeveloperResponse = Type.Object({
  id: Type.String(),
  email: Type.String(),
  fields: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  email_verified_at: Type.Union([Type.String(), Type.Null()]),
  last_login_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type DeveloperResponse = Static<typeof DeveloperResponse>;
