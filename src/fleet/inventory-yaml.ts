/**
 * The YAML inventory: hosts, groups, labels, facts, and each host's dpkg status file path or
 * inline installed set (or an `ssh:` target whose state is collected). Validation reports
 * every problem at once with file:line:column.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, LineCounter, isMap, isPair, isScalar, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { RollwiseError, type SourcePosition, formatPosition } from '../shared/errors.js';
import { isValidDebianVersion } from '../versions/index.js';
import { HostFactsSchema, LabelsSchema, mergeFacts, ARCH_PATTERN, type HostFacts, type Labels } from './facts.js';
import { parseStatusInstalled, PACKAGE_NAME_PATTERN, type InstalledPackage } from './installed.js';
import { HOST_NAME_PATTERN, SSH_HOST_PATTERN, SSH_USER_PATTERN, type FleetHost } from './host.js';

const InstalledEntrySchema = z.union([
  z.string().regex(/^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?=\S+$/, 'an entry NAME[:ARCH]=VERSION'),
  z.strictObject({
    name: z.string().regex(PACKAGE_NAME_PATTERN, 'a Debian package name'),
    version: z.string(),
    architecture: z.string().regex(ARCH_PATTERN).optional(),
  }),
]);

const SshSchema = z.strictObject({
  host: z.string().regex(SSH_HOST_PATTERN, 'a host name or address').optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().regex(SSH_USER_PATTERN, 'a user name').optional(),
});

const SshDefaultsSchema = z.strictObject({
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().regex(SSH_USER_PATTERN, 'a user name').optional(),
  knownHosts: z.string().optional(),
  identity: z.string().optional(),
  /** ssh config file (`-F`), e.g. for ProxyCommand or jump hosts. */
  config: z.string().optional(),
  connectTimeout: z.number().int().min(1).max(300).optional(),
  parallel: z.number().int().min(1).max(256).optional(),
});

const HostEntrySchema = z.strictObject({
  name: z.string().regex(HOST_NAME_PATTERN, 'a host name (letters, digits, . _ -)'),
  groups: z.array(z.string()).optional(),
  labels: LabelsSchema.optional(),
  facts: HostFactsSchema.optional(),
  status: z.string().min(1).optional(),
  installed: z.array(InstalledEntrySchema).optional(),
  ssh: SshSchema.optional(),
});

const GroupSchema = z.strictObject({
  labels: LabelsSchema.optional(),
  facts: HostFactsSchema.optional(),
});

export const InventorySchema = z.strictObject({
  version: z.literal(1).optional(),
  defaults: z.strictObject({ labels: LabelsSchema.optional(), facts: HostFactsSchema.optional() }).optional(),
  ssh: SshDefaultsSchema.optional(),
  groups: z.record(z.string().regex(HOST_NAME_PATTERN, 'a group name'), GroupSchema).optional(),
  hosts: z.array(HostEntrySchema),
});

export type InventoryDocument = z.infer<typeof InventorySchema>;
export type SshDefaults = z.infer<typeof SshDefaultsSchema>;

export interface InventoryProblem {
  position: SourcePosition;
  message: string;
}

export interface LoadedInventory {
  file: string;
  /** Hosts with state known from the file (inline installed set or a status file). */
  hosts: FleetHost[];
  /** Hosts whose facts and installed set are to be collected over SSH. */
  sshHosts: FleetHost[];
  ssh: SshDefaults;
}

export type InventoryLoadResult = { ok: true; inventory: LoadedInventory } | { ok: false; problems: InventoryProblem[] };

class Locator {
  constructor(readonly file: string, readonly doc: Document, readonly lc: LineCounter) {}
  at(offset: number): SourcePosition {
    const p = this.lc.linePos(offset);
    return { file: this.file, line: p.line, column: p.col };
  }
  /** Position of the node at `path`, or of the key `key` inside it, or of the nearest ancestor. */
  find(pathParts: ReadonlyArray<PropertyKey>, key?: string): SourcePosition {
    const parts = pathParts.map((p) => (typeof p === 'symbol' ? String(p) : p));
    for (let n = parts.length; n >= 0; n--) {
      const node = this.doc.getIn(parts.slice(0, n), true) as YamlNode | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        if (key !== undefined && n === parts.length && isMap(node)) {
          const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
          if (pair && isScalar(pair.key) && pair.key.range) return this.at(pair.key.range[0]);
        }
        return this.at(node.range[0]);
      }
    }
    return { file: this.file, line: 1, column: 1 };
  }
}

/** Reads and validates an inventory file; never throws for bad content (returns the problems). */
export function loadInventory(file: string): InventoryLoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ position: { file, line: 1, column: 1 }, message: `cannot read inventory: ${(e as Error).message}` }] };
  }
  return parseInventoryText(text, file);
}

export function parseInventoryText(text: string, file: string): InventoryLoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const loc = new Locator(file, doc, lc);
  const problems: InventoryProblem[] = [];
  for (const err of doc.errors) problems.push({ position: loc.at(err.pos[0]), message: err.message.split('\n')[0]! });
  if (problems.length > 0) return { ok: false, problems };
  const parsed = InventorySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push({ position: loc.find(issue.path, k), message: `unknown key '${k}'` });
      } else {
        const where = issue.path.length ? ` at ${issue.path.map(String).join('.')}` : '';
        problems.push({ position: loc.find(issue.path), message: `${issue.message}${where}` });
      }
    }
    return { ok: false, problems: sortProblems(problems) };
  }
  const inv = parsed.data;
  const dir = path.dirname(path.resolve(file));
  const groups = inv.groups ?? {};
  const seen = new Map<string, number>();
  const hosts: FleetHost[] = [];
  const sshHosts: FleetHost[] = [];
  inv.hosts.forEach((h, i) => {
    const base = ['hosts', i];
    const first = seen.get(h.name);
    if (first !== undefined) {
      const firstPos = loc.find(['hosts', first, 'name']);
      problems.push({ position: loc.find([...base, 'name']), message: `duplicate host name '${h.name}' (first defined at ${formatPosition(firstPos)})` });
      return;
    }
    seen.set(h.name, i);
    const groupNames = h.groups ?? [];
    let labels: Labels = { ...(inv.defaults?.labels ?? {}) };
    const factLayers: Array<HostFacts | undefined> = [inv.defaults?.facts];
    groupNames.forEach((g, gi) => {
      const def = groups[g];
      if (!def) {
        problems.push({ position: loc.find([...base, 'groups', gi]), message: `unknown group '${g}'`, });
        return;
      }
      labels = { ...labels, ...(def.labels ?? {}) };
      factLayers.push(def.facts);
    });
    labels = { ...labels, ...(h.labels ?? {}) };
    factLayers.push(h.facts);
    const facts = mergeFacts(...factLayers);
    const sources = [h.status !== undefined, h.installed !== undefined].filter(Boolean).length;
    if (sources > 1) {
      problems.push({ position: loc.find(base, 'installed'), message: `host '${h.name}' has both 'status' and 'installed'; give one` });
      return;
    }
    if (sources === 0 && !h.ssh) {
      problems.push({ position: loc.find(base), message: `host '${h.name}' needs 'status' (a dpkg status file), 'installed' (a list) or 'ssh' (collect over SSH)` });
      return;
    }
    let installed: InstalledPackage[] = [];
    let installedFrom = '';
    if (h.installed) {
      installedFrom = `${file} (inline)`;
      h.installed.forEach((entry, ei) => {
        let name: string;
        let version: string;
        let arch: string;
        if (typeof entry === 'string') {
          const eq = entry.indexOf('=');
          const left = entry.slice(0, eq);
          version = entry.slice(eq + 1);
          const colon = left.indexOf(':');
          name = colon >= 0 ? left.slice(0, colon) : left;
          arch = colon >= 0 ? left.slice(colon + 1) : (facts.architecture ?? 'amd64');
        } else {
          name = entry.name;
          version = entry.version;
          arch = entry.architecture ?? facts.architecture ?? 'amd64';
        }
        if (!isValidDebianVersion(version)) {
          problems.push({ position: loc.find([...base, 'installed', ei, ...(typeof entry === 'string' ? [] : ['version'])]), message: `malformed version '${version}' of ${name}` });
          return;
        }
        installed.push({ name, version, architecture: arch });
      });
    } else if (h.status !== undefined) {
      const statusPath = path.resolve(dir, h.status);
      installedFrom = statusPath;
      const pos = loc.find([...base, 'status']);
      if (!existsSync(statusPath) || !statSync(statusPath).isFile()) {
        problems.push({ position: pos, message: `status file not found: ${statusPath}` });
        return;
      }
      const r = parseStatusInstalled(readFileSync(statusPath, 'utf8'));
      for (const p of r.problems) problems.push({ position: { file: statusPath, line: p.line, column: p.column }, message: p.message });
      installed = r.packages;
    }
    const host: FleetHost = { name: h.name, source: h.installed || h.status ? 'inventory' : 'ssh', groups: groupNames, labels, facts, installed, installedFrom };
    if (h.ssh) host.ssh = { host: h.ssh.host ?? h.name, ...(h.ssh.port ? { port: h.ssh.port } : {}), ...(h.ssh.user ? { user: h.ssh.user } : {}) };
    if (host.source === 'ssh') sshHosts.push(host);
    else hosts.push(host);
  });
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const ssh: SshDefaults = { ...(inv.ssh ?? {}) };
  if (ssh.knownHosts) ssh.knownHosts = path.resolve(dir, ssh.knownHosts);
  if (ssh.identity) ssh.identity = path.resolve(dir, ssh.identity);
  if (ssh.config) ssh.config = path.resolve(dir, ssh.config);
  return { ok: true, inventory: { file, hosts, sshHosts, ssh } };
}

function sortProblems(p: InventoryProblem[]): InventoryProblem[] {
  return p.sort((a, b) => (a.position.file === b.position.file ? a.position.line - b.position.line || a.position.column - b.position.column : a.position.file < b.position.file ? -1 : 1));
}

/** One RollwiseError carrying every problem (the first one's position; all lines in the message). */
export function inventoryError(problems: InventoryProblem[]): RollwiseError {
  const first = problems[0]!;
  const rest = problems.slice(1).map((p) => `\n  ${formatPosition(p.position)}: ${p.message}`).join('');
  return new RollwiseError('RW_INVENTORY', `${first.message}${rest}`, {
    position: first.position,
    hint: problems.length > 1 ? `${problems.length} problems; fix them and run again` : 'fix the inventory and run again',
  });
}
