// Public surface of the planner layer (see docs/ARCHITECTURE.md).
export {};
