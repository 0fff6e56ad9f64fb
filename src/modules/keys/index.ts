export { keysRepository } from './keys.repository.js';
export { keyFromRow, type Key, type KeyStatus, type KeysTable } from './keys.table.js';
export { keyLimitsState, resetKeyQuota, keyRateLimit, keyQuotaLimit, apiRateLimit, keyRateCounter, keyQuotaCounter, apiRateCounter, type KeyLimitsState } from './limits.js';
