// Public surface of the store layer (see docs/ARCHITECTURE.md).
export * from './schema.js';
export * from './sql-plan-store.js';
export * from './sqlite.js';
export * from './postgres.js';
export * from './memory.js';
