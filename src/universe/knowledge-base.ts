/**
 * The one way to assemble a universe from a knowledge base: its Debian indexes go straight from
 * bytes into a UniverseBuilder (the fast path, no PackageRecord per stanza), its YAML layers are
 * added as record layers, and the knowledge base gets light index records that read the
 * universe on demand (name, version, architecture, provides; relations only when asked).
 * `rollwise solve`, `plan`, `demo` and the planner all load through here.
 *
 * Layering follows the knowledge base: layers are added lowest precedence first (ties: the
 * name sorting later first), so the layer the KB ranks first wins a name+version+arch and the
 * others stay as overridden layers (provenance kept). Installed versions no layer has are added
 * as a `fill` layer (`installed`) when a fleet or a dpkg status needs them; the builder's fill
 * mode skips what a layer already has. When the installed versions are known before loading they
 * go into the first build; otherwise `withFill` builds once more from the same inputs (the
 * decompressed index bytes are kept, so only parsing is repeated).
 */
import { isRollwiseError } from '../shared/index.js';
import {
  createProblem, loadKnowledgeBase, readDecompressed,
  type IndexLayerInput, type IndexLoad, type KbLayer, type KnowledgeBase, type LayerNames, type LoadOptions,
  type PackageRecord, type Provenance,
} from '../kb/index.js';
import { UniverseBuilder } from './builder.js';
import { addDebianPackagesFast } from './debian-fast.js';
import { foreignArchitecturesOf, releaseFactsForIndex } from './release.js';
import type { Universe } from './universe.js';
import { UniverseRecord } from './record.js';
import { cachedUniverse, type CacheKeyPart, type CacheOutcome, type UniverseCacheOptions } from './cache.js';

/** The name of the fill layer of installed versions no other layer has. */
export const INSTALLED_LAYER = 'installed';

/** A knowledge base's universe, replayable with a fill layer of installed versions. */
export interface KbUniverse {
  /** Index + YAML layers (and the installed versions given before loading). */
  readonly universe: Universe;
  /**
   * The same layers plus `records` as the fill layer (installed versions, with the relations
   * their dpkg status records, where a layer lacks them); the same universe when every one of
   * them is already there.
   */
  withFill(records: readonly PackageRecord[]): Promise<Universe>;
  /** What the binary universe cache did for each universe built so far (empty when it is off). */
  readonly cacheOutcomes: readonly CacheOutcome[];
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

/** Per load: the decompressed bytes, the binary universe cache (when on) and what it did. */
interface BuildContext {
  bytes: BytesCache;
  universeCache?: UniverseCacheOptions;
  outcomes: CacheOutcome[];
}

/** A record as key text: every own field of a plain record; the fields the builder reads of any other. */
function recordKeyText(r: PackageRecord): string {
  const proto = Object.getPrototypeOf(r) as unknown;
  if (proto === Object.prototype || proto === null) return JSON.stringify(r);
  return JSON.stringify([
    r.name, r.version, r.architecture, r.scheme, r.essential, r.priority, r.multiArch, r.provenance,
    r.depends, r.preDepends, r.recommends, r.suggests, r.conflicts, r.breaks, r.provides, r.replaces, { ...r },
  ]);
}

/** What a built universe depends on: every step's description, index files by content, YAML records, the fill records. */
function keyParts(steps: readonly Step[], fill: readonly PackageRecord[]): CacheKeyPart[] {
  const parts: CacheKeyPart[] = ['kb-universe', 'amd64'];
  for (const s of steps) {
    // the Release facts (read from the InRelease beside the index) are part of the built layers
    if (s.kind === 'index') parts.push(`index ${JSON.stringify(s.input)}`, { file: s.input.file }, `release ${JSON.stringify(releaseFactsForIndex(s.input.file) ?? null)}`);
    else parts.push(`yaml ${JSON.stringify(s.layer, (k, v: unknown) => (k === 'records' && Array.isArray(v) ? (v as PackageRecord[]).map(recordKeyText) : v))}`);
  }
  parts.push(`fill ${fill.length}`, ...fill.map(recordKeyText));
  return parts;
}

async function buildFrom(steps: readonly Step[], fill: readonly PackageRecord[], ctx: BuildContext): Promise<Universe> {
  const { universe, outcome } = await cachedUniverse(ctx.universeCache, () => keyParts(steps, fill), () => buildUncached(steps, fill, ctx.bytes));
  ctx.outcomes.push(outcome);
  return universe;
}

async function buildUncached(steps: readonly Step[], fill: readonly PackageRecord[], cache: BytesCache): Promise<Universe> {
  // an index named for another architecture (`...-i386.Packages`, `..._binary-i386_Packages`) makes it a foreign one (multiarch)
  const b = new UniverseBuilder({ foreignArchs: foreignArchitecturesOf(steps.flatMap((s) => (s.kind === 'index' ? [s.input.file] : []))) });
  for (const s of steps) {
    if (s.kind === 'index') {
      let bytes = cache.get(s.input.file);
      if (!bytes) {
        bytes = await readDecompressed(s.input.file);
        cache.set(s.input.file, bytes);
      }
      const release = releaseFactsForIndex(s.input.file);
      addDebianPackagesFast(b, bytes, s.input.file, { name: s.input.layer, source: s.input.file, trust: 'distribution', ...(release ? { release } : {}) });
    } else {
      const l = s.layer;
      b.addRecords({ name: l.name, source: l.source, trust: l.trust, ...(l.author ? { author: l.author } : {}), ...(l.date ? { date: l.date } : {}) }, l.records);
    }
  }
  if (fill.length > 0) b.addRecords({ name: INSTALLED_LAYER, source: 'dpkg status', trust: 'observed', mode: 'fill' }, fill);
  return b.build();
}

/** Light records of one index layer: every pv it defined (won or overridden), in pv order. */
function indexRecordsOf(u: Universe, layer: string, file: string): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (let pv = 0; pv < u.pvCount; pv++) {
    const won = u.layerOf(pv).name === layer;
    if (!won && !inLayer(u, pv, layer)) continue;
    const prov: Provenance = { layer, source: file, trust: 'distribution' };
    if (won) {
      const line = u.provenanceOf(pv).line;
      if (line !== undefined) prov.line = line;
    }
    out.push(new UniverseRecord(u, pv, prov));
  }
  return out;
}

/** Is pv defined by the layer (won, or overridden by a later one)? */
function inLayer(u: Universe, pv: number, layer: string): boolean {
  return u.layerOf(pv).name === layer || u.overriddenLayersOf(pv).some((l) => l.name === layer);
}

/** The names of one index layer, read from the universe's tables (no records built). */
function indexLayerNames(u: Universe, layer: string): LayerNames {
  return {
    schemeOf: (name) => {
      for (const pv of u.versionsOf(u.nameId(name))) if (inLayer(u, pv, layer)) return u.schemeOf(pv);
      return undefined;
    },
    provides: (name) => {
      for (const pv of u.providersOf(u.nameId(name)).pvs) if (inLayer(u, pv, layer)) return true;
      return false;
    },
    all: function* () {
      for (let n = 0; n < u.nameCount; n++) {
        for (const pv of u.versionsOf(n)) if (inLayer(u, pv, layer)) { yield u.names[n]!; break; }
      }
    },
  };
}

function kbUniverse(steps: readonly Step[], first: Universe, included: readonly PackageRecord[], cache: BuildContext): KbUniverse {
  return {
    universe: first,
    cacheOutcomes: cache.universeCache ? cache.outcomes : [],
    withFill: async (records) => {
      if (records.every((r) => first.findInstalledPv(r.name, r.version, r.architecture) >= 0)) return first;
      return buildFrom(steps, [...included, ...records], cache);
    },
  };
}

/**
 * loadKnowledgeBase with the indexes loaded by the universe fast path, and the universe of all
 * its layers. `installed`: records of installed versions known before loading (a fleet read from
 * files, a dpkg status): those no layer has are built into the universe at once.
 */
export async function loadKnowledgeBaseWithUniverse(
  paths: readonly string[],
  options: Pick<LoadOptions, 'indexes' | 'fallbackIndexes'> & { installed?: readonly PackageRecord[]; universeCache?: UniverseCacheOptions } = {},
): Promise<{ kb: KnowledgeBase; universe: KbUniverse }> {
  const installed = options.installed ?? [];
  const cache: BuildContext = { bytes: new Map(), outcomes: [], ...(options.universeCache ? { universeCache: options.universeCache } : {}) };
  let made: KbUniverse | undefined;
  const indexLoader = async (indexes: readonly IndexLayerInput[], yamlLayers: readonly KbLayer[]): Promise<IndexLoad[]> => {
    // An index that fails to parse is left out (its problem reported), as the record importer does.
    const results: Array<IndexLoad | undefined> = indexes.map(() => undefined);
    let good = indexes.map((input, i) => ({ input, i }));
    let universe: Universe | undefined;
    let steps: Step[] = [];
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
    const u = universe;
    for (const g of good) results[g.i] = { ok: true, lazyRecords: () => indexRecordsOf(u, g.input.layer, g.input.file), names: indexLayerNames(u, g.input.layer) };
    made = kbUniverse(steps, u, installed, cache);
    return results.map((r) => r ?? { ok: true, records: [] });
  };
  const kb = await loadKnowledgeBase(paths, { ...options, indexLoader });
  if (!made) {
    // no index: the YAML layers alone
    const steps = orderSteps(kb.layers.filter((l) => l.origin === 'yaml').map((layer): Step => ({ kind: 'yaml', layer })));
    made = kbUniverse(steps, await buildFrom(steps, installed, cache), installed, cache);
  }
  return { kb, universe: made };
}

/** Package versions a universe has only because its fill layer added them (installed, no layer has them). */
export function countFilled(u: Universe): number {
  let n = 0;
  for (let pv = 0; pv < u.pvCount; pv++) if (u.layerOf(pv).name === INSTALLED_LAYER) n++;
  return n;
}
