export { createHttpApp, errorBody, problemsFromAjv, type HttpAppOptions } from './http-app.js';
