export interface KeyRequestsTable {
  id: string;
  developer_id: string;
  catalogue_id: string;
  key_name: string;
  fields: string;
  status: string;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
  key_id: string | null;
  live_slot: string | null;
  created_at: number;
  updated_at: number;
}

export type KeyRequestStatus = 'pending' | 'approved' | 'rejected';
