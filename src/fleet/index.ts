// Public surface of the fleet layer (see docs/ARCHITECTURE.md).
export {};
