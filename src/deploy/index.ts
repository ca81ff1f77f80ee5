// Public surface of the deploy layer (see docs/ARCHITECTURE.md).
export {};
