export { createAdminApp, type AdminAppOptions } from './server.js';
export type { AdminServices, KeyLimits } from './context.js';
