// Public surface of the learn layer (see docs/ARCHITECTURE.md).
export {};
