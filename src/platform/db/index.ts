export { openDatabase, dialectOf, type DatabaseHandle, type DialectName } from './database.js';
export { migrateToLatest, migrationNames } from './migrator.js';
export * from './sql.js';
