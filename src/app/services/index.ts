// The application's use cases, shared by every front end (the CLI in app/cli, the HTTP server next).
export * from './defaults.js';
export * from './knowledge.js';
export * from './fleet.js';
export * from './planning.js';
export * from './solving.js';
export * from './edsp.js';
export * from './review.js';
export * from './staging.js';
export * from './deploy.js';
export * from './learn.js';
export * from './demo-lab.js';
export * from './demo-run.js';
