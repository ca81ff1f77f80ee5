/**
 * The knowledge base over the universe fast path: Debian indexes go straight from bytes into a
 * UniverseBuilder (src/universe, no PackageRecord per stanza), the KB's YAML layers are added on
 * top as record layers, and the knowledge base gets light index records that read the universe
 * on demand (name, version, architecture, provides; relations only when asked).
 *
 * Layering follows the knowledge base: layers are added lowest precedence first (ties: the
 * name sorting later first), so the layer the KB ranks first wins a name+version+arch and the
 * others stay as overridden layers (provenance kept). Installed versions no layer has are added
 * as a `fill` layer when a fleet needs them (the universe is then built once more from the
 * same inputs; the decompressed index bytes are kept for that, so only parsing is repeated).
 */
import { isRollwiseError } from '../shared/errors.js';
import {
  createProblem, loadKnowledgeBase, type IndexLayerInput, type IndexLoad, type KbLayer, type KnowledgeBase, type PackageAtom, type PackageRecord,
  type Provenance, type Provision, type Alternatives, type VersionScheme, readDecompressed,
} from '../kb/index.js';
import { addDebianPackagesFast, REL, UniverseBuilder, type Universe } from '../universe/index.js';

/** How a universe is built from the knowledge base's layers (replayable with a fill layer). */
export interface KbUniverse {
  /** Index + YAML layers, no fill layer. */
  readonly universe: Universe;
  /** The same layers plus `fill` records (installed versions no layer has); the base universe when there are none. */
  withFill(records: readonly PackageRecord[]): Promise<Universe>;
}

type Step = { kind: 'index'; input: IndexLayerInput } | { kind: 'yaml'; layer: KbLayer };

function rankOf(s: Step): { precedence: number; name: string } {
  return s.kind === 'index' ? { precedence: s.input.precedence, name: s.input.layer } : { precedence: s.layer.precedence, name: s.layer.name };
}

/** Lowest precedence first; on ties the name that sorts later first (the KB's first layer is added last and wins). */
function orderSteps(steps: Step[]): Step[] {
  return steps.slice().sort((a, b) => {
    const x = rankOf(a);
    const y = rankOf(b);
    return x.precedence - y.precedence || (x.name < y.name ? 1 : x.name > y.name ? -1 : 0);
  });
}

/** Decompressed index bytes by file, kept so a rebuild with a fill layer skips decompression (about 50 MB for bookworm main). */
type BytesCache = Map<string, Buffer>;

async function buildFrom(steps: readonly Step[], fill: readonly PackageRecord[], cache: BytesCache): Promise<Universe> {
  const b = new UniverseBuilder();
  for (const s of steps) {
    if (s.kind === 'index') {
      let bytes = cache.get(s.input.file);
      if (!bytes) {
        bytes = await readDecompressed(s.input.file);
        cache.set(s.input.file, bytes);
      }
      addDebianPackagesFast(b, bytes, s.input.file, { name: s.input.layer, source: s.input.file });
    }
    else b.addRecords({ name: s.layer.name, source: s.layer.source, trust: s.layer.trust, ...(s.layer.author ? { author: s.layer.author } : {}), ...(s.layer.date ? { date: s.layer.date } : {}) }, s.layer.records);
  }
  if (fill.length > 0) b.addRecords({ name: 'installed', source: 'dpkg status', trust: 'observed', mode: 'fill' }, fill);
  return b.build();
}

/**
 * A PackageRecord read from the universe on demand. Relations are the universe's facts for the
 * name+version+arch: when a higher layer overrides an index stanza, the index's light record
 * reads the overriding layer's relations (the universe keeps only the winner's facts).
 */
class UniverseRecord implements PackageRecord {
  readonly scheme: VersionScheme;
  constructor(private readonly u: Universe, private readonly pv: number, readonly provenance: Provenance) {
    this.scheme = u.schemeOf(pv);
  }
  get name(): string { return this.u.nameOfPv(this.pv); }
  get version(): string { return this.u.versionOf(this.pv); }
  get architecture(): string { return this.u.archOf(this.pv); }
  get essential(): boolean { return this.u.isEssential(this.pv); }
  get priority(): string | undefined { return this.u.priorityOf(this.pv); }
  private clauses(kind: number): Alternatives[] { return this.u.clausesOf(this.pv, kind).map((c) => Array.from(c, (a) => this.u.atomToPackageAtom(a))); }
  private atoms(kind: number): PackageAtom[] { return Array.from(this.u.atomsOf(this.pv, kind), (a) => this.u.atomToPackageAtom(a)); }
  get depends(): Alternatives[] { return this.clauses(REL.depends); }
  get preDepends(): Alternatives[] { return this.clauses(REL.preDepends); }
  get recommends(): Alternatives[] { return this.clauses(REL.recommends); }
  get suggests(): Alternatives[] { return this.clauses(REL.suggests); }
  get conflicts(): PackageAtom[] { return this.atoms(REL.conflicts); }
  get breaks(): PackageAtom[] { return this.atoms(REL.breaks); }
  get replaces(): PackageAtom[] { return this.atoms(REL.replaces); }
  get provides(): Provision[] { return this.atoms(REL.provides).map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name })); }
}

/** Light records of one index layer: every pv it defined (won or overridden), in pv order. */
function indexRecordsOf(u: Universe, layer: string, file: string): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (let pv = 0; pv < u.pvCount; pv++) {
    const won = u.layerOf(pv).name === layer;
    if (!won && !u.overriddenLayersOf(pv).some((l) => l.name === layer)) continue;
    const prov: Provenance = { layer, source: file, trust: 'distribution' };
    if (won) {
      const line = u.provenanceOf(pv).line;
      if (line !== undefined) prov.line = line;
    }
    out.push(new UniverseRecord(u, pv, prov));
  }
  return out;
}

/**
 * The fill records whose name+version another layer has under a different architecture (an
 * arch:all package listed as amd64, say): the record path matches installed versions by name and
 * version, so these must not become pvs of their own.
 */
function collidingFill(u: Universe): Set<string> {
  const out = new Set<string>();
  for (let pv = 0; pv < u.pvCount; pv++) {
    if (u.layerOf(pv).name !== 'installed') continue;
    const v = u.versionOf(pv);
    for (const q of u.versionsOf(u.pvName[pv]!)) if (q !== pv && u.versionOf(q) === v) out.add(`${u.nameOfPv(pv)}\u0000${v}`);
  }
  return out;
}

/**
 * An IndexLayersLoader for loadKnowledgeBase that builds the universe; `result()` gives it afterwards.
 * `installed`: records of the fleet's installed versions when known before loading (the demo):
 * those no layer has go into the first build as the fill layer, so no second build is needed.
 */
export function createUniverseIndexLoader(installed: readonly PackageRecord[] = []): { loader: (indexes: readonly IndexLayerInput[], yamlLayers: readonly KbLayer[]) => Promise<IndexLoad[]>; result(): KbUniverse | undefined } {
  let made: KbUniverse | undefined;
  const loader = async (indexes: readonly IndexLayerInput[], yamlLayers: readonly KbLayer[]): Promise<IndexLoad[]> => {
    // An index that fails to parse is left out (its problem reported), as the record importer does.
    const results: Array<IndexLoad | undefined> = indexes.map(() => undefined);
    let good = indexes.map((input, i) => ({ input, i }));
    let universe: Universe | undefined;
    let steps: Step[] = [];
    const cache: BytesCache = new Map();
    while (universe === undefined) {
      steps = orderSteps([...good.map((g): Step => ({ kind: 'index', input: g.input })), ...yamlLayers.map((layer): Step => ({ kind: 'yaml', layer }))]);
      try {
        universe = await buildFrom(steps, installed, cache);
      } catch (e) {
        if (!isRollwiseError(e)) throw e;
        const file = e.position?.file;
        const bad = good.find((g) => g.input.file === file) ?? good.find((g) => e.message.includes(g.input.file));
        if (!bad) throw e;
        results[bad.i] = { ok: false, problem: createProblem('RW_KB_INDEX', e.position ?? { file: bad.input.file }, `${e.code}: ${e.message}`, e.hint ?? 'give a Debian Packages index (plain, .gz or .xz)') };
        good = good.filter((g) => g !== bad);
      }
    }
    let fill: readonly PackageRecord[] = installed;
    if (installed.length > 0) {
      const clash = collidingFill(universe);
      if (clash.size > 0) {
        fill = installed.filter((r) => !clash.has(`${r.name}\u0000${r.version}`));
        universe = await buildFrom(steps, fill, cache);
      }
    }
    const u = universe;
    for (const g of good) results[g.i] = { ok: true, records: indexRecordsOf(u, g.input.layer, g.input.file) };
    const finalSteps = steps;
    const included = fill;
    made = {
      universe: u,
      withFill: async (records) => (records.length === 0 ? u : buildFrom(finalSteps, [...included, ...records], cache)),
    };
    return results.map((r) => r ?? { ok: true, records: [] });
  };
  return { loader, result: () => made };
}

/** loadKnowledgeBase with the indexes loaded by the universe fast path; `universe` is absent when the KB has no index. */
export async function loadKnowledgeBaseWithUniverse(paths: readonly string[], options: { indexes?: readonly string[]; installed?: readonly PackageRecord[] } = {}): Promise<{ kb: KnowledgeBase; universe?: KbUniverse }> {
  const { loader, result } = createUniverseIndexLoader(options.installed);
  const kb = await loadKnowledgeBase(paths, { ...(options.indexes ? { indexes: options.indexes } : {}), indexLoader: loader });
  const universe = result();
  return universe ? { kb, universe } : { kb };
}
