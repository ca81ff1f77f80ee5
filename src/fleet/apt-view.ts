/**
 * From a host's apt configuration to the solver's policy input: which repository layers of the
 * universe its sources use (a source line `deb URI SUITE COMPONENT...` uses the index layers
 * whose Release facts name that suite or codename and one of those components, or the index file
 * the inventory names for it), its pins and its target release; and a request's `name/release`
 * items resolved under that policy (apt-get install nginx/bookworm-backports).
 */
import path from 'node:path';
import { RollwiseError } from '../shared/index.js';
import type { Universe } from '../universe/index.js';
import { createAptPolicy, createPolicyView, type AptPolicy, type AptPolicyInput, type PackageSet, type RequestItem } from '../solver/index.js';
import { aptConfigKey, siteOfUri, type AptSource, type HostAptConfig } from './apt-config.js';

/** Does a universe layer hold the index a source line reads? */
export function sourceUsesLayer(source: AptSource, layer: Universe['layers'][number]): boolean {
  if (source.type !== 'deb') return false;
  if (source.index !== undefined || source.indexes !== undefined) {
    const files = [...(source.index !== undefined ? [source.index] : []), ...Object.values(source.indexes ?? {})];
    return files.some((f) => path.resolve(layer.source) === path.resolve(f));
  }
  const r = layer.release;
  if (!r) return false;
  if (source.suite !== r.suite && source.suite !== r.codename) return false;
  if (source.architectures && r.architecture && r.architecture !== 'all' && !source.architectures.includes(r.architecture)) return false;
  return source.components.length === 0 || r.component === undefined || source.components.includes(r.component);
}

/**
 * The policy input of a host: the repository layers its sources use (with the site of the
 * source's URI for `Pin: origin`), its preferences and its target release.
 */
export function aptPolicyInputOf(universe: Universe, apt: HostAptConfig): AptPolicyInput {
  const repositories = new Set<number>();
  const sites = new Map<number, string>();
  for (const layer of universe.layers) {
    if (!layer.release) continue;
    const using = apt.sources.find((s) => sourceUsesLayer(s, layer));
    if (!using) continue;
    repositories.add(layer.index);
    sites.set(layer.index, siteOfUri(using.uri));
  }
  return {
    repositories, sites, pins: apt.preferences, foreignArchitectures: apt.foreignArchitectures,
    ...(apt.defaultRelease ? { defaultRelease: apt.defaultRelease } : {}),
  };
}

export interface AptViews {
  /** The policy of one apt configuration (built once per distinct configuration). */
  policyFor(apt: HostAptConfig): AptPolicy;
  /**
   * The solver's view for a host with this configuration and installed set: its candidates, its
   * installed versions, and the exact versions (`name=version`) the request names.
   */
  viewFor(apt: HostAptConfig, installed: Uint8Array, items: readonly RequestItem[]): PackageSet;
  /**
   * The view and the request as this host's apt takes it: each `name/release` item becomes an
   * install of the version selected from that release (`name=version`), and the candidates apt
   * switches for its dependencies are the host's candidates in the view. RW_REQUEST when no
   * release the host sees matches, or the matching ones lack the package.
   */
  resolve(apt: HostAptConfig, installed: Uint8Array, items: readonly RequestItem[], recommends?: boolean): { set: PackageSet; items: RequestItem[] };
}

/**
 * The request items of a host under its policy, with the candidate overrides of `name/release`
 * items (see AptViews.resolve); `recommends`: whether Recommends count (apt's Install-Recommends).
 */
export function resolveReleaseItems(policy: AptPolicy, installed: ArrayLike<number>, items: readonly RequestItem[], recommends = true): { items: RequestItem[]; overrides: Map<number, number> } {
  const u = policy.universe;
  const overrides = new Map<number, number>();
  const out = items.map((item): RequestItem => {
    if (item.kind !== 'install' || item.release === undefined) return item;
    const r = policy.selectFromRelease(u.nameIdOfSpec(item.name, item.archQualifier), item.release, installed, overrides, recommends);
    if (r.kind !== 'selected') {
      const sees = r.releases.length ? r.releases.join(', ') : 'none: its sources use no repository with Release facts';
      throw new RollwiseError('RW_REQUEST', r.kind === 'no-release'
        ? `${item.name}/${item.release}: no release this host sees matches '${item.release}' (it sees: ${sees})`
        : `${item.name}/${item.release}: the releases matching '${item.release}' have no ${item.name} for this host`, {
        hint: r.kind === 'no-release' ? "name one of the releases the host's apt sources use (an archive such as bookworm-backports, or a codename)" : `install ${item.name} without a release, or add a source that has it`,
      });
    }
    const { release: _release, ...rest } = item;
    return { ...rest, op: '=', version: u.versionOf(r.pv) };
  });
  return { items: out, overrides };
}

/** Views under apt's policy over one universe, shared by every group a planner solves. */
export function createAptViews(universe: Universe): AptViews {
  const policies = new Map<string, AptPolicy>();
  const policyFor = (apt: HostAptConfig): AptPolicy => {
    const key = aptConfigKey(apt);
    let p = policies.get(key);
    if (!p) { p = createAptPolicy(universe, aptPolicyInputOf(universe, apt)); policies.set(key, p); }
    return p;
  };
  const resolve: AptViews['resolve'] = (apt, installed, requested, recommends = true) => {
    const policy = policyFor(apt);
    const { items, overrides } = resolveReleaseItems(policy, installed, requested, recommends);
    const explicit: number[] = [];
    for (const item of items) {
      if ((item.kind !== 'install' && item.kind !== 'upgrade') || item.op !== '=' || item.version === undefined) continue;
      for (const pv of universe.versionsOf(universe.nameIdOfSpec(item.name, item.archQualifier))) if (universe.versionOf(pv) === item.version) explicit.push(pv);
    }
    return { set: createPolicyView(policy, installed, explicit, overrides), items };
  };
  return { policyFor, resolve, viewFor: (apt, installed, items) => resolve(apt, installed, items).set };
}
