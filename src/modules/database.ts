import type { Kysely, Transaction } from 'kysely';
import type { AdminTokensTable, AdminUsersTable } from './admins/admins.table.js';
import type {
  AnalyticsRecordChunksTable,
  AnalyticsRecordsTable,
  AnalyticsRollupsTable,
} from './analytics/analytics.table.js';
import type { ApisTable } from './apis/apis.table.js';
import type { AuditEventsTable } from './audit/audit.table.js';
import type { CatalogueEntriesTable } from './catalogue/catalogue.table.js';
import type { MetaTable, PagesTable, PortalSettingsTable } from './content/content.table.js';
import type { DevelopersTable, DeveloperTokensTable } from './developers/developers.table.js';
import type { DeveloperAccountTokensTable } from './developers/account-tokens.table.js';
import type { DocumentationTable } from './docs/docs.table.js';
import type { KeyRequestsTable } from './key-requests/key-requests.table.js';
import type { KeyPoliciesTable, KeysTable } from './keys/keys.table.js';
import type { PoliciesTable, PolicyApisTable } from './policies/policies.table.js';
import type { LoginThrottleTable } from './login-throttle/login-throttle.table.js';
import type { WebhookDeliveriesTable, WebhooksTable } from './webhooks/webhooks.table.js';

/** The whole schema as Kysely sees it; each module owns its own table types. */
export interface Database {
  meta: MetaTable;
  admin_users: AdminUsersTable;
  admin_tokens: AdminTokensTable;
  apis: ApisTable;
  policies: PoliciesTable;
  policy_apis: PolicyApisTable;
  catalogue_entries: CatalogueEntriesTable;
  documentation: DocumentationTable;
  developers: DevelopersTable;
  developer_tokens: DeveloperTokensTable;
  developer_account_tokens: DeveloperAccountTokensTable;
  keys: KeysTable;
  key_policies: KeyPoliciesTable;
  key_requests: KeyRequestsTable;
  pages: PagesTable;
  portal_settings: PortalSettingsTable;
  audit_events: AuditEventsTable;
  analytics_rollups: AnalyticsRollupsTable;
  analytics_records: AnalyticsRecordsTable;
  analytics_record_chunks: AnalyticsRecordChunksTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  login_throttle: LoginThrottleTable;
}

/** What repositories take first: the database or an open transaction. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Db = Kysely<Database>;
