export interface AdminUsersTable {
  id: string;
  email: string;
  email_normalized: string;
  name: string;
  password_hash: string;
  role: string;
  status: string;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AdminTokensTable {
  id: string;
  admin_id: string;
  name: string;
  /** `session` (from login) or `api` (personal token for scripts). */
  kind: string;
  prefix: string;
  token_hash: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export type AdminRole = 'owner' | 'admin' | 'viewer';
