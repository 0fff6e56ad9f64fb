export { developersRepository } from './developers.repository.js';
export type { DevelopersTable, DeveloperStatus } from './developers.table.js';
