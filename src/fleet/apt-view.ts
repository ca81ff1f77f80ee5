/**
 * From a host's apt configuration to the solver's policy input: which repository layers of the
 * universe its sources use (a source line `deb URI SUITE COMPONENT...` uses the index layers
 * whose Release facts name that suite or codename and one of those components, or the index file
 * the inventory names for it), its pins and its target release.
 */
import path from 'node:path';
import type { Universe } from '../universe/index.js';
import { createAptPolicy, createPolicyView, type AptPolicy, type AptPolicyInput, type PackageSet, type RequestItem } from '../solver/index.js';
import { aptConfigKey, siteOfUri, type AptSource, type HostAptConfig } from './apt-config.js';

/** Does a universe layer hold the index a source line reads? */
export function sourceUsesLayer(source: AptSource, layer: Universe['layers'][number]): boolean {
  if (source.type !== 'deb') return false;
  if (source.index !== undefined) return path.resolve(layer.source) === path.resolve(source.index);
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
  return { repositories, sites, pins: apt.preferences, ...(apt.defaultRelease ? { defaultRelease: apt.defaultRelease } : {}) };
}

export interface AptViews {
  /** The policy of one apt configuration (built once per distinct configuration). */
  policyFor(apt: HostAptConfig): AptPolicy;
  /**
   * The solver's view for a host with this configuration and installed set: its candidates, its
   * installed versions, and the exact versions (`name=version`) the request names.
   */
  viewFor(apt: HostAptConfig, installed: Uint8Array, items: readonly RequestItem[]): PackageSet;
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
  return {
    policyFor,
    viewFor(apt, installed, items) {
      const explicit: number[] = [];
      for (const item of items) {
        if ((item.kind !== 'install' && item.kind !== 'upgrade') || item.op !== '=' || item.version === undefined) continue;
        for (const pv of universe.versionsOf(universe.nameId(item.name))) if (universe.versionOf(pv) === item.version) explicit.push(pv);
      }
      return createPolicyView(policyFor(apt), installed, explicit);
    },
  };
}
