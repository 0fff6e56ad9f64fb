export {
  createKeyRequestsService,
  presentKeyRequest,
  type KeyRequestsService,
  type KeyRequestEvents,
} from './key-requests.service.js';
export { KeyRequestCreateBody, KeyRequestResponse, RejectBody } from './key-requests.schemas.js';
export type { KeyRequestsTable, KeyRequestStatus } from './key-requests.table.js';
