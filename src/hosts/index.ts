// Public surface of the hosts layer (see docs/ARCHITECTURE.md).
export {};
