// Public surface of the solver layer (see docs/ARCHITECTURE.md).
export {};
