export { developersRepository } from './developers.repository.js';
export type { DevelopersTable, DeveloperStatus } from './developers.table.js';
export { createDevelopersService, presentDeveloper, normaliseEmail, type Developer, type DevelopersService } from './developers.service.js';
export { DeveloperRegisterBody, DeveloperProfilePatchBody, DeveloperAdminPatchBody, DeveloperResponse, LoginBody } from './developers.schemas.js';
