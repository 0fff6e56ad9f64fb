import { Type, type Static } from '@sinclair/typebox';
import { DOMAIN_EVENT_TYPES } from '../events.js';

const EventName = Type.Union(DOMAIN_EVENT_TYPES.map((e) => Type.Literal(e)));

export const WebhookCreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL that receives POSTed events' }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    events: Type.Array(EventName, { minItems: 1, maxItems: DOMAIN_EVENT_TYPES.length, uniqueItems: true }),
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type WebhookCreateBody = Static<typeof WebhookCreateBody>;

export const WebhookPatchBody = Type.Object(
  {
    url: Type.Optional(WebhookCreateBody.properties.url),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    events: Type.Optional(WebhookCreateBody.properties.events),
    active: Type.Optional(Type.Boolean()),
    rotate_secret: Type.Optional(Type.Boolean({ description: 'Issue a new signing secret (returned once)' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type WebhookPatchBody = Static<typeof WebhookPatchBody>;

export const WebhookResponse = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
  secret: Type.Optional(Type.String({ description: 'Only in the response that creates or rotates it' })),
});
export type WebhookResponse = Static<typeof WebhookResponse>;

export const DeliveryResponse = Type.Object({
  id: Type.String(),
  webhook_id: Type.String(),
  event_id: Type.String(),
  event: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_attempt_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  payload: Type.Unknown(),
});
export type DeliveryResponse = Static<typeof DeliveryResponse>;
