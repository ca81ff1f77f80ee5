export * from './debian.js';
