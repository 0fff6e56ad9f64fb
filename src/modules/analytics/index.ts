export type { RequestRecord, AnalyticsSink } from './analytics.types.js';
export { LATENCY_BOUNDS_MS, HISTOGRAM_SIZE, bucketIndex, histogramPercentile } from './analytics.histogram.js';
export { packRecords, type PackedRecords } from './analytics.buffer.js';
export {
  createAnalyticsWriter,
  inlineAnalyticsWriter,
  threadAnalyticsWriter,
  type AnalyticsWriter,
  type AnalyticsWriterChoice,
} from './analytics.writer.js';
export {
  createAnalyticsRecorder,
  type AnalyticsLogger,
  type AnalyticsRecorder,
  type AnalyticsRecorderOptions,
  type AnalyticsRecorderStats,
} from './analytics.recorder.js';
export {
  analyticsQuery,
  topConsumers,
  statusBreakdown,
  recentErrors,
  listRecords,
  pruneAnalytics,
  MAX_SERIES_POINTS,
  MAX_KEY_IDS,
  type AnalyticsResolution,
  type AnalyticsGroupBy,
  type AnalyticsScope,
  type AnalyticsQueryInput,
  type AnalyticsTotals,
  type AnalyticsPoint,
  type AnalyticsGroup,
  type AnalyticsResult,
  type TimeInput,
  type TopConsumersInput,
  type TopConsumer,
  type StatusBreakdownInput,
  type StatusBreakdown,
  type RecentErrorsInput,
  type RecentError,
  type ListRecordsInput,
  type RequestLogEntry,
  type PruneOptions,
  type PruneResult,
} from './analytics.service.js';
