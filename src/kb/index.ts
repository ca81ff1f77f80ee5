// Public surface of the kb layer (see docs/ARCHITECTURE.md).
export * from './model.js';
export * from './schema.js';
export * from './problems.js';
export * from './types.js';
export { loadKnowledgeBase, indexLayerName, type LoadOptions, type IndexLayersLoader, type IndexLayerInput } from './load.js';
export type { IndexLoad } from './index-layer.js';
export { describePackage, describeService, effectiveServices, effectiveKnownIssues, computeStats, collectRecords, recordsNamed } from './view.js';
export type { Fact, VersionView, PackageView, KbCounts, KbStats } from './view.js';
export {
  parseClause, parseProvision, parsePackageSpec, parseVersionRange, parseRelationField, createRelationScratch, scratchAtom, RelationSyntaxError,
  formatAtom, formatClause, toAtom, toAlternatives, isValidVersionIn, compareVersionsIn, versionProblem, versionHint, PACKAGE_NAME_PATTERN,
} from './relations.js';
export type { LocatedAtom, RelationProblem, RelationParse, RangeBound, RelationScratch, RelationParseOptions } from './relations.js';
// Importers (Debian Packages indexes and their control-file scanner, dpkg status, CUDF): see src/kb/importers/.
export * from './importers/index.js';
