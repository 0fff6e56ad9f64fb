export {
  createWebhooksService,
  presentWebhook,
  presentDelivery,
  eventBody,
  type WebhooksService,
} from './webhooks.service.js';
export {
  createWebhookWorker,
  backoffMs,
  type WebhookWorker,
  type WebhookWorkerOptions,
  type WorkerLogger,
} from './webhooks.worker.js';
export { createQuotaWatch, type QuotaWatch } from './quota-watch.js';
export {
  signPayload,
  verifySignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  EVENT_HEADER,
  DELIVERY_HEADER,
} from './webhooks.signature.js';
export { WebhookCreateBody, WebhookPatchBody, WebhookResponse, DeliveryResponse } from './webhooks.schemas.js';
export type { WebhooksTable, WebhookDeliveriesTable, DeliveryStatus } from './webhooks.table.js';
