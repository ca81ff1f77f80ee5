// Public surface of the analysis layer (see docs/ARCHITECTURE.md).
export {};
