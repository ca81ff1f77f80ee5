// Public surface of the planner layer (see docs/ARCHITECTURE.md).
export * from './model.js';
export * from './request.js';
export * from './rules.js';
export * from './plan.js';
export * from './store-port.js';
export * from './solver-adapter.js';
export * from './lifecycle.js';
export * from './steps.js';
export * from './snapshot.js';
export * from './rollback-types.js';
export { planRollback, materializeRollbackStep, materializeRollback, isHalfDone, type MaterializedRollback, knownMigrations, forwardMigrations, serviceStartOrder, stateAfter, migrationKey, type ShippedMigration } from './rollback.js';
export { orderPackageChanges, type OrderedPackageStep, type OrderOutcome, type OrderOptions } from './rollback-order.js';
export { createInstalledSetChecker, createSolverInstalledSetChecker, createRelationFacts, availabilityFromUniverse, rollbackKnowledgeFromKb, type InstalledSetCheckerOptions, type UnknownVersionFact } from './rollback-oracles.js';
export { rehearseInModel, compareModelStates, type ModelState, type ModelServiceState, type ModelDifference, type ModelIncident, type ModelPhase, type Attribution, type ModelRehearsal, type ModelRehearsalInput } from './rehearse-model.js';
export * from './functional.js';
export * from './waves.js';
