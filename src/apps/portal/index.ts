export { createPortalApp, type PortalAppOptions } from './server.js';
export type { PortalServices, DeveloperUsage } from './api.js';
