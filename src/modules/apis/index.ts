export { apisRepository } from './apis.repository.js';
export { apiFromRow, type Api, type ApiAuth, type ApisTable } from './apis.table.js';
export { createApisService, normaliseListenPath, type ApisService } from './apis.service.js';
export { ApiCreateBody, ApiPatchBody, ApiResponse } from './apis.schemas.js';
export { presentApi } from './apis.presenter.js';
