/**
 * Snapshots: what a rollback must restore and what a rehearsal compares. The exact installed
 * set, the content hashes and modes (and content, for restoring) of the configuration files the
 * knowledge base names and of dpkg's conffiles (with the side files dpkg and ucf leave beside
 * each: SIDE_FILE_SUFFIXES), the schema version of each named database, and
 * the state of each named service; and, for directory trees named in the spec (e.g. /etc), every
 * entry under them (type, mode, content hash and content of files, link targets), so that files
 * maintainer scripts regenerate (/etc/ssl/certs, /etc/alternatives) are compared too. Host
 * drivers (src/hosts) take them; here they are compared (a list of differences, each naming its
 * kind) and a restore is planned (the steps that bring a host back), both pure.
 */
import { compareDebian } from '../versions/index.js';
import type { PackageChange } from '../solver/index.js';
import type { DatabaseRef, FileState, PresentSide, Step } from './steps.js';

/** A service's state as a host's supervisor reports it. */
export type ServiceState =
  /** Supervised and running. */
  | 'running'
  /** Known to the supervisor and not running (stopped, or failed). */
  | 'stopped'
  | 'failed'
  /** No such service on the host. */
  | 'absent'
  /** The service directory exists but no supervisor watches it. */
  | 'unsupervised'
  /** The state could not be read. */
  | 'unknown';

export interface SnapshotPackage {
  name: string;
  version: string;
  architecture: string;
  /** dpkg's abbreviated status (`ii`, `iU`, `rc`, `iF`, ...). */
  status: string;
  /** dpkg's status word (`installed`, `unpacked`, `half-configured`, `config-files`, ...). */
  state: string;
}

/**
 * The copies dpkg and ucf leave beside a configuration file (`/etc/x.conf.dpkg-dist` for the
 * package's version kept aside when the file on disk is kept, `.dpkg-old` for the former file,
 * ...). A snapshot records which of them exist beside each file it records; a restore puts those
 * back and removes the others, so a rollback's own dpkg runs leave none behind.
 */
export const SIDE_FILE_SUFFIXES = ['.dpkg-dist', '.dpkg-old', '.dpkg-new', '.dpkg-tmp', '.dpkg-bak', '.dpkg-backup', '.dpkg-remove', '.ucf-dist', '.ucf-old', '.ucf-new'] as const;
export type SideFileSuffix = (typeof SIDE_FILE_SUFFIXES)[number];

/** The suffix when `path` itself is a side file (`/etc/x.conf.dpkg-old` → `.dpkg-old`). */
export function sideFileSuffix(path: string): SideFileSuffix | undefined {
  return SIDE_FILE_SUFFIXES.find((s) => path.endsWith(s) && path.length > s.length && !path.endsWith(`/${s}`));
}

export interface SnapshotFile {
  path: string;
  /**
   * Named by the knowledge base (`config`), a dpkg conffile of `owner`, or a side file (`side`)
   * found beside the recorded file `sideOf`. Side files are recorded only when present: a
   * recorded file without a side entry of some suffix had none.
   */
  source: 'config' | 'conffile' | 'side';
  owner?: string;
  /** For a side file: the recorded file it sits beside. */
  sideOf?: string;
  state: FileState;
}

/**
 * The side files `snapshot` recorded beside `path`, present ones (every other suffix was absent);
 * a side file the spec named itself counts too.
 */
export function sideFilesOf(snapshot: Pick<Snapshot, 'files'>, path: string): PresentSide[] {
  const out: PresentSide[] = [];
  for (const suffix of SIDE_FILE_SUFFIXES) {
    const f = snapshot.files.find((x) => x.path === path + suffix);
    if (f?.state.kind === 'present') out.push({ suffix, state: f.state });
  }
  return out;
}

/** A restore-config step for `path` as `snapshot` recorded it, side files included (absent when it holds none). */
export function restoreFileStep(snapshot: Pick<Snapshot, 'files'>, path: string): Extract<Step, { kind: 'restore-config' }> {
  const f = snapshot.files.find((x) => x.path === path && x.source !== 'side');
  return { kind: 'restore-config', path, state: f?.state ?? ABSENT, sides: sideFilesOf(snapshot, path) };
}

export interface SnapshotDatabase {
  name: string;
  state: 'ok' | 'no-table' | 'unreachable';
  /** The highest applied migration version (by string order), null when none. */
  schemaVersion: string | null;
  applied: string[];
  error?: string;
}

export interface SnapshotService {
  name: string;
  state: ServiceState;
}

/** One entry under a snapshot tree (paths are host paths; links are recorded, not followed). */
export type TreeEntry =
  | { path: string; type: 'file'; mode: number; sha256: string; contentBase64: string }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'directory'; mode: number }
  /** A fifo, socket or device node: its type and mode only. */
  | { path: string; type: 'other'; mode: number; what: string };

/** Every entry under a directory (sorted by path); `absent` when the directory is not there. */
export interface SnapshotTree {
  path: string;
  state: 'present' | 'absent';
  entries: TreeEntry[];
}

export interface Snapshot {
  host: string;
  takenAt: string;
  packages: SnapshotPackage[];
  files: SnapshotFile[];
  databases: SnapshotDatabase[];
  services: SnapshotService[];
  /** The trees the spec named (absent when it named none). */
  trees?: SnapshotTree[];
}

/** What to include besides the installed set. */
export interface SnapshotSpec {
  /** Configuration files the knowledge base names (host paths). */
  configFiles?: string[];
  /** Include dpkg's conffiles of installed packages (default true). */
  conffiles?: boolean;
  databases?: DatabaseRef[];
  services?: string[];
  /** Directories recorded whole: every entry under each (host paths, e.g. `/etc`). */
  trees?: string[];
}

export type SnapshotDifference =
  | { kind: 'package-added'; name: string; architecture: string; version: string; status: string }
  | { kind: 'package-removed'; name: string; architecture: string; version: string; status: string }
  | { kind: 'package-version-changed'; name: string; architecture: string; before: string; after: string }
  | { kind: 'package-status-changed'; name: string; architecture: string; before: string; after: string }
  | { kind: 'config-changed'; path: string; before: string; after: string }
  | { kind: 'config-mode-changed'; path: string; before: number; after: number }
  | { kind: 'config-missing'; path: string }
  | { kind: 'config-appeared'; path: string }
  | { kind: 'schema-version-changed'; database: string; before: string | null; after: string | null }
  /** Under a snapshot tree (a path the files above do not already compare): an entry that was not there before. */
  | { kind: 'tree-entry-appeared'; tree: string; path: string; type: TreeEntry['type'] }
  | { kind: 'tree-entry-missing'; tree: string; path: string; type: TreeEntry['type'] }
  /** `what` changed: the file's content (sha256), its mode (octal), its type, or a link's target. */
  | { kind: 'tree-entry-changed'; tree: string; path: string; what: 'content' | 'mode' | 'type' | 'target'; before: string; after: string }
  | { kind: 'service-state-changed'; service: string; before: ServiceState; after: ServiceState };

const key = (p: { name: string; architecture: string }): string => `${p.name}:${p.architecture}`;
const ABSENT: FileState = { kind: 'absent' };

/** The differences from `before` to `after`, in a stable order (packages, files, databases, services). */
export function compareSnapshots(before: Snapshot, after: Snapshot): SnapshotDifference[] {
  const out: SnapshotDifference[] = [];
  const b = new Map(before.packages.map((p) => [key(p), p]));
  const a = new Map(after.packages.map((p) => [key(p), p]));
  for (const k of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const x = b.get(k);
    const y = a.get(k);
    if (x && !y) out.push({ kind: 'package-removed', name: x.name, architecture: x.architecture, version: x.version, status: x.status });
    else if (!x && y) out.push({ kind: 'package-added', name: y.name, architecture: y.architecture, version: y.version, status: y.status });
    else if (x && y) {
      if (x.version !== y.version) out.push({ kind: 'package-version-changed', name: x.name, architecture: x.architecture, before: x.version, after: y.version });
      if (x.status !== y.status) out.push({ kind: 'package-status-changed', name: x.name, architecture: x.architecture, before: x.status, after: y.status });
    }
  }
  const bf = new Map(before.files.map((f) => [f.path, f.state]));
  const af = new Map(after.files.map((f) => [f.path, f.state]));
  for (const path of [...new Set([...bf.keys(), ...af.keys()])].sort()) {
    const x = bf.get(path) ?? ABSENT;
    const y = af.get(path) ?? ABSENT;
    if (x.kind === 'present' && y.kind === 'absent') out.push({ kind: 'config-missing', path });
    else if (x.kind === 'absent' && y.kind === 'present') out.push({ kind: 'config-appeared', path });
    else if (x.kind === 'present' && y.kind === 'present') {
      if (x.sha256 !== y.sha256) out.push({ kind: 'config-changed', path, before: x.sha256, after: y.sha256 });
      if (x.mode !== y.mode) out.push({ kind: 'config-mode-changed', path, before: x.mode, after: y.mode });
    }
  }
  out.push(...compareTrees(before, after));
  const bd = new Map(before.databases.map((d) => [d.name, d]));
  const ad = new Map(after.databases.map((d) => [d.name, d]));
  for (const name of [...new Set([...bd.keys(), ...ad.keys()])].sort()) {
    const x = bd.get(name)?.schemaVersion ?? null;
    const y = ad.get(name)?.schemaVersion ?? null;
    if (x !== y) out.push({ kind: 'schema-version-changed', database: name, before: x, after: y });
  }
  const bs = new Map(before.services.map((s) => [s.name, s.state]));
  const as = new Map(after.services.map((s) => [s.name, s.state]));
  for (const name of [...new Set([...bs.keys(), ...as.keys()])].sort()) {
    const x = bs.get(name) ?? 'absent';
    const y = as.get(name) ?? 'absent';
    if (x !== y) out.push({ kind: 'service-state-changed', service: name, before: x, after: y });
  }
  return out;
}

const describeEntry = (e: TreeEntry): string => (e.type === 'symlink' ? `-> ${e.target}` : e.type === 'file' ? e.sha256 : e.type);

/** Differences under the trees both snapshots recorded, leaving out paths `files` compares already. */
export type TreeDifference = Extract<SnapshotDifference, { kind: 'tree-entry-appeared' | 'tree-entry-missing' | 'tree-entry-changed' }>;

export function compareTrees(before: Snapshot, after: Snapshot): TreeDifference[] {
  const out: TreeDifference[] = [];
  const compared = new Set([...before.files, ...after.files].map((f) => f.path));
  const at = new Map((after.trees ?? []).map((t) => [t.path, t]));
  for (const tb of before.trees ?? []) {
    const ta = at.get(tb.path);
    if (!ta) continue;
    const b = new Map(tb.entries.map((e) => [e.path, e]));
    const a = new Map(ta.entries.map((e) => [e.path, e]));
    for (const p of [...new Set([...b.keys(), ...a.keys()])].sort()) {
      if (compared.has(p)) continue;
      const x = b.get(p);
      const y = a.get(p);
      if (x && !y) out.push({ kind: 'tree-entry-missing', tree: tb.path, path: p, type: x.type });
      else if (!x && y) out.push({ kind: 'tree-entry-appeared', tree: tb.path, path: p, type: y.type });
      else if (x && y) {
        if (x.type !== y.type) out.push({ kind: 'tree-entry-changed', tree: tb.path, path: p, what: 'type', before: x.type, after: y.type });
        else if (x.type === 'symlink' && y.type === 'symlink') {
          if (x.target !== y.target) out.push({ kind: 'tree-entry-changed', tree: tb.path, path: p, what: 'target', before: x.target, after: y.target });
        } else {
          if (x.type === 'file' && y.type === 'file' && x.sha256 !== y.sha256) out.push({ kind: 'tree-entry-changed', tree: tb.path, path: p, what: 'content', before: describeEntry(x), after: describeEntry(y) });
          const mx = 'mode' in x ? x.mode : 0;
          const my = 'mode' in y ? y.mode : 0;
          if (mx !== my) out.push({ kind: 'tree-entry-changed', tree: tb.path, path: p, what: 'mode', before: mx.toString(8), after: my.toString(8) });
        }
      }
    }
  }
  return out;
}

export interface TreeRestore {
  /** restore-config steps: files back to their recorded content and mode, entries that appeared removed. */
  steps: Step[];
  /** Tree differences these steps cannot undo (a link or directory to recreate, a directory that appeared, a changed type). */
  unresolved: SnapshotDifference[];
}

/**
 * Steps that put every entry under the trees `target` recorded back as it was there, from
 * `current` (taken after a rollback's own steps): what maintainer scripts regenerated or left
 * (/etc/ssl/certs, a version file, a cache) goes back to the pre-deployment state. Paths the
 * snapshots compare as files are left to the file steps.
 */
export function planTreeRestore(current: Snapshot, target: Snapshot): TreeRestore {
  const steps: Step[] = [];
  const unresolved: SnapshotDifference[] = [];
  const recorded = new Map((target.trees ?? []).flatMap((t) => t.entries.map((e) => [e.path, e] as const)));
  const present = new Map((current.trees ?? []).flatMap((t) => t.entries.map((e) => [e.path, e] as const)));
  for (const d of compareTrees(target, current)) {
    const was = recorded.get(d.path);
    const now = present.get(d.path);
    if (d.kind === 'tree-entry-appeared' && now && now.type !== 'directory') steps.push({ kind: 'restore-config', path: d.path, state: ABSENT });
    else if (was?.type === 'file' && (now === undefined || now.type === 'file')) {
      if (!steps.some((s) => s.kind === 'restore-config' && s.path === d.path)) {
        steps.push({ kind: 'restore-config', path: d.path, state: { kind: 'present', sha256: was.sha256, mode: was.mode, contentBase64: was.contentBase64 } });
      }
    } else unresolved.push(d);
  }
  return { steps, unresolved };
}

/** Snapshot without the moment it was taken: two of these are equal iff nothing differs. */
export function snapshotContent(s: Snapshot): Omit<Snapshot, 'takenAt'> {
  const { takenAt: _t, ...rest } = s;
  return rest;
}

export interface RestorePlan {
  steps: Step[];
  /** Differences no step here can undo (e.g. a schema version: needs the plan's down migrations). */
  unresolved: SnapshotDifference[];
}

/**
 * Steps that bring a host from `current` back to `target`: one packages step (exact versions;
 * packages the target did not have are purged, those it had as config-files are removed), then
 * config files, then services. `debPathFor` may name a cached .deb for a version (so a
 * downgrade does not depend on the repository).
 */
export function planRestore(
  current: Snapshot,
  target: Snapshot,
  debPathFor?: (name: string, version: string, architecture: string) => string | undefined,
): RestorePlan {
  const steps: Step[] = [];
  const unresolved: SnapshotDifference[] = [];
  const cur = new Map(current.packages.map((p) => [key(p), p]));
  const tgt = new Map(target.packages.map((p) => [key(p), p]));
  const changes: PackageChange[] = [];
  const installedLike = (p: { status: string } | undefined): boolean => !!p && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n';
  for (const t of target.packages) {
    const c = cur.get(key(t));
    if (!installedLike(t)) continue;
    if (installedLike(c) && c!.version === t.version && c!.status === t.status) continue;
    const action = !installedLike(c) ? 'install' : compareDebian(t.version, c!.version) < 0 ? 'downgrade' : 'upgrade';
    const debPath = debPathFor?.(t.name, t.version, t.architecture);
    changes.push({ name: t.name, action, to: t.version, ...(debPath ? { debPath } : {}) });
  }
  for (const c of current.packages) {
    const t = tgt.get(key(c));
    if (installedLike(t)) continue;
    if (!t) changes.push({ name: c.name, action: 'purge' });
    else if (installedLike(c)) changes.push({ name: c.name, action: 'remove' });
  }
  if (changes.length > 0) steps.push({ kind: 'packages', changes });
  const curFiles = new Map(current.files.map((f) => [f.path, f.state]));
  const sameState = (a: FileState, b: FileState): boolean => a.kind === b.kind && (a.kind === 'absent' || (b.kind === 'present' && a.sha256 === b.sha256 && a.mode === b.mode));
  const sidesSame = (path: string): boolean => {
    const want = sideFilesOf(target, path);
    const have = sideFilesOf(current, path);
    return want.length === have.length && want.every((w) => have.some((h) => h.suffix === w.suffix && sameState(h.state, w.state)));
  };
  const targetPaths = new Set(target.files.map((f) => f.path));
  for (const f of target.files) {
    if (f.source === 'side') continue;
    const c = curFiles.get(f.path) ?? ABSENT;
    // After the packages step, conffiles of packages being (re)installed may change again (and
    // dpkg may leave side files beside them); restoring every file after it gives the target's
    // content in the end.
    if (!sameState(c, f.state) || !sidesSame(f.path) || changes.length > 0) steps.push(restoreFileStep(target, f.path));
  }
  // files the target did not have (a newer version's conffile) go, with their side files
  for (const f of current.files) {
    if (f.source === 'side' || targetPaths.has(f.path)) continue;
    steps.push({ kind: 'restore-config', path: f.path, state: ABSENT, sides: [] });
  }
  for (const d of compareSnapshots(current, target)) {
    if (d.kind === 'schema-version-changed') unresolved.push(d);
  }
  const curSvc = new Map(current.services.map((s) => [s.name, s.state]));
  for (const s of target.services) {
    const c = curSvc.get(s.name) ?? 'absent';
    if (s.state === 'running' && c !== 'running') steps.push({ kind: 'service', action: 'start', service: s.name });
    else if (s.state === 'stopped' && c === 'running') steps.push({ kind: 'service', action: 'stop', service: s.name });
  }
  return { steps, unresolved };
}
