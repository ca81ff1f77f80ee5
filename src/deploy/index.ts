// Public surface of the deploy layer (see docs/ARCHITECTURE.md).
export * from './rehearsal-data.js';
export * from './rehearse.js';
export * from './store-port.js';
export * from './deployment.js';
export * from './engine.js';
export * from './metric-judge.js';
