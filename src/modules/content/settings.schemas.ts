import { Type, type Static } from '@sinclair/typebox';
import { FIELD_TYPES } from '../../shared/fields.js';

export const FieldDefinitionBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40 }),
    label: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))),
    required: Type.Boolean({ default: false }),
    options: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 100 })),
    help: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

export const MenuItemBody = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 100 }),
    url: Type.String({ minLength: 1, maxLength: 500, pattern: '^(/|https?://)' }),
    menu: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('footer')], { default: 'main' })),
  },
  { additionalProperties: false },
);

const settingsFields = {
  site_name: Type.String({ minLength: 1, maxLength: 100 }),
  logo_url: Type.Union([Type.String({ maxLength: 500, pattern: '^(/|https?://)' }), Type.Null()]),
  theme: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,49}$' }),
  custom_css: Type.String({ maxLength: 100_000 }),
  signup_enabled: Type.Boolean(),
  email_verification: Type.Boolean(),
  signup_fields: Type.Array(FieldDefinitionBody, { maxItems: 50 }),
  /** The key-request form a new catalogue entry gets unless it brings its own. */
  default_key_request_fields: Type.Array(FieldDefinitionBody, { maxItems: 50 }),
  default_approval: Type.Union([Type.Literal('auto'), Type.Literal('manual')]),
  menus: Type.Array(MenuItemBody, { maxItems: 50 }),
  notify_admins_on_request: Type.Boolean(),
};

export const SettingsResponse = Type.Object(settingsFields);
export type PortalSettings = Static<typeof SettingsResponse>;

export const SettingsPatchBody = Type.Partial(Type.Object(settingsFields, { additionalProperties: false }), {
  additionalProperties: false,
  minProperties: 1,
});
export type SettingsPatchBody = Static<typeof SettingsPatchBody>;

export const DEFAULT_SETTINGS: PortalSettings = {
  site_name: 'Gatehouse Developer Portal',
  logo_url: null,
  theme: 'default',
  custom_css: '',
  signup_enabled: true,
  email_verification: false,
  signup_fields: [
    { name: 'name', label: 'Full name', type: 'text', required: true },
    { name: 'company', label: 'Company', type: 'text', required: false },
  ],
  default_key_request_fields: [],
  default_approval: 'auto',
  menus: [{ label: 'APIs', url: '/catalogue', menu: 'main' }],
  notify_admins_on_request: true,
};
