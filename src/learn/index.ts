// Public surface of the learn layer (see docs/ARCHITECTURE.md): culprit analysis after a
// rollback, the deployment's outcome as history, and the learned fact with the layer edit that records it.
export * from './culprit.js';
export * from './outcome.js';
export * from './learned-layer.js';
