// Public surface of the universe layer (see docs/ARCHITECTURE.md).
export {};
