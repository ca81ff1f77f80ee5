import type { PackageAtom, PackageRecord, RelationOp } from '../../src/kb/model.js';
import { createEmptyRecord } from '../../src/kb/model.js';
import { parsePackageSpec, type RequestItem, type TransactionStep } from '../../src/solver/index.js';

/** Test-side reader of `a (>= 1) | b, c` relation strings. */
export function parseAtoms(text: string): PackageAtom[][] {
  if (!text.trim()) return [];
  return text.split(',').map((group) =>
    group.split('|').map((a) => {
      const m = /^\s*([a-z0-9][a-z0-9+.-]*)(?::(\w+))?\s*(?:\(\s*(<<|<=|=|>=|>>|!=)\s*([^\s)]+)\s*\))?\s*$/.exec(a);
      if (!m) throw new Error(`bad atom '${a}'`);
      const atom: PackageAtom = { name: m[1]! };
      if (m[2]) atom.archQualifier = m[2];
      if (m[3]) {
        atom.op = m[3] as RelationOp;
        atom.version = m[4]!;
      }
      return atom;
    }),
  );
}

export function recordsFromYaml(list: Array<Record<string, unknown>>): PackageRecord[] {
  return list.map((e) => {
    const r = createEmptyRecord(String(e.name), String(e.version), String(e.architecture ?? 'amd64'), { layer: 'test', source: 'scenario' });
    const s = (k: string) => (e[k] === undefined ? '' : String(e[k]));
    r.depends = parseAtoms(s('depends'));
    r.preDepends = parseAtoms(s('pre-depends'));
    r.recommends = parseAtoms(s('recommends'));
    r.conflicts = parseAtoms(s('conflicts')).flat();
    r.breaks = parseAtoms(s('breaks')).flat();
    r.provides = parseAtoms(s('provides')).flat().map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name }));
    r.essential = e.essential === true;
    if (e.priority) r.priority = String(e.priority);
    if (e['multi-arch']) r.multiArch = String(e['multi-arch']);
    return r;
  });
}

export function specItem(entry: Record<string, string>): RequestItem {
  const [kind, value] = Object.entries(entry)[0]!;
  if (kind === 'upgrade-all') return { kind: 'upgrade-all' };
  const spec = parsePackageSpec(value);
  switch (kind) {
    case 'install':
    case 'remove':
    case 'upgrade':
      return { kind, ...spec };
    case 'hold':
      return { kind: 'hold', name: spec.name };
    case 'protect':
      return { kind: 'protect', name: spec.name };
    case 'pin':
      if (!spec.op) throw new Error('pin needs a version');
      return { kind: 'pin', name: spec.name, op: spec.op, version: spec.version! };
    default:
      throw new Error(`unknown request kind ${kind}`);
  }
}

export function formatStep(s: TransactionStep): string {
  switch (s.action) {
    case 'install':
      return `install ${s.name}=${s.to}`;
    case 'remove':
      return `remove ${s.name}=${s.from}`;
    default:
      return `${s.action} ${s.name}=${s.from}->${s.to}`;
  }
}
