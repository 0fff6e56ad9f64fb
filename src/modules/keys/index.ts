export { keysRepository } from './keys.repository.js';
export { keyFromRow, type Key, type KeyStatus, type KeysTable } from './keys.table.js';
