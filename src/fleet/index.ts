// Public surface of the fleet layer (see docs/ARCHITECTURE.md).
export * from './facts.js';
export * from './installed.js';
export * from './conditions.js';
export * from './host.js';
export * from './inventory-yaml.js';
export * from './collector.js';
export * from './group.js';
export * from './collect.js';
export * from './apt-config.js';
export * from './apt-view.js';
export * from './apt-inventory.js';
