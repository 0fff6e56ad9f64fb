export interface AuditEventsTable {
  id: string;
  at: number;
  /** `admin`, `developer` or `system`. */
  actor_type: string;
  actor_id: string | null;
  action: string;
  object_type: string;
  object_id: string | null;
  details: string;
}
