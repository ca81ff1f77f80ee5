import {
  createEmptyRecord, createRelationScratch, parseRelationField, scratchAtom, type PackageAtom, type PackageRecord, type RelationParseOptions,
} from '../../src/kb/index.js';
import type { RequestItem, PackageChange } from '../../src/solver/index.js';

/**
 * Scenario files' relation strings (`a (>= 1) | b, c`) and request specs (`a=1`), read by the one
 * relation grammar in its archive mode (scenario universes use one-letter names, which Debian's
 * policy would refuse in a person's request).
 */
function readField(text: string, options: RelationParseOptions): PackageAtom[][] {
  const s = createRelationScratch();
  parseRelationField(text, 0, text.length, s, { allowNotEqual: true, ...options });
  const out: PackageAtom[][] = [];
  let k = 0;
  for (let c = 0; c < s.clauseCount; c++) {
    const clause: PackageAtom[] = [];
    for (const end = s.clauseEnds[c]!; k < end; k++) clause.push(scratchAtom(s, k));
    out.push(clause);
  }
  return out;
}

export function parseAtoms(text: string): PackageAtom[][] {
  return readField(text, {});
}

function parseSpec(text: string): PackageAtom {
  const [[atom]] = readField(text, { spec: true }) as [[PackageAtom]];
  return atom;
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
  const spec = parseSpec(value);
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

export function formatStep(s: PackageChange): string {
  switch (s.action) {
    case 'install':
      return `install ${s.name}=${s.to}`;
    case 'remove':
      return `remove ${s.name}=${s.from}`;
    default:
      return `${s.action} ${s.name}=${s.from}->${s.to}`;
  }
}
