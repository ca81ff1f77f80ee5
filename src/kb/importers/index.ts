// Importers: Debian Packages indexes, dpkg status files, CUDF documents.
export * from './relations.js';
export * from './control.js';
export * from './io.js';
export * from './debian.js';
