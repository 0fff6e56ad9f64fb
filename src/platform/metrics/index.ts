export { Metrics, type Surface, type LimiterDecision } from './metrics.js';
export { addOperationsRoutes, instrumentCounters, instrumentSink, type ReadinessReport } from './instrument.js';
export { startNodeState, type NodeState, type NodeHeartbeat } from './node-state.js';
