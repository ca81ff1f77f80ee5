// Public surface of the monitor layer (see docs/ARCHITECTURE.md).
export {};
