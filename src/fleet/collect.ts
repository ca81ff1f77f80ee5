/** Combines inventory sources (YAML files, the local host, SSH targets) into one fleet. */
import { RollwiseError } from '../shared/errors.js';
import { loadInventory, inventoryError, type SshDefaults } from './inventory-yaml.js';
import { readLocalHost } from './local.js';
import { collectSshHosts, type SshOptions } from './ssh.js';
import { SSH_HOST_PATTERN, type Fleet, type FleetHost, type FleetFinding } from './host.js';

export interface FleetSources {
  inventories?: string[];
  local?: boolean | { name?: string };
  /** Ad-hoc SSH hosts (`[user@]host[:port]`). */
  sshHosts?: string[];
  /** SSH settings; override the inventories' `ssh:` defaults. */
  ssh?: Partial<SshOptions>;
  onProgress?: (event: { phase: 'inventory' | 'ssh'; done: number; total: number; host?: string }) => void;
}

/** Parses `[user@]host[:port]`. */
export function parseSshSpec(spec: string): { host: string; user?: string; port?: number } {
  const m = /^(?:([a-z_][a-z0-9_.-]{0,31})@)?([^@:\s]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(spec);
  const host = m?.[2]?.replace(/^\[|\]$/g, '');
  if (!m || !host || !SSH_HOST_PATTERN.test(host)) throw new RollwiseError('RW_USAGE', `bad SSH host '${spec}'`, { hint: 'write [user@]host[:port]' });
  const port = m[3] ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new RollwiseError('RW_USAGE', `bad port in '${spec}'`);
  return { host, ...(m[1] ? { user: m[1] } : {}), ...(port ? { port } : {}) };
}

/**
 * Loads every source. Bad inventories throw RW_INVENTORY (all problems, with positions) before any
 * host is contacted; duplicate host names across sources throw too; unreachable hosts are findings.
 */
export async function collectFleet(sources: FleetSources): Promise<Fleet> {
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
    const r = loadInventory(file);
    if (!r.ok) throw inventoryError(r.problems);
    for (const h of r.inventory.hosts) add(h, file, hosts);
    for (const h of r.inventory.sshHosts) add(h, file, sshTargets);
    sshDefaults = { ...sshDefaults, ...r.inventory.ssh };
  }
  for (const spec of sources.sshHosts ?? []) {
    const t = parseSshSpec(spec);
    add({ name: t.host, source: 'ssh', groups: [], labels: {}, facts: {}, installed: [], installedFrom: '', ssh: t }, '--ssh-host', sshTargets);
  }
  if (sources.local) {
    const name = typeof sources.local === 'object' ? sources.local.name : undefined;
    const r = readLocalHost(name ? { name } : {});
    add(r.host, '--local', hosts);
    findings.push(...r.findings);
  }
  sources.onProgress?.({ phase: 'inventory', done: hosts.length, total: hosts.length + sshTargets.length });
  if (sshTargets.length > 0) {
    const knownHosts = sources.ssh?.knownHosts ?? sshDefaults.knownHosts;
    if (!knownHosts) throw new RollwiseError('RW_USAGE', 'SSH hosts need a known_hosts file', { hint: 'pass --known-hosts FILE or set ssh.knownHosts in the inventory (strict host-key checking is always on)' });
    const opts: SshOptions = {
      ...(sshDefaults.identity ? { identity: sshDefaults.identity } : {}),
      ...(sshDefaults.config ? { configFile: sshDefaults.config } : {}),
      ...(sshDefaults.user ? { user: sshDefaults.user } : {}),
      ...(sshDefaults.port ? { port: sshDefaults.port } : {}),
      ...(sshDefaults.connectTimeout ? { connectTimeout: sshDefaults.connectTimeout } : {}),
      ...(sshDefaults.parallel ? { parallel: sshDefaults.parallel } : {}),
      ...sources.ssh,
      knownHosts,
      onProgress: (done, total, host) => sources.onProgress?.({ phase: 'ssh', done, total, host }),
    };
    const r = await collectSshHosts(sshTargets, opts);
    const byName = new Map(r.hosts.map((h) => [h.name, h]));
    findings.push(...r.findings);
    // Keep one fleet order: inventory/local hosts first, then SSH hosts in the order given.
    for (const t of sshTargets) {
      const h = byName.get(t.name);
      if (h) hosts.push(h);
    }
  }
  return { hosts, findings };
}
