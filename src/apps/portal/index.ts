export { createPortalApp, PORTAL_SESSION_COOKIE, type PortalAppOptions, type PortalWebOptions } from './server.js';
export type { PortalServices, DeveloperUsage } from './api.js';
export { keyRequestMailListener } from './notifications.js';
export { themeRootsFor } from './pages/view.js';
