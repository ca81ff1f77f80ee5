// Public surface of the store layer (see docs/ARCHITECTURE.md).
export {};
