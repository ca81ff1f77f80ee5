// Public surface of the hosts layer (see docs/ARCHITECTURE.md).
export * from './runner.js';
export * from './quote.js';
export * from './validate.js';
export * from './services.js';
export * from './directory-root.js';
export * from './driver.js';
export * from './ssh.js';
export * from './deb-cache.js';
export * from './collect.js';
export * from './confine.js';
export * from './maintainer-scripts.js';
export * from './tools.js';
export * from './synthetic-deb.js';
