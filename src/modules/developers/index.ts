export { developersRepository } from './developers.repository.js';
export type { DevelopersTable, DeveloperStatus } from './developers.table.js';
export {
  createDevelopersService,
  presentDeveloper,
  normaliseEmail,
  type Developer,
  type DevelopersService,
} from './developers.service.js';
export {
  DeveloperRegisterBody,
  DeveloperProfilePatchBody,
  DeveloperAdminPatchBody,
  DeveloperResponse,
  LoginBody,
} from './developers.schemas.js';
export {
  createAccountTokensService,
  PASSWORD_RESET_TTL_MS,
  EMAIL_VERIFICATION_TTL_MS,
  type AccountTokensService,
  type AccountTokenRecipient,
  type IssuedAccountToken,
} from './account-tokens.service.js';
export type { DeveloperAccountTokensTable, AccountTokenPurpose } from './account-tokens.table.js';
