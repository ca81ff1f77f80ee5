// Importers: Debian Packages indexes, dpkg status files, CUDF documents (see each file's header).
export * from './control.js';
export * from './io.js';
export * from './debian.js';
export * from './dpkg-status.js';
export * from './cudf.js';
export * from './edsp.js';
export * from './sniff.js';
