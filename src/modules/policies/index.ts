export { policiesRepository } from './policies.repository.js';
export { policyFromRow, type Policy, type AccessRight, type AllowedUrl, type PoliciesTable } from './policies.table.js';
export { mergePolicies, type MergedPolicy } from './merge.js';
