/**
 * apt's candidate policy over a universe of several repositories, in one place for `solve` and
 * the planner: which package versions a host sees (the repositories its sources use, plus what
 * it has installed), each version's pin priority, and the candidate per package. The solver then
 * works on a view (UniverseView with an admit set) holding only what apt could install: the
 * candidates, the installed versions (which may stay), and versions a request names exactly.
 *
 * The rules follow apt's documented behaviour (apt_preferences(5)) and its pkgPolicy:
 * - a repository's priority is 500, 1 when its Release says NotAutomatic, 100 with
 *   NotAutomatic + ButAutomaticUpgrades; the installed version's status entry is 100;
 * - the target release (APT::Default-Release, `-t`) is a general pin of 990, placed first;
 *   general pins (`Package: *`) set a repository's priority, the first matching one wins;
 * - pins naming packages (names, globs, /regexes/) pin versions; the first matching one wins
 *   and replaces the version's priority; otherwise a version's priority is the highest of the
 *   repositories (and status entry) it is in;
 * - versions are walked newest first; the highest priority wins, the newer one on a tie; once
 *   the installed version is reached with no priority of 1000 or more seen, it is the candidate
 *   unless a newer version already won, and only an older version with 1000 or more can still
 *   win (a downgrade); a version with a negative priority is never chosen unless installed.
 */
import { REL, type Universe, type ReleaseFacts } from '../universe/index.js';
import { OP_NONE } from '../versions/index.js';
import { UniverseView, type AdmitSet } from './universe-view.js';

/** A release specification as `Pin: release` writes it: `a=`, `n=`, `v=`, `o=`, `l=`, `c=`, `b=`, or a bare archive/codename. */
export interface ReleaseSpec {
  a?: string;
  n?: string;
  v?: string;
  o?: string;
  l?: string;
  c?: string;
  b?: string;
  /** A bare word: matches the archive (suite) or the codename. */
  release?: string;
}

export type PinTarget =
  | { kind: 'version'; pattern: string }
  | { kind: 'release'; spec: ReleaseSpec }
  | { kind: 'origin'; site: string };

/** One stanza of apt preferences. */
export interface AptPin {
  /** Package names, globs or /regexes/; '*' for a general pin. */
  packages: readonly string[] | '*';
  pin: PinTarget;
  priority: number;
  /** file:line of the stanza, for explanations. */
  where?: string;
}

export interface AptPolicyInput {
  /** Indexes of the universe's repository layers the host's sources use; undefined: every layer. */
  repositories?: ReadonlySet<number>;
  pins?: readonly AptPin[];
  /** APT::Default-Release (`-t`): `bookworm`, `a=stable`, `n=bookworm,o=Debian`, ... */
  defaultRelease?: string;
  /** Per repository layer, the host part of the URI the host reads it from (`Pin: origin`); '' or absent for file: sources. */
  sites?: ReadonlyMap<number, string>;
  /** The host's foreign architectures (multiarch) whose versions it sees; default: the universe's. */
  foreignArchitectures?: readonly string[];
}

/** apt's match of a pattern: `/regex/` (extended, case-insensitive, anywhere) or a glob (fnmatch; exact without wildcards). */
export function aptExpressionMatches(pattern: string, value: string): boolean {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    try {
      return new RegExp(pattern.slice(1, -1), 'i').test(value);
    } catch {
      return false;
    }
  }
  if (!/[*?[]/.test(pattern)) return pattern === value;
  return globToRegExp(pattern).test(value);
}

const globCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re) return re;
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) { out += '\\['; continue; }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  re = new RegExp(`${out}$`);
  globCache.set(glob, re);
  return re;
}

/** A version or release version against a `Pin: version` pattern: equal (case-insensitive), `prefix*`, glob or /regex/. */
function versionMatches(pattern: string, version: string): boolean {
  if (pattern.toLowerCase() === version.toLowerCase()) return true;
  return aptExpressionMatches(pattern, version);
}

/** Reads a `Pin: release` value (also APT::Default-Release). */
export function parseReleaseSpec(text: string): ReleaseSpec {
  const t = text.trim();
  if (!t.includes('=')) return /^[0-9]/.test(t) ? { v: t } : { release: t };
  const spec: ReleaseSpec = {};
  for (const part of t.split(',')) {
    const m = /^\s*([anvolcb])=(.*)$/.exec(part);
    if (m) spec[m[1] as keyof ReleaseSpec] = m[2]!.trim();
  }
  return spec;
}

/** Does a repository (its Release facts) match a release specification? */
export function releaseMatches(spec: ReleaseSpec, f: ReleaseFacts): boolean {
  const keys = Object.keys(spec) as Array<keyof ReleaseSpec>;
  if (keys.length === 0) return false;
  const m = (pattern: string | undefined, value: string | undefined): boolean => pattern === undefined || (value !== undefined && aptExpressionMatches(pattern, value));
  if (spec.v !== undefined && !(f.version !== undefined && versionMatches(spec.v, f.version))) return false;
  if (spec.release !== undefined && !m(spec.release, f.suite) && !m(spec.release, f.codename)) return false;
  return m(spec.o, f.origin) && m(spec.a, f.suite) && m(spec.n, f.codename) && m(spec.l, f.label) && m(spec.c, f.component) && m(spec.b, f.architecture);
}

/** Facts of dpkg's status file as apt sees it (archive `now`). */
const STATUS_FACTS: ReleaseFacts = { suite: 'now' };

function fileMatches(pin: PinTarget, facts: ReleaseFacts | undefined, isStatus: boolean, site = facts?.site ?? ''): boolean {
  if (pin.kind === 'release') return facts !== undefined && releaseMatches(pin.spec, facts);
  if (pin.kind === 'origin') return !isStatus && facts !== undefined && aptExpressionMatches(pin.site, site);
  return false;
}

/**
 * The policy of one host over one universe. Priorities of repositories are computed once;
 * per-version priorities and candidates on demand.
 */
export class AptPolicy {
  /** Per layer: 1 when the host sees it (a repository its sources use, or a layer that is not a repository). */
  readonly layerVisible: Uint8Array;
  /** Per layer: its priority for this host (meaningful where visible). */
  readonly layerPriority: Int32Array;
  private readonly statusPriority: number;
  private readonly specific: AptPin[];
  private readonly hostArch: string;
  /** Architectures besides native and `all` whose versions the host sees (multiarch). */
  private readonly foreignArchs: ReadonlySet<string>;

  constructor(readonly universe: Universe, readonly input: AptPolicyInput = {}) {
    const layers = universe.layers;
    this.hostArch = universe.hostArch;
    this.foreignArchs = new Set(universe.multiarch ? input.foreignArchitectures ?? universe.foreignArchs : []);
    this.layerVisible = new Uint8Array(layers.length);
    this.layerPriority = new Int32Array(layers.length);
    const general: AptPin[] = [];
    if (input.defaultRelease) general.push({ packages: '*', pin: { kind: 'release', spec: parseReleaseSpec(input.defaultRelease) }, priority: 990, where: 'APT::Default-Release' });
    for (const p of input.pins ?? []) if (p.packages === '*') general.push(p);
    this.specific = (input.pins ?? []).filter((p) => p.packages !== '*');
    for (const l of layers) {
      const repo = l.release;
      this.layerVisible[l.index] = repo === undefined || input.repositories === undefined || input.repositories.has(l.index) ? 1 : 0;
      let prio = 500;
      if (repo?.notAutomatic) prio = repo.butAutomaticUpgrades ? 100 : 1;
      for (const g of general) {
        if (fileMatches(g.pin, repo, false, this.siteOf(l.index))) { prio = g.priority; break; }
      }
      this.layerPriority[l.index] = prio;
    }
    let status = 100;
    for (const g of general) if (fileMatches(g.pin, STATUS_FACTS, true)) { status = g.priority; break; }
    this.statusPriority = status;
  }

  private siteOf(layer: number): string {
    return this.input.sites?.get(layer) ?? this.universe.layers[layer]!.release?.site ?? '';
  }

  /** Whether the host's apt knows this version at all (from a source it uses, or installed). */
  sees(pv: number, installed: boolean): boolean {
    if (installed) return true;
    const u = this.universe;
    const arch = u.archOf(pv);
    if (arch !== 'all' && arch !== this.hostArch && !this.foreignArchs.has(arch)) return false;
    for (const l of u.layerIndexesOf(pv)) {
      const info = u.layers[l]!;
      if (info.release === undefined) {
        // the fill layer of installed versions: known only where installed
        if (info.trust === 'observed') continue;
        return true;
      }
      if (this.layerVisible[l]) return true;
    }
    return false;
  }

  /** The pin that sets this version's priority, if a package-specific one does. */
  specificPin(pv: number, installed: boolean): AptPin | undefined {
    if (this.specific.length === 0) return undefined;
    const u = this.universe;
    const name = u.nameOfPv(pv);
    // a pin naming a package without an architecture pins it in every architecture (multiarch)
    const base = u.isForeignPv(pv) ? u.nameOf(u.baseNameOf(u.pvName[pv]!)) : name;
    const version = u.versionOf(pv);
    const matches = (pattern: string, n: string): boolean => pattern === n || (/[*?[]/.test(pattern) || (pattern.startsWith('/') && pattern.endsWith('/') && pattern.length > 1) ? aptExpressionMatches(pattern, n) : false);
    for (const p of this.specific) {
      if (!(p.packages as readonly string[]).some((pattern) => matches(pattern, name) || (base !== name && matches(pattern, base)))) continue;
      if (p.pin.kind === 'version') {
        if (versionMatches(p.pin.pattern, version)) return p;
        continue;
      }
      if (installed && fileMatches(p.pin, STATUS_FACTS, true)) return p;
      for (const l of u.layerIndexesOf(pv)) {
        if (!this.layerVisible[l]) continue;
        if (fileMatches(p.pin, u.layers[l]!.release, false, this.siteOf(l))) return p;
      }
    }
    return undefined;
  }

  /** The pin priority of a version on this host (apt-cache policy's number); 0 when it comes from nowhere the host sees. */
  priorityOf(pv: number, installed: boolean): number {
    const pin = this.specificPin(pv, installed);
    if (pin) return pin.priority;
    const u = this.universe;
    let best = Number.NEGATIVE_INFINITY;
    for (const l of u.layerIndexesOf(pv)) {
      const info = u.layers[l]!;
      if (!this.layerVisible[l] || (info.release === undefined && info.trust === 'observed')) continue;
      if (this.layerPriority[l]! > best) best = this.layerPriority[l]!;
    }
    if (installed && this.statusPriority > best) best = this.statusPriority;
    return best === Number.NEGATIVE_INFINITY ? 0 : best;
  }

  /**
   * apt's candidate of a package name (native architecture and `all`): see the header. -1 when
   * there is none (no version the host sees, or every one pinned at 0 or below and none installed).
   */
  candidateOf(nameId: number, installed: ArrayLike<number>): number {
    const u = this.universe;
    let max = 0;
    let pref = -1;
    for (const pv of u.versionsOf(nameId)) {
      const inst = installed[pv] === 1;
      if (!this.sees(pv, inst)) continue;
      const prio = this.priorityOf(pv, inst);
      if (prio > max) { pref = pv; max = prio; }
      if (inst && max < 1000) {
        if (pref < 0) pref = pv;
        max = 999;
      }
    }
    return pref;
  }

  /** The repositories (suite, and codename where it differs) the host sees, for messages. */
  visibleReleases(): string[] {
    const out = new Set<string>();
    for (const l of this.universe.layers) {
      if (!l.release || !this.layerVisible[l.index]) continue;
      for (const w of [l.release.suite, l.release.codename]) if (w) out.add(w);
    }
    return [...out].sort();
  }

  /** Does the host see a version in a repository matching a release specification? (apt's pkgVersionMatch of `name/release`). */
  private inRelease(pv: number, spec: ReleaseSpec): boolean {
    const u = this.universe;
    const arch = u.archOf(pv);
    if (arch !== 'all' && arch !== this.hostArch && !this.foreignArchs.has(arch)) return false;
    return u.layerIndexesOf(pv).some((l) => this.layerVisible[l] === 1 && u.layers[l]!.release !== undefined && releaseMatches(spec, u.layers[l]!.release!));
  }

  /** The newest version of a name the host sees in the releases matching `spec`; -1 when none. */
  private findInRelease(nameId: number, spec: ReleaseSpec): number {
    for (const pv of this.universe.versionsOf(nameId)) if (this.inRelease(pv, spec)) return pv;
    return -1;
  }

  /**
   * apt's `install name/release`: the selected version is the newest one the host sees in a
   * repository matching the release, made the name's candidate; then, as apt's
   * SetCandidateRelease does, each Pre-Depends/Depends group (and Recommends when `recommends`)
   * of it is checked: it is fine when an installed version meets it, or (unversioned) a provider
   * or the package has a candidate whose Depends/Pre-Depends the installed set meets and whose
   * Conflicts/Breaks hit nothing installed, or (versioned) the candidate meets it and is so
   * installable. Otherwise the versioned alternatives are tried in order: the alternative's newest
   * version in the release, if it meets the relation, becomes its candidate and is checked the
   * same way, recursively; a failing alternative that is not the last is undone. A Depends group
   * that cannot be fixed ends the walk of that version as failed; like apt, the candidates
   * already switched stay. The result is the selected version and the candidate overrides
   * (name id → pv, the selected one included), or why there is none.
   */
  selectFromRelease(nameId: number, release: string, installed: ArrayLike<number>, overrides: Map<number, number> = new Map(), recommends = true):
    | { kind: 'selected'; pv: number; overrides: Map<number, number> }
    | { kind: 'no-release' | 'not-in-release'; releases: string[] } {
    const u = this.universe;
    const spec = parseReleaseSpec(release);
    const target = nameId < 0 ? -1 : this.findInRelease(nameId, spec);
    if (target < 0) {
      const matching = u.layers.some((l) => l.release !== undefined && this.layerVisible[l.index] === 1 && releaseMatches(spec, l.release));
      return { kind: matching ? 'not-in-release' : 'no-release', releases: this.visibleReleases() };
    }
    overrides.set(nameId, target);
    const cand = (n: number): number => overrides.get(n) ?? this.candidateOf(n, installed);
    const isInstalled = (pv: number): boolean => installed[pv] === 1;
    // apt's VersionState(..., DepInstall, DepCandMin): the critical relations against what is installed
    const installable = (pv: number): boolean => {
      for (const kind of [REL.preDepends, REL.depends]) {
        for (const clause of u.clausesOf(pv, kind)) if (!clause.some((atom) => u.candidates(atom).some(isInstalled))) return false;
      }
      return !u.conflictsOf(pv).some(isInstalled) && !u.breaksOf(pv).some(isInstalled);
    };
    const touched: number[] = [];
    const kinds = recommends ? [REL.preDepends, REL.depends, REL.recommends] : [REL.preDepends, REL.depends];
    const groupFine = (clause: Int32Array): boolean => clause.some((atom) => {
      const n = u.atomName[atom]!;
      const providers = u.providersOf(n).pvs;
      if (u.versionsOf(n).length === 0 && providers.length === 0) return false;
      const sat = u.candidates(atom);
      if (sat.some((q) => u.pvName[q] === n && isInstalled(q))) return true;
      const c = cand(n);
      if (u.atomOp[atom] === OP_NONE) {
        if (providers.length > 0) return Array.from(providers).some((q) => cand(u.pvName[q]!) === q && installable(q));
        return c >= 0 && installable(c);
      }
      return c >= 0 && sat.includes(c) && installable(c);
    });
    const walk = (pv: number, depth: number): boolean => {
      const mark = touched.length;
      for (const kind of kinds) {
        for (const clause of u.clausesOf(pv, kind)) {
          if (groupFine(clause)) continue;
          let fixed = false;
          for (let i = 0; i < clause.length; i++) {
            const atom = clause[i]!;
            const last = i === clause.length - 1;
            if (u.atomOp[atom] === OP_NONE) continue;
            const n = u.atomName[atom]!;
            const v = this.findInRelease(n, spec);
            if (v < 0 || !u.candidates(atom).includes(v)) continue;
            const old = cand(n);
            if (v === old && touched.includes(n)) { fixed = true; break; }
            const before = overrides.get(n);
            overrides.set(n, v);
            touched.push(n);
            if (depth < 64 && walk(v, depth + 1)) { fixed = true; break; }
            if (last) break;
            if (before === undefined) overrides.delete(n); else overrides.set(n, before);
            touched.pop();
          }
          if (!fixed && kind !== REL.recommends) {
            touched.length = mark;
            return false;
          }
        }
      }
      return true;
    };
    touched.push(nameId);
    walk(target, 0);
    return { kind: 'selected', pv: target, overrides };
  }

  /**
   * The admit set of a host: the versions the solver may use there: candidates, installed
   * versions, and the versions `explicit` names (a request's `name=version`, as apt allows one
   * that is not the candidate, if the host's sources have it). `overrides` replaces the candidate
   * of some names (a `name/release` request's selections). Decided per version on first use, so
   * a solve pays only for the names it reaches.
   */
  admitSet(installed: ArrayLike<number>, explicit: Iterable<number> = [], overrides?: ReadonlyMap<number, number>): AdmitSet {
    return new HostAdmit(this, installed, explicit, overrides);
  }

  private bare: Int32Array | undefined;

  /** apt's candidate of a name on this host (memoised per policy for names with nothing installed). */
  candidateOn(nameId: number, installed: ArrayLike<number>): number {
    const u = this.universe;
    for (const pv of u.versionsOf(nameId)) if (installed[pv] === 1) return this.candidateOf(nameId, installed);
    const bare = (this.bare ??= new Int32Array(u.nameCount).fill(-2));
    let c = bare[nameId]!;
    if (c === -2) { c = this.candidateOf(nameId, installed); bare[nameId] = c; }
    return c;
  }
}

class HostAdmit implements AdmitSet {
  /** Per pv: 0 undecided, 1 admitted, 2 not. */
  private readonly state: Uint8Array;
  /** Per name id: its candidate here, -2 not yet known. */
  private readonly candidate: Int32Array;

  constructor(private readonly policy: AptPolicy, private readonly installed: ArrayLike<number>, explicit: Iterable<number>, private readonly overrides?: ReadonlyMap<number, number>) {
    const u = policy.universe;
    this.state = new Uint8Array(u.pvCount);
    this.candidate = new Int32Array(u.nameCount).fill(-2);
    for (const pv of explicit) if (policy.sees(pv, installed[pv] === 1)) this.state[pv] = 1;
  }

  admits(pv: number): boolean {
    const s = this.state[pv]!;
    if (s !== 0) return s === 1;
    let ok = this.installed[pv] === 1;
    if (!ok) {
      const n = this.policy.universe.pvName[pv]!;
      let c = this.candidate[n]!;
      if (c === -2) { c = this.overrides?.get(n) ?? this.policy.candidateOn(n, this.installed); this.candidate[n] = c; }
      ok = c === pv;
    }
    this.state[pv] = ok ? 1 : 2;
    return ok;
  }
}

export function createAptPolicy(universe: Universe, input: AptPolicyInput = {}): AptPolicy {
  return new AptPolicy(universe, input);
}

/**
 * The solver's view for one host under apt's policy: only admitted versions exist in it (the
 * same pv ids as the universe, so installed flags carry over).
 */
export function createPolicyView(policy: AptPolicy, installed: ArrayLike<number>, explicit: Iterable<number> = [], overrides?: ReadonlyMap<number, number>): UniverseView {
  return new UniverseView(policy.universe, policy.admitSet(installed, explicit, overrides));
}
