// Public surface of the store layer (see docs/ARCHITECTURE.md).
export * from './schema.js';
export { runWrite, type SqlBackend } from './sql-backend.js';
export * from './sql-plan-store.js';
export { createSqlDeploymentStore } from './sql-deployment-store.js';
export * from './sqlite.js';
export * from './postgres.js';
export * from './memory.js';
export * from './memory-deployments.js';
