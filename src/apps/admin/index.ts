export { createAdminApp, type AdminAppOptions } from './server.js';
export type { AdminServices } from './context.js';
