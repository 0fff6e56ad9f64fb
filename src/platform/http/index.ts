export { createHttpApp, errorBody, problemsFromAjv, type HttpAppOptions } from './http-app.js';
export {
  registerWeb,
  registerAssets,
  createViews,
  setSessionCookie,
  clearSessionCookie,
  readSessionCookie,
  CSRF_FIELD,
  PROJECT_ROOT,
  type WebOptions,
} from './web.js';
