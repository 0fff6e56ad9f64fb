export { policiesRepository } from './policies.repository.js';
export { policyFromRow, type Policy, type AccessRight, type AllowedUrl, type PoliciesTable } from './policies.table.js';
