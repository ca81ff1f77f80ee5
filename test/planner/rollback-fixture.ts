/**
 * Small hand-made universes for rollback tests: package stanzas as in the solver's scenario files
 * (relation strings read by the one grammar), built into a real universe, with the real solver's
 * consistency check and the universe's relation facts over it.
 */
import type { InstalledPackage } from '../../src/fleet/index.js';
import type { PackageRecord } from '../../src/kb/index.js';
import { createInstalledSetChecker, createRelationFacts, type ConsistencyCheck, type PackageRelationFacts, type RollbackKnowledge } from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { createUniverse, type Universe } from '../../src/universe/index.js';
import { parseAtoms, recordsFromYaml } from '../solver/helpers.js';
import { checkRecords } from '../solver/checker.js';

export interface Stanza {
  name: string;
  version: string;
  depends?: string;
  'pre-depends'?: string;
  conflicts?: string;
  breaks?: string;
  provides?: string;
  replaces?: string;
}

export interface SmallWorld {
  universe: Universe;
  records: PackageRecord[];
  check: ConsistencyCheck;
  relations: PackageRelationFacts;
  /** An independent check (test/solver/checker.ts, on the records): the problems of a set, empty when consistent. */
  problems(installed: readonly InstalledPackage[]): string[];
}

export function smallWorld(stanzas: Stanza[]): SmallWorld {
  const records = recordsFromYaml(stanzas as unknown as Array<Record<string, unknown>>);
  stanzas.forEach((s, i) => {
    if (s.replaces) records[i]!.replaces = parseAtoms(s.replaces).flat();
  });
  const universe = createUniverse(records.map((r) => structuredClone(r)));
  return {
    universe,
    records,
    check: createInstalledSetChecker(universe),
    relations: createRelationFacts(universe),
    problems: (installed) => checkRecords(installed.map((p) => {
      const r = records.find((x) => x.name === p.name && x.version === p.version);
      if (!r) throw new Error(`no record ${p.name}=${p.version}`);
      return r;
    })),
  };
}

/** `a=1 b=2` as an installed set (amd64). */
export function pkgs(text: string): InstalledPackage[] {
  return text.split(/\s+/).filter(Boolean).map((t) => {
    const [name, version] = t.split('=') as [string, string];
    return { name, version, architecture: 'amd64' };
  });
}

/** `a=1>2` upgrade, `a=2>1` downgrade, `+a=1` install, `-a=1` remove, `!a=1` purge. */
export function changes(text: string): PackageChange[] {
  return text.split(/\s+/).filter(Boolean).map((t): PackageChange => {
    const m = /^([+\-!]?)([a-z0-9.+-]+?)=([^>]+)(?:>(.+))?$/.exec(t);
    if (!m) throw new Error(`bad change ${t}`);
    const [, sign, name, a, b] = m as unknown as [string, string, string, string, string | undefined];
    if (sign === '+') return { action: 'install', name: name!, architecture: 'amd64', to: a };
    if (sign === '-') return { action: 'remove', name: name!, architecture: 'amd64', from: a };
    if (sign === '!') return { action: 'purge', name: name!, architecture: 'amd64', from: a };
    return { action: Number(b) > Number(a) ? 'upgrade' : 'downgrade', name: name!, architecture: 'amd64', from: a, to: b! };
  });
}

export const NO_KNOWLEDGE: RollbackKnowledge = { packages: [], configFiles: [], services: [] };
