export interface WebhooksTable {
  id: string;
  url: string;
  description: string;
  /** Signing secret; shown once when created or rotated, never to viewers. */
  secret: string;
  /** JSON array of event types. */
  events: string;
  active: number;
  created_at: number;
  updated_at: number;
}

/** `pending` (waiting for its next attempt), `succeeded`, or `failed` (attempts used up). */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One event for one subscription: the delivery log and the worker's outbox in one. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event: string;
  /** The exact JSON body sent (and signed). */
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  /** A worker holds the delivery until then (claimed with a conditional update). */
  locked_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}
