// Public surface of the kb layer (see docs/ARCHITECTURE.md).
export * from './model.js';
