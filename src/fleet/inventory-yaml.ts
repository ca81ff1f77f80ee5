/**
 * The YAML inventory: hosts, groups, labels, facts, and each host's dpkg status file path or
 * inline installed set (or an `ssh:` target whose state is collected), and where the knowledge
 * base's databases live (`databases:` at the top, per group or per host; the password only by
 * reference, an environment variable's name or a file's path). Validation reports every problem
 * at once with file:line:column.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  RollwiseError, documentData, escapeControls, excerpt, fileStamp, formatPosition, looksLikeText, parseSource, placeInFolder, positionOfPath, syntaxProblems, wordIssues,
  type SourceDoc, type SourcePosition,
} from '../shared/index.js';
import { isValidDebianVersion } from '../versions/index.js';
import { HostFactsSchema, LabelsSchema, mergeFacts, ARCH_PATTERN, type HostFacts, type Labels } from './facts.js';
import { AptInventorySchema, resolveHostApt } from './apt-inventory.js';
import { looksLikeStatus, parseStatusInstalled, PACKAGE_NAME_PATTERN, type InstalledPackage } from './installed.js';
import { HOST_NAME_PATTERN, SSH_HOST_PATTERN, SSH_USER_PATTERN, type FleetHost } from './host.js';

const InstalledEntrySchema = z.union([
  z.string().regex(/^[a-z0-9][a-z0-9+.-]+(?::[a-z0-9-]+)?=\S+$/, 'an entry NAME[:ARCH]=VERSION'),
  z.strictObject({
    name: z.string().regex(PACKAGE_NAME_PATTERN, 'a Debian package name'),
    version: z.string().describe('a Debian version such as 1.22.1-9'),
    architecture: z.string().regex(ARCH_PATTERN, 'a Debian architecture such as amd64').optional(),
  }),
]).describe("an entry 'NAME[:ARCH]=VERSION' or a mapping (name, version, architecture)");

const PORT = z.number().int().min(1).max(65535);

const SshSchema = z.strictObject({
  host: z.string().regex(SSH_HOST_PATTERN, 'a host name or address').optional(),
  port: PORT.optional(),
  user: z.string().regex(SSH_USER_PATTERN, 'a user name').optional(),
});

const SshDefaultsSchema = z.strictObject({
  port: PORT.optional(),
  user: z.string().regex(SSH_USER_PATTERN, 'a user name').optional(),
  knownHosts: z.string().optional(),
  identity: z.string().optional(),
  connectTimeout: z.number().int().min(1).max(300).optional(),
  parallel: z.number().int().min(1).max(256).optional(),
});

/** How a database's password is found: never the password itself, which stays out of plans, journals and errors. */
export type DatabasePassword = { env: string } | { file: string };

/** Where a database the knowledge base names lives, and the table recording its applied migrations. */
export interface DatabaseRef {
  /** Logical name (as the knowledge base names it). */
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Table of applied migration versions (default `schema_migrations`). */
  table?: string;
  /** Where the password is read when a tool connects (absent: none, or the tool's own means such as ~/.pgpass). */
  password?: DatabasePassword;
}

const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DatabasePasswordSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
  z.strictObject({ file: z.string().min(1).describe('a file holding the password (relative to the inventory)') }),
]);

const DatabaseSchema = z.strictObject({
  host: z.string().regex(/^(?:[A-Za-z0-9][A-Za-z0-9.:-]*|\/[^\s\0]*)$/, 'a host name, an address or a socket folder (absolute path)'),
  port: PORT.optional(),
  user: z.string().regex(SQL_NAME, 'a user name (letters, digits and _)'),
  database: z.string().regex(SQL_NAME, 'a database name (letters, digits and _)'),
  table: z.string().regex(SQL_NAME, 'a table name (letters, digits and _)').optional().describe('the table of applied migrations (default schema_migrations)'),
  /** Checked apart (DatabasePasswordSchema): a password written out must never be quoted in a problem. */
  password: z.unknown().optional(),
});

/** The knowledge base's database names (its migrations' `database:`) to their addresses. */
const DatabasesSchema = z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'a database name as the knowledge base gives it'), DatabaseSchema);

const HostEntrySchema = z.strictObject({
  name: z.string().regex(HOST_NAME_PATTERN, 'a host name (letters, digits, . _ -)'),
  groups: z.array(z.string()).optional(),
  labels: LabelsSchema.optional(),
  facts: HostFactsSchema.optional(),
  status: z.string().min(1).describe('the path of a dpkg status file').optional(),
  installed: z.array(InstalledEntrySchema).optional(),
  ssh: SshSchema.optional(),
  root: z.string().min(1).describe('the directory root the host lives in (a folder holding var/lib/dpkg), for rollwise deploy').optional(),
  databases: DatabasesSchema.optional(),
  apt: AptInventorySchema.optional(),
});

const GroupSchema = z.strictObject({
  labels: LabelsSchema.optional(),
  facts: HostFactsSchema.optional(),
  databases: DatabasesSchema.optional(),
  apt: AptInventorySchema.optional(),
});

export const InventorySchema = z.strictObject({
  version: z.literal(1).optional(),
  defaults: z.strictObject({ labels: LabelsSchema.optional(), facts: HostFactsSchema.optional(), apt: AptInventorySchema.optional() }).optional(),
  ssh: SshDefaultsSchema.optional(),
  groups: z.record(z.string().regex(HOST_NAME_PATTERN, 'a group name (letters, digits, . _ -)'), GroupSchema).optional(),
  /** Every host's databases unless its groups or itself name others. */
  databases: DatabasesSchema.optional(),
  hosts: z.array(HostEntrySchema),
});

/** The document's top level; hosts are checked one by one so one bad host hides no other problem. */
const InventoryTopSchema = InventorySchema.extend({ hosts: z.array(z.unknown()) });

export type InventoryDocument = z.infer<typeof InventorySchema>;
export type SshDefaults = z.infer<typeof SshDefaultsSchema>;

export interface InventoryProblem {
  position: SourcePosition;
  message: string;
  hint?: string;
}

// An inventory is data, often written or generated by others: an ssh config file can run commands
// on this machine (ProxyCommand, LocalCommand, KnownHostsCommand, Match exec), so only the operator
// may name one, on the command line.
const SSH_CONFIG_REFUSED = "'ssh.config' is no longer accepted: an inventory is data, and an ssh config file can run commands on this machine (ProxyCommand, LocalCommand, Match exec)";
const SSH_CONFIG_HINT = 'remove ssh.config from the inventory; to use an ssh config file (jump hosts, proxies), pass --ssh-config FILE on the command line';

export interface LoadedInventory {
  file: string;
  /** Hosts with state known from the file (inline installed set or a status file). */
  hosts: FleetHost[];
  /** Hosts whose facts and installed set are to be collected over SSH. */
  sshHosts: FleetHost[];
  ssh: SshDefaults;
  /** Per host name (hosts that have any): the knowledge base's database names to their addresses. */
  databases: Record<string, Record<string, DatabaseRef>>;
}

export type InventoryLoadResult = { ok: true; inventory: LoadedInventory } | { ok: false; problems: InventoryProblem[] };

export interface InventoryLoadOptions {
  /**
   * Accept `status:` files outside the inventory's folder (absolute paths, `..`, links out of it).
   * An inventory is data, often written by others: by default the files it names stay beside it.
   */
  allowOutsidePaths?: boolean;
}

/** Status files larger than this are refused (a real dpkg status file of 3,000 packages is ~5 MB). */
const MAX_STATUS_BYTES = 256 * 1024 * 1024;

/** Reads and validates an inventory file; never throws for bad content (returns the problems). */
export function loadInventory(file: string, options: InventoryLoadOptions = {}): InventoryLoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ position: { file, line: 1, column: 1 }, message: `cannot read inventory: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`, hint: 'check the path and its permissions' }] };
  }
  return parseInventoryText(text, file, options);
}

/** The schema problems of `issues` (zod's, for `data` checked against `schema` at `prefix` in the document), in operator words. */
function schemaProblems(src: SourceDoc, schema: z.ZodType, data: unknown, issues: readonly z.core.$ZodIssue[], prefix: ReadonlyArray<string | number> = []): InventoryProblem[] {
  return wordIssues(issues, { schema, data, prefix }).map((w): InventoryProblem => {
    const position = positionOfPath(src, w.path, w.key === undefined ? {} : { key: w.key });
    if (w.path.length === 1 && w.path[0] === 'ssh' && w.key === 'config') return { position, message: SSH_CONFIG_REFUSED, hint: SSH_CONFIG_HINT };
    return { position, message: w.message, ...(w.hint ? { hint: w.hint } : {}) };
  });
}

/**
 * Duplicate host names over the raw entries (any entry with a string `name`, valid or not), so a
 * duplicate is reported in the same run as the schema problems of either entry. Returns the
 * indexes of the later entries, which are not checked further.
 */
function duplicateNames(src: SourceDoc, raw: readonly unknown[], problems: InventoryProblem[]): Set<number> {
  const first = new Map<string, number>();
  const later = new Set<number>();
  raw.forEach((entry, i) => {
    const name = entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Record<string, unknown>).name : undefined;
    if (typeof name !== 'string') return;
    const seen = first.get(name);
    if (seen === undefined) {
      first.set(name, i);
      return;
    }
    later.add(i);
    const firstPos = positionOfPath(src, ['hosts', seen, 'name']);
    problems.push({ position: positionOfPath(src, ['hosts', i, 'name']), message: `duplicate host name '${excerpt(name)}' (first defined at ${formatPosition(firstPos)})`, hint: 'host names must be unique: rename or remove one entry' });
  });
  return later;
}

export function parseInventoryText(text: string, file: string, options: InventoryLoadOptions = {}): InventoryLoadResult {
  const src = parseSource(file, text);
  const problems: InventoryProblem[] = syntaxProblems(src).map((p) => ({ position: p.position, message: p.message }));
  if (problems.length > 0) return { ok: false, problems };
  const data = documentData(src);
  if (!data.ok) return { ok: false, problems: [{ position: data.problem.position, message: data.problem.message, hint: 'write each host out; aliases are for a few shared values' }] };
  if (data.data === null || data.data === undefined) {
    return { ok: false, problems: [{ position: { file, line: 1, column: 1 }, message: 'the inventory is empty', hint: "an inventory is a mapping with a 'hosts:' list, one '- name: …' entry per host" }] };
  }
  // a mapping with none of an inventory's keys (a shadow file, another tool's config): not an
  // inventory, and its keys (which may be secrets) are not quoted
  const topKeys = new Set(Object.keys((InventoryTopSchema as unknown as { shape?: Record<string, unknown> }).shape ?? {}));
  if (typeof data.data === 'object' && !Array.isArray(data.data) && topKeys.size > 0 && !Object.keys(data.data).some((k) => topKeys.has(k))) {
    return { ok: false, problems: [{ position: { file, line: 1, column: 1 }, message: 'not an inventory: none of its keys is one an inventory has (its content is not shown)', hint: "an inventory is a mapping with a 'hosts:' list, one '- name: …' entry per host" }] };
  }
  // The top level and each host are checked apart, so one bad part hides no problem of another;
  // duplicate names are found over the raw entries, valid or not.
  const top = InventoryTopSchema.safeParse(data.data);
  if (!top.success) problems.push(...schemaProblems(src, InventoryTopSchema, data.data, top.error.issues));
  const rawHosts = (data.data as { hosts?: unknown }).hosts;
  const raw = Array.isArray(rawHosts) ? rawHosts : [];
  const duplicates = duplicateNames(src, raw, problems);
  const entries: Array<{ index: number; host: z.infer<typeof HostEntrySchema> }> = [];
  raw.forEach((entry, index) => {
    const r = HostEntrySchema.safeParse(entry);
    if (!r.success) problems.push(...schemaProblems(src, HostEntrySchema, entry, r.error.issues, ['hosts', index]));
    else if (!duplicates.has(index)) entries.push({ index, host: r.data });
  });
  if (!top.success) return { ok: false, problems: sortProblems(problems) };
  const inv = top.data;
  const loc = { find: (p: ReadonlyArray<string | number>, key?: string): SourcePosition => positionOfPath(src, p, key === undefined ? {} : { key }) };
  const dir = path.dirname(path.resolve(file));
  const groups = inv.groups ?? {};
  const hosts: FleetHost[] = [];
  const sshHosts: FleetHost[] = [];
  const databases: Record<string, Record<string, DatabaseRef>> = {};
  // a password file is a path like a status file: beside the inventory unless allowed
  const addresses = (defs: z.infer<typeof DatabasesSchema> | undefined, at: ReadonlyArray<string | number>): Record<string, DatabaseRef> => {
    const out: Record<string, DatabaseRef> = {};
    for (const [name, d] of Object.entries(defs ?? {})) {
      let password: DatabasePassword | undefined;
      if (d.password !== undefined) {
        const p = DatabasePasswordSchema.safeParse(d.password);
        if (!p.success) {
          problems.push({ position: loc.find([...at, name, 'password']), message: `the password of database '${excerpt(name)}' must be given by reference (its value is not shown)`, hint: 'password: { env: VARIABLE } (an environment variable of the controller) or { file: PATH } (a file holding it, beside the inventory)' });
          continue;
        }
        password = p.data;
      }
      if (password && 'file' in password) {
        const place = placeInFolder(dir, password.file);
        if (place.kind === 'outside' && !options.allowOutsidePaths) {
          problems.push({ position: loc.find([...at, name, 'password', 'file']), message: `password file of database '${excerpt(name)}' is outside the inventory's folder`, hint: `keep it beside the inventory (a relative path inside ${dir}), or pass --allow-outside-paths` });
        }
        password = { file: place.path };
      }
      out[name] = { name, host: d.host, port: d.port ?? 5432, user: d.user, database: d.database, ...(d.table ? { table: d.table } : {}), ...(password ? { password } : {}) };
    }
    return out;
  };
  const topDatabases = addresses(inv.databases, ['databases']);
  const groupDatabases = new Map(Object.entries(groups).map(([g, def]) => [g, addresses(def.databases, ['groups', g, 'databases'])]));
  for (const { index: i, host: h } of entries) {
    const base = ['hosts', i];
    const groupNames = h.groups ?? [];
    let labels: Labels = { ...(inv.defaults?.labels ?? {}) };
    let dbs: Record<string, DatabaseRef> = { ...topDatabases };
    const factLayers: Array<HostFacts | undefined> = [inv.defaults?.facts];
    groupNames.forEach((g, gi) => {
      const def = groups[g];
      if (!def) {
        problems.push({ position: loc.find([...base, 'groups', gi]), message: `unknown group '${g}'`, });
        return;
      }
      labels = { ...labels, ...(def.labels ?? {}) };
      dbs = { ...dbs, ...(groupDatabases.get(g) ?? {}) };
      factLayers.push(def.facts);
    });
    dbs = { ...dbs, ...addresses(h.databases, [...base, 'databases']) };
    if (Object.keys(dbs).length > 0) databases[h.name] = dbs;
    labels = { ...labels, ...(h.labels ?? {}) };
    factLayers.push(h.facts);
    const facts = mergeFacts(...factLayers);
    // a directory root: its place is checked like a status file's, and its dpkg status is the default installed set
    let root: string | undefined;
    if (h.root !== undefined && h.ssh) {
      // on the remote machine: an absolute path there
      if (!h.root.startsWith('/')) {
        problems.push({ position: loc.find([...base, 'root']), message: `root '${excerpt(h.root)}' of an SSH host must be an absolute path on that host` });
        continue;
      }
      root = h.root;
    } else if (h.root !== undefined) {
      const place = placeInFolder(dir, h.root);
      if (place.kind === 'outside' && !options.allowOutsidePaths) {
        problems.push({ position: loc.find([...base, 'root']), message: `root '${excerpt(h.root)}' is outside the inventory's folder`, hint: `keep directory roots beside the inventory (a relative path inside ${dir}), or pass --allow-outside-paths` });
        continue;
      }
      root = place.path;
    }
    const sources = [h.status !== undefined, h.installed !== undefined].filter(Boolean).length;
    if (sources > 1) {
      problems.push({ position: loc.find(base, 'installed'), message: `host '${h.name}' has both 'status' and 'installed'; give one` });
      continue;
    }
    if (sources === 0 && !h.ssh && root === undefined) {
      problems.push({ position: loc.find(base), message: `host '${h.name}' needs 'status' (a dpkg status file), 'installed' (a list), 'root' (a directory root) or 'ssh' (collect over SSH)` });
      continue;
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
          problems.push({ position: loc.find([...base, 'installed', ei, ...(typeof entry === 'string' ? [] : ['version'])]), message: `malformed version '${excerpt(version)}' of ${name}` });
          return;
        }
        installed.push({ name, version, architecture: arch });
      });
    } else if (h.status !== undefined || (root !== undefined && !h.ssh)) {
      const read = readStatusFile(dir, h.status ?? path.join(root!, 'var/lib/dpkg/status'), loc.find([...base, h.status !== undefined ? 'status' : 'root']), options);
      if (!read.ok) {
        problems.push(...read.problems);
        continue;
      }
      installedFrom = read.file;
      installed = read.packages;
    }
    const apt = resolveHostApt([
      { apt: inv.defaults?.apt, at: ['defaults'] },
      ...groupNames.map((g) => ({ apt: groups[g]?.apt, at: ['groups', g] })),
      { apt: h.apt, at: base },
    ], { dir, architecture: facts.architecture ?? 'amd64', ...(root !== undefined && !h.ssh ? { root } : {}), find: (p) => loc.find(p), problems });
    const host: FleetHost = { name: h.name, source: h.installed || h.status || (root !== undefined && !h.ssh) ? 'inventory' : 'ssh', groups: groupNames, labels, facts, installed, installedFrom, ...(root !== undefined ? { root } : {}), ...(apt ? { apt } : {}) };
    if (h.ssh) host.ssh = { host: h.ssh.host ?? h.name, ...(h.ssh.port ? { port: h.ssh.port } : {}), ...(h.ssh.user ? { user: h.ssh.user } : {}) };
    if (host.source === 'ssh') sshHosts.push(host);
    else hosts.push(host);
  }
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  const ssh: SshDefaults = { ...(inv.ssh ?? {}) };
  if (ssh.knownHosts) ssh.knownHosts = path.resolve(dir, ssh.knownHosts);
  if (ssh.identity) ssh.identity = path.resolve(dir, ssh.identity);
  return { ok: true, inventory: { file, hosts, sshHosts, ssh, databases } };
}

/** Problems quoted from one status file at most; the rest are counted. */
const MAX_STATUS_PROBLEMS = 20;

/**
 * Reads a host's dpkg status file named by an inventory: inside the inventory's folder unless
 * allowed, a regular text file of bounded size that reads as a status file. Nothing of a file
 * that is not a status file is ever quoted (it may be a key or a password file).
 */
function readStatusFile(dir: string, named: string, pos: SourcePosition, options: InventoryLoadOptions):
  { ok: true; file: string; packages: InstalledPackage[] } | { ok: false; problems: InventoryProblem[] } {
  const fail = (message: string, hint?: string): { ok: false; problems: InventoryProblem[] } => ({ ok: false, problems: [{ position: pos, message, ...(hint ? { hint } : {}) }] });
  const place = placeInFolder(dir, named);
  const shown = excerpt(place.path, 200);
  if (place.kind === 'outside' && !options.allowOutsidePaths) {
    return fail(`status file '${excerpt(named)}' is outside the inventory's folder`, `keep status files beside the inventory (a relative path inside ${dir}), or pass --allow-outside-paths to accept paths elsewhere`);
  }
  let size: number;
  let stamp: string;
  try {
    const st = statSync(place.path);
    if (!st.isFile()) return fail(`status file is not a regular file: ${shown}`, 'give the path of a dpkg status file (as /var/lib/dpkg/status)');
    size = st.size;
    stamp = fileStamp(st);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? `status file not found: ${shown}` : `cannot read status file ${shown}: ${code ?? 'unreadable'}`, 'paths are relative to the inventory file');
  }
  // hosts sharing a status file (an inventory's hosts in one state), and a second reading of
  // the same inventory, parse it once: the same file unchanged (device, inode, size, times)
  const seen = statusMemo.get(place.path);
  if (seen?.stamp === stamp) return { ok: true, file: place.path, packages: seen.packages.slice() };
  if (size > MAX_STATUS_BYTES) return fail(`status file ${shown} is ${Math.round(size / 1048576)} MiB, more than any dpkg status file (limit ${MAX_STATUS_BYTES / 1048576} MiB)`, 'give the path of a dpkg status file');
  let text: string;
  try {
    text = readFileSync(place.path, 'utf8');
  } catch (e) {
    return fail(`cannot read status file ${shown}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`, 'check its permissions');
  }
  if (!looksLikeText(text) || !looksLikeStatus(text)) {
    return fail(`${shown} is not a dpkg status file (its content is not shown)`, "a dpkg status file is stanzas of 'Field: value' lines starting with 'Package:', as /var/lib/dpkg/status");
  }
  const r = parseStatusInstalled(text);
  const problems = r.problems.slice(0, MAX_STATUS_PROBLEMS).map((p): InventoryProblem => ({ position: { file: place.path, line: p.line, column: p.column }, message: p.message }));
  if (r.problems.length > MAX_STATUS_PROBLEMS) problems.push({ position: problems[problems.length - 1]!.position, message: `and ${r.problems.length - MAX_STATUS_PROBLEMS} more problems in this status file` });
  if (problems.length > 0) return { ok: false, problems };
  statusMemo.set(place.path, { stamp, packages: r.packages });
  return { ok: true, file: place.path, packages: r.packages.slice() };
}

/** Status files parsed in this process, by path, with the stat stamp they were read under. */
const statusMemo = new Map<string, { stamp: string; packages: readonly InstalledPackage[] }>();

function sortProblems(p: InventoryProblem[]): InventoryProblem[] {
  return p.sort((a, b) => (a.position.file === b.position.file ? a.position.line - b.position.line || a.position.column - b.position.column : a.position.file < b.position.file ? -1 : 1));
}

/** A file name as it can be pasted into a shell (quoted when it needs to be), control characters escaped. */
function shellWord(file: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(file) ? file : `'${escapeControls(file).replace(/'/g, "'\\''")}'`;
}

/**
 * One RollwiseError carrying every problem. One problem: its message, position and hint. Several:
 * one line each, in reading order, a problem's own hint on its line (a hint shared by several
 * problems on the first of them), then a count; the error's hint is about the whole report, so it
 * is never one problem's hint printed after the last problem. `inventory` is the inventory file,
 * named in that hint (FILE when not given: the first problem may be in a status file).
 */
export function inventoryError(problems: InventoryProblem[], inventory?: string): RollwiseError {
  const first = problems[0]!;
  if (problems.length === 1) return new RollwiseError('RW_INVENTORY', first.message, { position: first.position, hint: first.hint ?? 'fix the inventory and run again' });
  const hinted = new Set<string>();
  const line = (p: InventoryProblem): string => {
    if (!p.hint || hinted.has(p.hint)) return p.message;
    hinted.add(p.hint);
    return `${p.message} (hint: ${p.hint})`;
  };
  const n = problems.length;
  const message = [line(first), ...problems.slice(1).map((p) => `  ${formatPosition(p.position)}: ${line(p)}`), `  ${n} problems in all`].join('\n');
  const file = inventory === undefined ? 'FILE' : shellWord(inventory);
  return new RollwiseError('RW_INVENTORY', message, {
    position: first.position,
    hint: `fix these ${n} problems and run again; \`rollwise fleet show --inventory ${file}\` lists them`,
  });
}
