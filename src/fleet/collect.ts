/** Combines inventory sources (YAML files, the local host, SSH targets) into one fleet. */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RollwiseError, excerpt } from '../shared/index.js';
import { loadInventory, inventoryError, type InventoryLoadResult, type SshDefaults } from './inventory-yaml.js';
import type { HostCollection, HostCollector, SshCollectSettings } from './collector.js';
import { SSH_HOST_PATTERN, SSH_USER_PATTERN, type Fleet, type FleetHost, type FleetFinding } from './host.js';

export interface FleetSources {
  inventories?: string[];
  local?: boolean | { name?: string };
  /** Ad-hoc SSH hosts (`[user@]host[:port]`). */
  sshHosts?: string[];
  /** SSH settings from the operator (command line); override the inventories' `ssh:` defaults. */
  ssh?: Partial<SshCollectSettings>;
  /** The known_hosts used when neither the operator nor an inventory names one (default ~/.ssh/known_hosts). */
  userKnownHosts?: string;
  /** Accept inventory `status:` files outside each inventory's folder (see InventoryLoadOptions). */
  allowOutsidePaths?: boolean;
  /** Inventories the caller already loaded (by the file name given in `inventories`), not read again. */
  loaded?: ReadonlyMap<string, InventoryLoadResult>;
  onProgress?: (event: { phase: 'inventory' | 'ssh'; done: number; total: number; host?: string }) => void;
}

/** Parses `[user@]host[:port]`; an IPv6 address is written bare (no port) or `[addr]:port`. */
export function parseSshSpec(spec: string): { host: string; user?: string; port?: number } {
  const bad = (): RollwiseError => new RollwiseError('RW_USAGE', `bad SSH host '${spec}'`, { hint: 'write [user@]host[:port] (a host name or address; [IPv6]:port)' });
  const at = spec.lastIndexOf('@');
  const user = at >= 0 ? spec.slice(0, at) : undefined;
  const rest = spec.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(rest);
  if (bracketed) [host, portText] = [bracketed[1]!, bracketed[2]];
  else if ((rest.match(/:/g) ?? []).length > 1) host = rest;
  else {
    const m = /^([^:]*)(?::(\d{1,5}))?$/.exec(rest);
    if (!m) throw bad();
    [host, portText] = [m[1]!, m[2]];
  }
  if (!SSH_HOST_PATTERN.test(host) || (bracketed && !host.includes(':'))) throw bad();
  if (user !== undefined && !SSH_USER_PATTERN.test(user)) throw new RollwiseError('RW_USAGE', `bad SSH user in '${spec}'`, { hint: 'a user name: letters, digits, _ . -, not starting with - or a digit' });
  const port = portText !== undefined ? Number(portText) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new RollwiseError('RW_USAGE', `bad port in '${excerpt(spec)}'`, { hint: 'ports are 1 to 65535' });
  return { host, ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** The known_hosts file SSH collection checks against, or a usage error naming every place looked at. */
function resolveKnownHosts(sources: FleetSources, fromInventory: string | undefined): string {
  const given = sources.ssh?.knownHosts ?? fromInventory;
  if (given !== undefined) {
    if (!existsSync(given)) throw new RollwiseError('RW_USAGE', `known_hosts file ${given} does not exist`, { hint: 'host keys are always checked strictly: pass --known-hosts FILE listing every SSH host' });
    return given;
  }
  const fallback = sources.userKnownHosts ?? path.join(os.homedir(), '.ssh', 'known_hosts');
  if (!existsSync(fallback)) {
    throw new RollwiseError('RW_USAGE', `SSH hosts need a known_hosts file: no --known-hosts given, no ssh.knownHosts in the inventory, and the fallback ~/.ssh/known_hosts (${fallback}) does not exist`, {
      hint: 'pass --known-hosts FILE or set ssh.knownHosts in the inventory (host keys are always checked strictly: no trust on first use)',
    });
  }
  return fallback;
}

/**
 * Loads every source. Bad inventories throw RW_INVENTORY (all problems, with positions) before any
 * host is contacted; duplicate host names across sources throw too; unreachable hosts are findings.
 * `collector` (src/hosts createHostCollector, wired by app) reads the local host and SSH hosts; a
 * fleet of inventory files only needs none.
 */
export async function collectFleet(sources: FleetSources, collector?: HostCollector): Promise<Fleet> {
  const hosts: FleetHost[] = [];
  const sshTargets: FleetHost[] = [];
  const findings: FleetFinding[] = [];
  let sshDefaults: SshDefaults = {};
  const origin = new Map<string, string>();
  const add = (h: FleetHost, from: string, into: FleetHost[]): void => {
    const prev = origin.get(h.name);
    if (prev !== undefined) throw new RollwiseError('RW_INVENTORY', `duplicate host name '${h.name}' (from ${prev} and ${from})`, { hint: 'host names must be unique across all sources' });
    origin.set(h.name, from);
    into.push(h);
  };
  for (const file of sources.inventories ?? []) {
    const r = sources.loaded?.get(file) ?? loadInventory(file, { allowOutsidePaths: sources.allowOutsidePaths === true });
    if (!r.ok) throw inventoryError(r.problems, file);
    for (const h of r.inventory.hosts) add(h, file, hosts);
    for (const h of r.inventory.sshHosts) add(h, file, sshTargets);
    sshDefaults = { ...sshDefaults, ...r.inventory.ssh };
  }
  for (const spec of sources.sshHosts ?? []) {
    const t = parseSshSpec(spec);
    add({ name: t.host, source: 'ssh', groups: [], labels: {}, facts: {}, installed: [], installedFrom: '', ssh: t }, '--ssh-host', sshTargets);
  }
  const needsCollector = sources.local || sshTargets.length > 0;
  if (needsCollector && !collector) throw new Error('collectFleet: the local host and SSH hosts need a HostCollector (src/hosts createHostCollector)');
  if (sources.local && collector) {
    const name = typeof sources.local === 'object' ? sources.local.name : undefined;
    const r = await collector.collectLocal(name);
    if (r.kind === 'collected') {
      // its apt sources and preferences, read like a directory root's (etc/apt under its root)
      add({ name: r.name, source: 'local', groups: [], labels: {}, facts: r.facts, installed: r.installed, installedFrom: r.installedFrom, ...(r.apt ? { apt: r.apt } : {}) }, '--local', hosts);
      findings.push(...r.findings);
    } else findings.push(r.finding);
  }
  sources.onProgress?.({ phase: 'inventory', done: hosts.length, total: hosts.length + sshTargets.length });
  if (sshTargets.length > 0 && collector) {
    const settings: SshCollectSettings = {
      ...(sshDefaults.identity ? { identity: sshDefaults.identity } : {}),
      ...(sshDefaults.user ? { user: sshDefaults.user } : {}),
      ...(sshDefaults.port ? { port: sshDefaults.port } : {}),
      ...(sshDefaults.connectTimeout ? { connectTimeout: sshDefaults.connectTimeout } : {}),
      ...(sshDefaults.parallel ? { parallel: sshDefaults.parallel } : {}),
      ...sources.ssh,
      knownHosts: resolveKnownHosts(sources, sshDefaults.knownHosts),
    };
    const answers = await collector.collectSsh(
      sshTargets.map((t) => ({ name: t.name, ssh: t.ssh ?? { host: t.name } })),
      settings,
      (done, total, host) => sources.onProgress?.({ phase: 'ssh', done, total, host }),
    );
    const byName = new Map<string, HostCollection>(answers.map((a) => [a.name, a]));
    const sshFindings: FleetFinding[] = [];
    // Keep one fleet order: inventory/local hosts first, then SSH hosts in the order given.
    for (const t of sshTargets) {
      const a = byName.get(t.name);
      if (!a) sshFindings.push({ kind: 'collection-failed', host: t.name, message: 'no answer from the collector' });
      else if (a.kind === 'not-collected') sshFindings.push(a.finding);
      else {
        // inventory facts and labels are kept; collected facts override them
        // the inventory's apt: section, when it has one, is the operator's word; else what the host has
        hosts.push({ ...t, source: 'ssh', facts: { ...t.facts, ...a.facts }, installed: a.installed, installedFrom: a.installedFrom, ...(!t.apt && a.apt ? { apt: a.apt } : {}) });
        sshFindings.push(...a.findings);
      }
    }
    sshFindings.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    findings.push(...sshFindings);
  }
  return { hosts, findings };
}
