/**
 * An independent checker of an installed set, written for the peer tests: it reads the
 * PackageRecords the kb importer produced and checks every rule directly (versions by dpkg's
 * order from src/versions), never through the solver's encoding or candidate index:
 * - Depends and Pre-Depends: some alternative is satisfied by an installed real version (with
 *   `:any` only if `Multi-Arch: allowed`) or an installed provider (a versioned atom only by a
 *   versioned Provides that satisfies it);
 * - Conflicts and Breaks: no installed package (other than the package itself) matches;
 * - one version of a name at a time;
 * - optionally: every Essential package of the archive installed (dose's / apt's base rule).
 */
import type { PackageAtom, PackageRecord } from '../../../src/kb/index.js';
import { compareDebian, relationHolds } from '../../../src/versions/index.js';

/** Whether installed record `r` satisfies (or, for conflicts, matches) atom `a`, Debian's way. */
export function matchesAtom(r: PackageRecord, a: PackageAtom): boolean {
  const q = a.archQualifier;
  if (q && q !== 'any' && q !== 'native' && q !== 'amd64') return false;
  if (r.name === a.name && (q !== 'any' || r.multiArch === 'allowed')) {
    if (!a.op || relationHolds(compareDebian(r.version, a.version!), a.op)) return true;
  }
  for (const p of r.provides) {
    if (p.name !== a.name) continue;
    if (!a.op) return true;
    if (p.version !== undefined && relationHolds(compareDebian(p.version, a.version!), a.op)) return true;
  }
  return false;
}

const fmt = (a: PackageAtom): string => `${a.name}${a.archQualifier ? `:${a.archQualifier}` : ''}${a.op ? ` (${a.op} ${a.version})` : ''}`;

/** Violations of the installed set (empty when it is a consistent Debian installation). */
export function checkInstalledSet(installed: readonly PackageRecord[], options: { essentialFrom?: readonly PackageRecord[] } = {}): string[] {
  const problems: string[] = [];
  const byName = new Map<string, PackageRecord[]>();
  const byProvided = new Map<string, PackageRecord[]>();
  for (const r of installed) {
    byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
    for (const p of r.provides) byProvided.set(p.name, [...(byProvided.get(p.name) ?? []), r]);
  }
  const candidates = (a: PackageAtom) => [...(byName.get(a.name) ?? []), ...(byProvided.get(a.name) ?? [])];
  for (const [name, rs] of byName) if (rs.length > 1) problems.push(`${name}: ${rs.length} versions installed (${rs.map((r) => r.version).join(', ')})`);
  for (const r of installed) {
    for (const [field, clauses] of [['Pre-Depends', r.preDepends], ['Depends', r.depends]] as const) {
      for (const alts of clauses) {
        if (!alts.some((a) => candidates(a).some((c) => matchesAtom(c, a)))) {
          problems.push(`${r.name} ${r.version}: ${field} ${alts.map(fmt).join(' | ')} is not satisfied`);
        }
      }
    }
    for (const [field, atoms] of [['Conflicts', r.conflicts], ['Breaks', r.breaks]] as const) {
      for (const a of atoms) {
        for (const c of candidates(a)) {
          if (c !== r && matchesAtom(c, a)) problems.push(`${r.name} ${r.version}: ${field} ${fmt(a)} hits installed ${c.name} ${c.version}`);
        }
      }
    }
  }
  if (options.essentialFrom) {
    for (const r of options.essentialFrom) {
      if (r.essential && !byName.has(r.name)) problems.push(`Essential package ${r.name} is not installed`);
    }
  }
  return problems;
}
