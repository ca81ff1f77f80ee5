// Public surface of the kb layer (see docs/ARCHITECTURE.md).
export * from './model.js';
export * from './schema.js';
export * from './problems.js';
export * from './types.js';
export { loadKnowledgeBase, indexLayerName, type LoadOptions } from './load.js';
export { describePackage, describeService, effectiveServices, effectiveKnownIssues, computeStats, collectRecords, recordsNamed } from './view.js';
export type { Fact, VersionView, PackageView, KbCounts, KbStats } from './view.js';
export { parseClause, parseProvision, parseVersionRange, formatAtom, formatClause, isValidVersionIn, compareVersionsIn } from './relations.js';
export type { LocatedAtom, RelationProblem, RangeBound } from './relations.js';
export { locatePath, parseSource, type SourceDoc, type KbPath } from './positions.js';
