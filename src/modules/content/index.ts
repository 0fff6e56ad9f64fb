export { createSettingsService, readSettings, type SettingsService } from './settings.service.js';
export { SettingsPatchBody, SettingsResponse, FieldDefinitionBody, DEFAULT_SETTINGS, type PortalSettings } from './settings.schemas.js';
export { readMeta, initMeta } from './meta.js';
