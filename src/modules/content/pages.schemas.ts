import { Type, type Static } from '@sinclair/typebox';

/**
 * Paths the portal itself serves; a CMS page cannot take them (a page lives at
 * `/<slug>`).
 */
export const RESERVED_PAGE_SLUGS: readonly string[] = [
  'api',
  'assets',
  'catalogue',
  'dashboard',
  'forgot-password',
  'keys',
  'login',
  'logout',
  'profile',
  'reset-password',
  'signup',
  'verify-email',
  'site',
  '__gatehouse',
];

const Slug = Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' });
const Template = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: '^[a-z0-9][a-z0-9_-]*$',
  description: 'Theme template that renders the page (default `page`)',
});

const pageFields = {
  slug: Slug,
  title: Type.String({ minLength: 1, maxLength: 200 }),
  body: Type.String({ maxLength: 200_000, description: 'Markdown; rendered and sanitised' }),
  template: Template,
  published: Type.Boolean(),
  is_homepage: Type.Boolean({
    description: 'At most one page is the homepage; setting it clears the flag on the others',
  }),
  menu_position: Type.Union([Type.Integer({ minimum: 0, maximum: 10_000 }), Type.Null()], {
    description: 'Shown in the main menu in this order when published; null = not in the menu',
  }),
};

export const PageCreateBody = Type.Object(
  {
    slug: pageFields.slug,
    title: pageFields.title,
    body: Type.Optional(pageFields.body),
    template: Type.Optional(pageFields.template),
    published: Type.Optional(pageFields.published),
    is_homepage: Type.Optional(pageFields.is_homepage),
    menu_position: Type.Optional(pageFields.menu_position),
  },
  { additionalProperties: false },
);
export type PageCreateBody = Static<typeof PageCreateBody>;

export const PagePatchBody = Type.Partial(Type.Object(pageFields), { additionalProperties: false, minProperties: 1 });
export type PagePatchBody = Static<typeof PagePatchBody>;

export const PageResponse = Type.Object({
  id: Type.String(),
  ...pageFields,
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type PageResponse = Static<typeof PageResponse>;
