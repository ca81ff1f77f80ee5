// Public surface of the analysis layer (see docs/ARCHITECTURE.md).
export * from './model.js';
export { predictImpact, type ImpactInput } from './impact.js';
export { computeReach, MAX_DEPENDS_DEPTH, type ReachInput, type ReachResult, type ReachKnowledge, type ServiceFacts, type FunctionalImpactFacts, type KnownIssueFacts } from './reach.js';
export { classifyJump } from './jump.js';
export {
  IMPACT_MODEL_VERSION, HISTORY_PRIOR, JUMP_WEIGHT, JUMP_PERFORMANCE_FACTOR, ACTION_WEIGHT, MIGRATION_WEIGHT, SEVERITY_WEIGHT, REQUIREMENT_WEIGHT,
  RESOURCE_WEIGHT, SERVICE_WEIGHT, LEVEL_THRESHOLDS, smoothedFailureRate, combineWeights, clampWeight, levelOf, riskOf, compareLevels,
} from './risk.js';
export {
  parseHistory, countHistory, historyKey, isFailure, DEPLOYMENT_OUTCOMES, CHANGE_KINDS,
  type DeploymentHistoryEntry, type DeploymentOutcome, type HistoryProblem, type HistoryParse, type HistoryCount,
} from './history.js';
export type { HistoryStore } from './store-port.js';
export * from './verdict-model.js';
export { parseCondition, conditionFromBounds, holds, parseDuration } from './verdict-conditions.js';
export { judgeCheck, judgeValue, describeQuery, type CheckInput, type CheckJudgement } from './verdict.js';
export { runAnalysis, measureSafely, systemClock, type RunAnalysisInput, type AnalysisRun } from './verdict-run.js';
export {
  createMetricCheck, checksFromService, DEFAULT_INTERVAL_MS, DEFAULT_PROBE_INTERVAL_MS, DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  type MetricCheckSpec, type ServiceCheckOptions,
} from './verdict-kb.js';
export { judgeCanary, DEFAULT_CANARY } from './canary.js';
export { mannWhitneyU, hodgesLehmannShift, type Alternative, type MannWhitneyResult } from './canary-stats.js';
