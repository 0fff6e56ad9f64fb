export { keysRepository } from './keys.repository.js';
export { keyFromRow, type GatewayKeyRow, type Key, type KeyStatus, type KeysTable } from './keys.table.js';
export {
  createKeysService,
  issueKey,
  makeSecret,
  expiryFor,
  KEY_SECRET_PREFIX,
  type KeysService,
  type IssueInput,
} from './keys.service.js';
export { KeyIssueBody, KeyPatchBody, KeyResponse } from './keys.schemas.js';
export { presentKey } from './keys.presenter.js';
export {
  keyLimitsState,
  resetKeyQuota,
  keyRateLimit,
  keyQuotaLimit,
  apiRateLimit,
  keyRateCounter,
  keyQuotaCounter,
  apiRateCounter,
  type KeyLimitsState,
} from './limits.js';
export { createKeyLimitsService, type KeyLimitsService, type KeyLimitsView } from './key-limits.service.js';
export { createUsageService, type UsageService, type UsageQuery } from './usage.service.js';
