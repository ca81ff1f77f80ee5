// Public surface of the app layer (see docs/ARCHITECTURE.md): the use cases every front end calls,
// and the renderings (words for people, data beside them for programs). The CLI lives in cli/.
export * from './services/index.js';
export * from './render/index.js';
