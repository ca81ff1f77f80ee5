import type { Universe } from '../../src/universe/index.js';

/** A Packages (or status) text's stanzas by package name, each trimmed, in file order: for tests that cut real indexes down. */
export function stanzasOf(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const s of text.split(/\n\n+/)) {
    const m = /^Package: (\S+)/m.exec(s);
    if (!m) continue;
    const l = byName.get(m[1]!) ?? [];
    l.push(s.trim());
    byName.set(m[1]!, l);
  }
  return byName;
}

/**
 * Names reachable from `names` over Depends / Pre-Depends (every version, providers included),
 * for cutting an index down to what some requests can reach. `layers`: only versions those
 * layers carry are followed; `limit`: stop once more names than this are found.
 */
export function closureNames(u: Universe, names: Iterable<string>, options: { layers?: ReadonlySet<number>; limit?: number } = {}): Set<string> {
  const { layers, limit = Infinity } = options;
  const out = new Set<string>();
  const queue: number[] = [];
  const add = (id: number): void => {
    const n = u.nameOf(id);
    if (out.has(n)) return;
    out.add(n);
    queue.push(id);
  };
  for (const n of names) { const id = u.nameId(n); if (id >= 0) add(id); }
  for (let i = 0; i < queue.length && out.size <= limit; i++) {
    for (const pv of u.versionsOf(queue[i]!)) {
      if (layers && !u.layerIndexesOf(pv).some((l) => layers.has(l))) continue;
      for (const kind of [0, 1]) {
        for (const clause of u.clausesOf(pv, kind)) for (const atom of clause) {
          add(u.atomName[atom]!);
          for (const q of u.candidates(atom)) add(u.pvName[q]!);
        }
      }
    }
  }
  return out;
}
