export interface DevelopersTable {
  id: string;
  email: string;
  email_normalized: string;
  password_hash: string;
  fields: string;
  status: string;
  email_verified_at: number | null;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface DeveloperTokensTable {
  id: string;
  developer_id: string;
  kind: string;
  token_hash: string;
  expires_at: number | null;
  last_used_at: number | null;
  created_at: number;
}

export type DeveloperStatus = 'active' | 'inactive' | 'pending';
