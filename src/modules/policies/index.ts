export { policiesRepository } from './policies.repository.js';
export { policyFromRow, type Policy, type AccessRight, type AllowedUrl, type PoliciesTable } from './policies.table.js';
export { createPoliciesService, type PoliciesService } from './policies.service.js';
export { PolicyCreateBody, PolicyPatchBody, PolicyResponse } from './policies.schemas.js';
export { presentPolicy, describeRate, formatCount } from './policies.presenter.js';
export { mergePolicies, type MergedPolicy } from './merge.js';
