export { apisRepository } from './apis.repository.js';
export { apiFromRow, type Api, type ApiAuth, type ApisTable } from './apis.table.js';
