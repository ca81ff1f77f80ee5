/**
 * A local cache of .deb files, kept by name + version + architecture + sha256, so that a
 * rollback (a downgrade) never depends on the repository still holding the previous version.
 * Files come from a repository (its Packages index gives Filename and SHA256; the copy is
 * verified), from a path, or from a Debian root's own apt archive cache (/var/cache/apt/archives,
 * each file checked against the SHA256 the root's apt lists give; for a chroot root a missing one
 * is fetched first with `apt-get download` run inside it). No dpkg-repack: the cache keeps the
 * repository's own file.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { RollwiseError } from '../shared/index.js';
import { isValidDebianVersion } from '../versions/index.js';
import type { PackageChange } from '../solver/index.js';
import type { SnapshotPackage } from '../planner/index.js';
import { assertArchitecture, assertPackageName, assertPackageVersion, dpkgPackageOf, isValidArchitecture, isValidPackageName } from './validate.js';
import { resolveInRoot } from './confine.js';
import { createLocalRunner, type CommandRunner } from './runner.js';

export interface CachedDeb {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  path: string;
}

/** Where the cache copies former versions from: a flat repository, or a Debian root's own apt cache. */
export type FormerDebSource = DebSource | RootArchivesDebSource;

/** A repository the cache can copy from: a flat repository's base (directory or URL). */
export interface DebSource {
  kind?: 'repository';
  /** `file:/srv/repo`, `/srv/repo`, or `http(s)://host/path` of the directory holding Packages. */
  baseUrl: string;
  /** Index path relative to baseUrl (default `Packages`, `Packages.gz` tried next). */
  packagesPath?: string;
}

/**
 * A Debian root on this machine: the .debs its apt downloaded (/var/cache/apt/archives), each
 * kept only when its sha256 is the one the root's apt lists (/var/lib/apt/lists/*_Packages) give
 * for that name, version and architecture. With `download` (a chroot root: a complete system
 * whose sources this machine reaches), a .deb not there is fetched into it first by
 * `apt-get download` run inside the root (chroot).
 */
export interface RootArchivesDebSource {
  kind: 'root-archives';
  root: string;
  download?: boolean;
  /** Runs chroot for `download` (default: this machine). */
  runner?: CommandRunner;
}

/** Where a source's files come from, for reports. */
export function describeDebSource(source: FormerDebSource): string {
  return source.kind === 'root-archives' ? `${source.root.replace(/\/+$/, '')}/var/cache/apt/archives${source.download ? ' (apt-get download inside the root for the others)' : ''}` : source.baseUrl;
}

export type KeepOutcome = { kind: 'kept'; deb: CachedDeb; alreadyCached: boolean } | { kind: 'not-found'; reason: string } | { kind: 'failed'; reason: string };

export interface DebCache {
  readonly dir: string;
  find(name: string, version: string, architecture?: string): Promise<CachedDeb | undefined>;
  keepFile(file: string, id: { name: string; version: string; architecture: string }, expectedSha256?: string): Promise<KeepOutcome>;
  keepFromRepository(source: DebSource, name: string, version: string, architecture?: string): Promise<KeepOutcome>;
  list(): Promise<CachedDeb[]>;
}

const enc = (v: string): string => v.replace(/:/g, '%3a');
const dec = (v: string): string => v.replace(/%3a/g, ':');

function fileNameOf(d: { version: string; architecture: string; sha256: string }): string {
  return `${enc(d.version)}_${d.architecture}_${d.sha256}.deb`;
}

async function fetchBytes(base: string, rel: string): Promise<Buffer | undefined> {
  if (/^https?:\/\//.test(base)) {
    const url = new URL(rel, base.endsWith('/') ? base : `${base}/`);
    const r = await fetch(url);
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return Buffer.from(await r.arrayBuffer());
  }
  const dir = base.startsWith('file:') ? (base.startsWith('file://') ? fileURLToPath(base) : base.slice(5)) : base;
  const target = path.resolve(dir, rel);
  if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`${rel} leaves the repository`);
  try {
    return await readFile(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * An index is data from elsewhere: every field that becomes part of a file name or a path is
 * checked by its grammar first, and a bad one is refused naming the field.
 */
export function checkIndexEntry(entry: Record<string, string>, where: string): { name: string; version: string; architecture: string; filename: string; sha256: string } {
  const bad = (field: string, why: string, hint: string): RollwiseError =>
    new RollwiseError('RW_INDEX_PARSE', `${where}: ${field} ${JSON.stringify(entry[field] ?? '')} ${why}`, { hint });
  const name = entry['Package'] ?? '';
  if (!isValidPackageName(name)) throw bad('Package', 'is not a valid Debian package name', 'lower-case letters, digits and + - . (at least two characters)');
  const version = entry['Version'] ?? '';
  if (!isValidDebianVersion(version)) throw bad('Version', `of ${name} is not a valid Debian version`, 'expected [epoch:]upstream[-revision] using letters, digits and . + ~ - :');
  const architecture = entry['Architecture'] ?? '';
  if (!isValidArchitecture(architecture)) throw bad('Architecture', `of ${name} ${version} is not a valid architecture name`, 'for example amd64, arm64 or all');
  const filename = entry['Filename'] ?? '';
  const segments = filename.split('/');
  // eslint-disable-next-line no-control-regex
  if (filename === '' || filename.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(filename) || /[\u0000-\u001f\u007f\\]/.test(filename) || segments.includes('..') || !filename.endsWith('.deb')) {
    throw bad('Filename', `of ${name} ${version} is not a relative path to a .deb inside the repository`, 'for example pool/main/h/hello/hello_2.10-3_amd64.deb');
  }
  const sha256 = entry['SHA256'] ?? '';
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw bad('SHA256', `of ${name} ${version} is not a sha256 digest`, '64 lower-case hexadecimal digits');
  return { name, version, architecture, filename, sha256 };
}

/** Stanzas of a Packages index: Package, Version, Architecture, Filename, SHA256. */
export function parsePackagesIndex(text: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const block of text.split(/\n\s*\n/)) {
    const rec: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) rec[m[1]!] = m[2]!.trim();
    }
    if (rec['Package']) out.push(rec);
  }
  return out;
}

export function createDebCache(dir: string): DebCache {
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  async function list(): Promise<CachedDeb[]> {
    const out: CachedDeb[] = [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return out;
    }
    for (const name of names.sort()) {
      if (!isValidPackageName(name)) continue;
      for (const f of (await readdir(path.join(dir, name))).sort()) {
        const m = /^(.+)_([a-z0-9-]+)_([0-9a-f]{64})\.deb$/.exec(f);
        if (m) out.push({ name, version: dec(m[1]!), architecture: m[2]!, sha256: m[3]!, path: path.join(dir, name, f) });
      }
    }
    return out;
  }
  async function store(bytes: Buffer, id: { name: string; version: string; architecture: string }): Promise<KeepOutcome> {
    // these become a folder and a file name: never a path that leaves the cache
    assertPackageName(id.name);
    assertPackageVersion(id.version);
    assertArchitecture(id.architecture);
    const digest = sha(bytes);
    const existing = (await list()).find((d) => d.name === id.name && d.version === id.version && d.architecture === id.architecture && d.sha256 === digest);
    if (existing) return { kind: 'kept', deb: existing, alreadyCached: true };
    await mkdir(path.join(dir, id.name), { recursive: true });
    const p = path.join(dir, id.name, fileNameOf({ ...id, sha256: digest }));
    await writeFile(`${p}.tmp`, bytes);
    await rename(`${p}.tmp`, p);
    return { kind: 'kept', deb: { ...id, sha256: digest, path: p }, alreadyCached: false };
  }
  return {
    dir,
    list,
    async find(name, version, architecture) {
      return (await list()).find((d) => d.name === name && d.version === version && (architecture === undefined || d.architecture === architecture || d.architecture === 'all'));
    },
    async keepFile(file, id, expectedSha256) {
      try {
        assertPackageName(id.name);
        assertPackageVersion(id.version);
        assertArchitecture(id.architecture);
        const bytes = await readFile(file);
        if (expectedSha256 !== undefined && sha(bytes) !== expectedSha256) return { kind: 'failed', reason: `${file}: sha256 does not match` };
        return await store(bytes, id);
      } catch (e) {
        return { kind: 'failed', reason: e instanceof RollwiseError ? e.render() : (e as Error).message };
      }
    },
    async keepFromRepository(source, name, version, architecture) {
      try {
        assertPackageName(name);
        assertPackageVersion(version);
        if (architecture !== undefined) assertArchitecture(architecture);
        let index = await fetchBytes(source.baseUrl, source.packagesPath ?? 'Packages');
        if (!index && source.packagesPath === undefined) {
          const gz = await fetchBytes(source.baseUrl, 'Packages.gz');
          if (gz) index = gunzipSync(gz);
        }
        if (!index) return { kind: 'failed', reason: `${source.baseUrl}: no Packages index` };
        const stanza = parsePackagesIndex(index.toString('utf8')).find(
          (r) => r['Package'] === name && r['Version'] === version && (architecture === undefined || r['Architecture'] === architecture || r['Architecture'] === 'all'),
        );
        if (!stanza) return { kind: 'not-found', reason: `${name} ${version} is not in ${source.baseUrl}` };
        if (!stanza['Filename'] || !stanza['SHA256']) return { kind: 'failed', reason: `${name} ${version}: index entry lacks Filename or SHA256` };
        const entry = checkIndexEntry({ Architecture: architecture ?? 'all', ...stanza }, `${source.baseUrl} (${source.packagesPath ?? 'Packages'})`);
        const bytes = await fetchBytes(source.baseUrl, entry.filename);
        if (!bytes) return { kind: 'not-found', reason: `${entry.filename} is listed but missing from ${source.baseUrl}` };
        if (sha(bytes) !== entry.sha256) return { kind: 'failed', reason: `${entry.filename}: sha256 does not match the index` };
        return await store(bytes, { name: entry.name, version: entry.version, architecture: entry.architecture });
      } catch (e) {
        return { kind: 'failed', reason: e instanceof RollwiseError ? e.render() : (e as Error).message };
      }
    },
  };
}

/**
 * Keep the currently installed .deb of every package a step will change (upgrade, downgrade,
 * remove, purge), so that undoing it never depends on the repository.
 */
export async function cachePreviousVersions(
  cache: DebCache,
  source: FormerDebSource,
  installed: readonly SnapshotPackage[],
  changes: readonly PackageChange[],
): Promise<Array<{ name: string; version: string; outcome: KeepOutcome }>> {
  const wanted: SnapshotPackage[] = [];
  for (const c of changes) {
    if (c.action === 'install') continue;
    // dpkg's form of the change (`libc6:i386` is libc6, i386: multiarch), matched per architecture
    const want = dpkgPackageOf(c);
    const cur = installed.find((p) => p.name === want.name && (want.architecture === undefined || p.architecture === want.architecture || p.architecture === 'all' || want.architecture === 'all') && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n');
    if (cur && !wanted.includes(cur)) wanted.push(cur);
  }
  if (source.kind === 'root-archives') return keepFromRootArchives(cache, source, wanted);
  const out: Array<{ name: string; version: string; outcome: KeepOutcome }> = [];
  for (const cur of wanted) out.push({ name: cur.name, version: cur.version, outcome: await cache.keepFromRepository(source, cur.name, cur.version, cur.architecture) });
  return out;
}

const debKey = (name: string, version: string, architecture: string): string => `${name} ${version} ${architecture}`;

/** The SHA256 and Filename the root's apt lists give for these packages (name version architecture). */
async function rootIndexEntries(root: string, wanted: ReadonlySet<string>, names: ReadonlySet<string>): Promise<Map<string, { sha256: string; filename: string }>> {
  const out = new Map<string, { sha256: string; filename: string }>();
  const lists = await resolveInRoot(root, '/var/lib/apt/lists', { followLast: true });
  if (!lists) return out;
  let files: string[];
  try {
    files = (await readdir(lists)).filter((f) => /_Packages(\.gz)?$/.test(f)).sort();
  } catch {
    return out;
  }
  for (const f of files) {
    const file = await resolveInRoot(root, `/var/lib/apt/lists/${f}`, { followLast: true });
    if (!file) continue;
    let text: string;
    try {
      const bytes = await readFile(file);
      text = (f.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch {
      continue;
    }
    // a stanza is parsed only when its Package line names a wanted package
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf('\n\n', at);
      const stop = end < 0 ? text.length : end;
      const nl = text.indexOf('\n', at);
      const first = text.slice(at, nl < 0 || nl > stop ? stop : nl);
      if (first.startsWith('Package: ') && names.has(first.slice('Package: '.length).trim())) {
        const rec = parsePackagesIndex(text.slice(at, stop))[0];
        if (rec) {
          const key = debKey(rec['Package'] ?? '', rec['Version'] ?? '', rec['Architecture'] ?? '');
          if (wanted.has(key) && !out.has(key)) {
            try {
              const e = checkIndexEntry(rec, file);
              out.set(key, { sha256: e.sha256, filename: e.filename });
            } catch {
              // an entry that is not well formed is no proof of a file
            }
          }
        }
      }
      at = stop + 2;
    }
  }
  return out;
}

async function keepFromRootArchives(cache: DebCache, source: RootArchivesDebSource, wanted: readonly SnapshotPackage[]): Promise<Array<{ name: string; version: string; outcome: KeepOutcome }>> {
  const root = source.root.replace(/\/+$/, '');
  const out: Array<{ name: string; version: string; outcome: KeepOutcome }> = [];
  const keys = new Set(wanted.map((p) => debKey(p.name, p.version, p.architecture)));
  let index: Map<string, { sha256: string; filename: string }>;
  let archives: string | undefined;
  try {
    index = await rootIndexEntries(root, keys, new Set(wanted.map((p) => p.name)));
    archives = await resolveInRoot(root, '/var/cache/apt/archives', { followLast: true });
  } catch (e) {
    const reason = e instanceof RollwiseError ? e.render() : (e as Error).message;
    return wanted.map((p) => ({ name: p.name, version: p.version, outcome: { kind: 'failed', reason } }));
  }
  // apt's own file name: NAME_VERSION_ARCH.deb with the epoch's colon as %3a
  const fileOf = (p: SnapshotPackage): string | undefined => (archives ? path.join(archives, `${p.name}_${enc(p.version)}_${p.architecture}.deb`) : undefined);
  const present = async (p: SnapshotPackage): Promise<boolean> => {
    const f = fileOf(p);
    return f !== undefined && (await readFile(f).then(() => true, () => false));
  };
  const checked = wanted.filter((p) => isValidPackageName(p.name) && isValidDebianVersion(p.version) && isValidArchitecture(p.architecture));
  const missing: SnapshotPackage[] = [];
  for (const p of checked) if (index.has(debKey(p.name, p.version, p.architecture)) && !(await present(p))) missing.push(p);
  const fetched = new Map<string, string>();
  if (source.download && missing.length > 0 && archives) {
    const runner = source.runner ?? createLocalRunner();
    // one apt-get inside the root for all of them; the names and versions were checked by their grammar
    const r = await runner.run(
      ['chroot', root, 'sh', '-c', 'cd /var/cache/apt/archives && exec apt-get -q -o Dpkg::Use-Pty=false download "$@"', 'rollwise-download', ...missing.map((p) => `${p.name}:${p.architecture}=${p.version}`)],
      { timeoutMs: 10 * 60_000, env: { LC_ALL: 'C', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TMPDIR: '/tmp', APT_CONFIG: '' } },
    );
    const why = r.kind === 'exited' ? (r.exitCode === 0 ? '' : `apt-get download exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`) : r.reason;
    if (why) for (const p of missing) fetched.set(debKey(p.name, p.version, p.architecture), why);
  }
  for (const p of wanted) {
    const key = debKey(p.name, p.version, p.architecture);
    if (!checked.includes(p)) {
      out.push({ name: p.name, version: p.version, outcome: { kind: 'failed', reason: `${JSON.stringify(`${p.name} ${p.version} ${p.architecture}`)} is not a valid package name, version and architecture` } });
      continue;
    }
    const entry = index.get(key);
    if (!entry) {
      out.push({ name: p.name, version: p.version, outcome: { kind: 'not-found', reason: `${p.name} ${p.version} (${p.architecture}) is in none of the apt lists of ${root}: nothing to check a file against` } });
      continue;
    }
    if (!(await present(p))) {
      const failedDownload = fetched.get(key);
      out.push({ name: p.name, version: p.version, outcome: { kind: 'not-found', reason: `${p.name} ${p.version} is not in ${root}/var/cache/apt/archives${failedDownload ? ` (${failedDownload})` : source.download ? '' : ' (apt cleaned it, or never downloaded it)'}` } });
      continue;
    }
    out.push({ name: p.name, version: p.version, outcome: await cache.keepFile(fileOf(p)!, { name: p.name, version: p.version, architecture: p.architecture }, entry.sha256) });
  }
  return out;
}
