export type { RequestRecord, AnalyticsSink } from './analytics.types.js';
