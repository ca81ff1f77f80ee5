export * from './debian.js';
export * from './semver.js';
export * from './cudf.js';
export * from './names.js';
export * from './scheme.js';
export * from './range.js';
export * from './relation.js';
