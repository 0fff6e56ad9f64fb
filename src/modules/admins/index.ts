export { createAdminsService, presentAdmin, roleAllows, type AdminUser, type AdminsService } from './admins.service.js';
export { AdminCreateBody, AdminTokenCreateBody, AdminResponse, AdminRole } from './admins.schemas.js';
export type { AdminRole as AdminRoleName } from './admins.table.js';
