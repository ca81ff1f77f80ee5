/**
 * Independent solution checker for tests: checks every dependency, conflict and request item
 * directly on the records (version comparison by dpkg's algorithm), not through the solver's
 * encoding or candidate index. Returns the list of violations (empty when valid).
 */
import type { PackageAtom, PackageRecord } from '../../src/kb/index.js';
import { compareDebian } from '../../src/versions/index.js';
import type { Problem, RequestItem } from '../../src/solver/index.js';

function holds(cmp: number, op: string): boolean {
  return op === '<<' ? cmp < 0 : op === '<=' ? cmp <= 0 : op === '=' ? cmp === 0 : op === '>=' ? cmp >= 0 : op === '>>' ? cmp > 0 : cmp !== 0;
}

function versionCmp(scheme: string, a: string, b: string): number {
  return scheme === 'cudf' ? Number(a) - Number(b) : compareDebian(a, b);
}

export function satisfies(r: PackageRecord, atom: PackageAtom): boolean {
  const q = atom.archQualifier;
  // an index holds one architecture plus `all`: `:any`/`:native` qualifiers accept it, another architecture does not
  if (q && q !== 'any' && q !== 'native' && q !== r.architecture && !(r.architecture === 'all' && q === 'amd64')) return false;
  if (r.name === atom.name && (!atom.op || holds(versionCmp(r.scheme, r.version, atom.version!), atom.op))) return true;
  for (const p of r.provides) {
    if (p.name !== atom.name) continue;
    if (!atom.op) return true;
    if (p.version !== undefined && holds(versionCmp(r.scheme, p.version, atom.version!), atom.op)) return true;
  }
  return false;
}

export function checkRecords(installed: PackageRecord[], options: { oneVersion?: boolean } = {}): string[] {
  const problems: string[] = [];
  const label = (r: PackageRecord) => `${r.name} ${r.version}`;
  const byName = new Map<string, PackageRecord[]>();
  for (const r of installed) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const providers = new Map<string, PackageRecord[]>();
  for (const r of installed) {
    providers.set(r.name, [...(providers.get(r.name) ?? []), r]);
    for (const p of r.provides) providers.set(p.name, [...(providers.get(p.name) ?? []), r]);
  }
  const matches = (atom: PackageAtom) => (providers.get(atom.name) ?? []).filter((q) => satisfies(q, atom));
  if (options.oneVersion !== false) for (const [n, rs] of byName) if (rs.length > 1) problems.push(`${n} installed in ${rs.length} versions`);
  for (const r of installed) {
    for (const group of [...r.preDepends, ...r.depends]) {
      if (!group.some((a) => matches(a).length > 0)) problems.push(`${label(r)}: unmet ${group.map((a) => a.name).join(' | ')}`);
    }
    for (const a of [...r.conflicts, ...r.breaks]) {
      for (const q of matches(a)) if (q !== r) problems.push(`${label(r)} conflicts with installed ${label(q)}`);
    }
  }
  return problems;
}

export function checkSolution(problem: Problem, items: RequestItem[], after: number[]): string[] {
  const recs = after.map((pv) => problem.set.record(pv));
  const problems = checkRecords(recs);
  for (const item of items) {
    if (item.kind === 'install') {
      const ok = recs.some((r) => satisfies(r, { name: item.name, ...(item.op ? { op: item.op, version: item.version! } : {}) }));
      if (!ok) problems.push(`request install ${item.name} not met`);
    } else if (item.kind === 'remove') {
      if (recs.some((r) => r.name === item.name && (!item.op || holds(versionCmp(r.scheme, r.version, item.version!), item.op)))) problems.push(`request remove ${item.name} not met`);
    } else if (item.kind === 'protect') {
      const wasInstalled = Array.from(problem.set.versionsOf(item.name)).some((pv) => problem.installed[pv] === 1);
      if (wasInstalled && !recs.some((r) => r.name === item.name)) problems.push(`protected ${item.name} removed`);
    } else if (item.kind === 'pin') {
      for (const r of recs) if (r.name === item.name && !holds(versionCmp(r.scheme, r.version, item.version), item.op)) problems.push(`pin ${item.name} violated`);
    }
  }
  return problems;
}
