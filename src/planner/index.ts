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
export * from './functional.js';
