// Rendering for people (text) and programs (JSON): pure, data in, text out. Only app/ renders.
export * from './palette.js';
export * from './plan.js';
export * from './fleet.js';
export * from './kb.js';
export * from './explanation.js';
export * from './steps.js';
export * from './impact.js';
export * from './rollback.js';
