export { recordAudit, listAudit, presentAudit, type AuditEntry, type AuditFilter } from './audit.service.js';
