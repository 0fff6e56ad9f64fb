export { createSettingsService, readSettings, type SettingsService } from './settings.service.js';
export {
  SettingsPatchBody,
  SettingsResponse,
  FieldDefinitionBody,
  DEFAULT_SETTINGS,
  type PortalSettings,
} from './settings.schemas.js';
export { readMeta, initMeta } from './meta.js';
export { createPagesService, type PagesService } from './pages.service.js';
export { PageCreateBody, PagePatchBody, PageResponse, RESERVED_PAGE_SLUGS } from './pages.schemas.js';
export { pageFromRow, presentPage, type Page } from './pages.model.js';
export { renderMarkdown, sanitizeHtmlFragment } from './pages.markdown.js';
