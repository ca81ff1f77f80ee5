/**
 * # The universe: a compact, read-only package snapshot for the resolver
 *
 * Load, then index, then solve. Importers (src/kb/importers) or the fast Debian path feed a
 * UniverseBuilder layer by layer; `build()` lays everything out once in flat typed arrays and
 * returns a read-only Universe. Nothing is indexed while loading except interning.
 *
 * Ways in:
 * - loadDebianUniverse([index...], { status: { path, host } }) → { universe, installed }: the
 *   usual one (indexes plain/.gz/.xz, one layer each; a host's dpkg status as a fill layer);
 * - addDebianPackagesFast(builder, bytes, file, layer) (./debian-fast.ts): the byte fast path
 *   (no PackageRecord objects; names/versions hashed and interned from bytes; anything unusual
 *   re-parsed by the importers' shared parser, which also produces the positioned errors, so
 *   both paths accept and reject the same input — tested on the whole bookworm archive and by
 *   a fast-check property);
 * - addDebianPackages / addDebianIndex (./debian.ts): the same through the control scanner;
 * - createUniverse(records) or builder.addRecords(layer, records): from PackageRecords (tests,
 *   the knowledge base's YAML packages); createCudfUniverse(doc) for CUDF documents.
 * - cachedUniverse(options, keyParts, build) (./cache.ts): a built universe kept in a binary cache
 *   file keyed by the content of its inputs and the program, read back with one read and no
 *   parsing (typed arrays as views on the file); a stale or corrupt file is reported and rebuilt.
 *   The knowledge-base loader (./knowledge-base.ts) and the archive loader of the CLI use it.
 * Figures (bookworm main, 63,440 packages): parse + index in about 1.3-1.5× libsolv's
 * add_debpackages + createwhatprovides, under 200 MB peak RSS including the 50 MB
 * decompressed text (npm run bench:load).
 *
 * Ids. Names (real and virtual) are interned to `nameId` 0..nameCount-1; every package version
 * ("pv") is an integer 0..pvCount-1; version strings to version ids; relation atoms
 * `name[:arch] (op version)` are interned (deduplicated) to atom ids 0..atomCount-1.
 *
 * Layout (all public readonly typed arrays; the methods below are the documented way in):
 * - per pv: pvName, pvVersion (version id), pvArch, pvFlags (PV_ESSENTIAL, PV_REQUIRED),
 *   pvScheme (0 deb, 1 semver, 2 cudf), pvMultiArch, pvPriority, pvKeep (CUDF), pvLayer, pvLine;
 * - relations in CSR: clauses of pv p and kind k (REL.depends, preDepends, recommends, suggests,
 *   conflicts, breaks, provides, replaces, enhances) are clause ids
 *   relStart[p*REL_KINDS+k] .. relStart[p*REL_KINDS+k+1]; the atoms of clause c (its `|`
 *   alternatives) are clauseAtoms[clauseStart[c] .. clauseStart[c+1]]; atom a is atomName[a],
 *   atomOp[a] (OP codes: 0 none, 1 <<, 2 <=, 3 =, 4 >=, 5 >>, 6 !=), atomVersion[a] (version id or
 *   -1), atomArch[a] (ARCHQ: 0 none, 1 any, 2 native/host arch, ≥3 another architecture);
 * - versionsOf(nameId): nameVersionPv CSR, newest first by the name's scheme;
 * - who provides X: provPv/provVersion CSR by name id, built once in build();
 * - who depends on X: rdepPv CSR by name id (Depends and Pre-Depends, any alternative), built once
 *   in build(), for impact analysis (dependentsOf).
 *
 * API for the resolver (see Universe in ./universe.ts):
 *   nameId(name) → id or -1; nameOf(id); isReal(id); versionsOf(id) → pvs newest first;
 *   nameOfPv(pv), versionOf(pv), archOf(pv), schemeOf(pv), isEssential(pv), isRequired(pv),
 *   multiArchOf(pv), keepOf(pv), provenanceOf(pv), overriddenLayersOf(pv), describePv(pv), findPv(name, version, arch?);
 *   clauseRange(pv, kind) / clauseAtomsOf(clause) / clausesOf(pv, kind) / atomsOf(pv, kind);
 *   candidates(atom) → pvs satisfying it (Debian semantics; cached), candidatesFor(PackageAtom) for
 *   request atoms; conflictsOf(pv) / breaksOf(pv) → pvs (expanded, self excluded, cached);
 *   providersOf(nameId); dependentsOf(nameId); essential() / required() → pvs; formatAtom(atom), atomToPackageAtom(atom).
 *
 * Semantics of candidates(atom): real versions of the name satisfying the constraint (newest
 * first), then providers. An unversioned `Provides: x` satisfies only unversioned atoms on x;
 * `Provides: x (= v)` satisfies a versioned atom on x when v satisfies it. For CUDF packages an
 * unversioned provide provides every version (CUDF 2.0 §2.2.4). Architecture qualifiers, for a
 * single-architecture universe (host arch + all): none and `:native` (and the host arch) accept
 * every pv; `:any` accepts real packages with `Multi-Arch: allowed` and any provider; another
 * architecture accepts only pvs of that architecture (so `Conflicts: foo:i386` hits nothing
 * in an amd64 universe).
 *
 * Multiarch (UniverseBuilder's `foreignArchs`, e.g. i386 on an amd64 host): a version of a
 * foreign architecture is kept under the name `name:arch` (apt's way of naming it), so one
 * version per name means one per (name, architecture) and solutions name it `libc6:i386`;
 * baseNameOf / groupOf / nameIdOfSpec relate the names of one package. Unqualified atoms get
 * their context at build time (ARCHQ.every, ARCHQ.implicit + arch), so candidates stay cached
 * per atom: an unqualified Depends/Pre-Depends/Recommends means the depender's architecture
 * (`all` counts as native) or any architecture's Multi-Arch: foreign version, providers alike;
 * `:any` means a Multi-Arch: allowed version or provider (not foreign: apt 2.6 and dpkg agree;
 * the single-architecture rule above still takes any provider);
 * `:native` native or `all`; `:ARCH` that architecture; an unqualified Conflicts/Breaks every
 * architecture but its own name. conflictsOf adds the cross-architecture rule: a name may be
 * installed in several architectures only when they are all Multi-Arch: same at one version.
 * A universe without foreign architectures pays nothing for this (no group arrays, no codes ≥ 64).
 *
 * Empty clauses: a depends clause with no atoms can never be satisfied (CUDF `depends: false!`).
 * Candidate lists are computed lazily and cached (per atom, per pv for conflicts/breaks); the
 * arrays returned are shared: do not modify them.
 *
 * Layers: addLayer() starts a layer; a later layer defining the same name+version+arch overrides
 * the earlier facts (provenance of the winner kept in pvLayer/pvLine, the overridden layers in
 * overriddenLayersOf). A layer in `fill` mode only adds missing package versions (a host's
 * installed packages missing from the archive). createInstalledState() maps a dpkg status onto pvs.
 */
export * from './universe.js';
export * from './builder.js';
export * from './debian.js';
export * from './installed.js';
export * from './debian-fast.js';
export * from './cudf.js';
export * from './edsp.js';
export * from './knowledge-base.js';
export * from './release.js';
export { UniverseRecord } from './record.js';
export { StringTable } from './strings.js';
export {
  cachedUniverse, decodeUniverse, encodeUniverse, programStamp, readCachedUniverse, universeCacheFile, universeCacheKey, writeCachedUniverse,
  UNIVERSE_CACHE_FORMAT, type CacheKeyPart, type CacheOutcome, type DecodeResult, type UniverseCacheOptions,
} from './cache.js';
