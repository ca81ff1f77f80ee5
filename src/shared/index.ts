export * from './errors.js';
export * from './yaml.js';
export * from './text.js';
export * from './paths.js';
export * from './schema-words.js';
