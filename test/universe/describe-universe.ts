/**
 * Everything the universe's public API tells, as lines: for comparing two universes that must
 * be equal (a cached one and a fresh build; the CUDF direct path and the record path).
 */
import { REL_KINDS, type Universe } from '../../src/universe/index.js';

/** Pv by pv, name by name, version by version, atom by atom (`atoms: false` skips the candidate lists). */
export function describeUniverse(u: Universe, options: { atoms?: boolean } = {}): string[] {
  const out: string[] = [JSON.stringify(u.stats()), JSON.stringify(u.layers), `${u.hostArch} ${u.archNames.join(',')} ${u.priorities.join(',')}`];
  out.push(`essential ${[...u.essential()].join(',')} required ${[...u.required()].join(',')}`);
  for (let pv = 0; pv < u.pvCount; pv++) {
    const rel: string[] = [];
    for (let k = 0; k < REL_KINDS; k++) rel.push(u.clausesOf(pv, k).map((c) => [...c].map((a) => u.formatAtom(a)).join('|')).join(','));
    out.push([
      u.describePv(pv), u.archOf(pv), u.schemeOf(pv), u.isEssential(pv), u.isRequired(pv), u.priorityOf(pv), u.multiArchOf(pv), u.keepOf(pv),
      JSON.stringify(u.provenanceOf(pv)), u.overriddenLayersOf(pv).map((l) => l.name).join('+'), rel.join(' ; '),
      [...u.conflictsOf(pv)].join(','), [...u.breaksOf(pv)].join(','), u.findPv(u.nameOfPv(pv), u.versionOf(pv), u.archOf(pv)),
    ].join(' '));
  }
  for (let n = 0; n < u.nameCount; n++) {
    const p = u.providersOf(n);
    out.push(`${u.nameOf(n)} id=${u.nameId(u.nameOf(n))} real=${u.isReal(n)} v=${[...u.versionsOf(n)].join(',')} prov=${[...p.pvs].join(',')}/${[...p.versions].join(',')} rdep=${[...u.dependentsOf(n)].join(',')}`);
  }
  for (const v of u.versions) out.push(`version ${v} ${u.versionId(v)}`);
  if (options.atoms !== false) for (let a = 0; a < u.atomCount; a++) out.push(`${u.formatAtom(a)} → ${[...u.candidates(a)].join(',')}`);
  out.push(`unknown ${u.nameId('no-such-package-here')} ${u.versionId('no-such-version')}`);
  return out;
}
