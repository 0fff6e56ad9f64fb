/** Single-use, expiring tokens sent by email (password reset, email verification); only the hash is stored. */
export interface DeveloperAccountTokensTable {
  id: string;
  developer_id: string;
  purpose: string;
  token_hash: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export type AccountTokenPurpose = 'password_reset' | 'email_verification';
