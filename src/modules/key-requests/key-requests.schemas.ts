import { Type, type Static } from '@sinclair/typebox';
import { KeyResponse } from '../keys/index.js';

export const KeyRequestCreateBody = Type.Object(
  {
    catalogue_id: Type.String({ minLength: 1 }),
    key_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'default' })),
    fields: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 2000 }), Type.Boolean(), Type.Number()])),
    ),
  },
  { additionalProperties: false },
);
export type KeyRequestCreateBody = Static<typeof KeyRequestCreateBody>;

export const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export type RejectBody = Static<typeof RejectBody>;

export const KeyRequestResponse = Type.Object({
  id: Type.String(),
  developer_id: Type.String(),
  catalogue_id: Type.String(),
  key_name: Type.String(),
  fields: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  decided_by: Type.Union([Type.String(), Type.Null()]),
  decided_at: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  key_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
  key: Type.Optional(KeyResponse),
});
export type KeyRequestResponse = Static<typeof KeyRequestResponse>;
