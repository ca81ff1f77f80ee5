/**
 * Snapshots: what a rollback must restore and what a rehearsal compares. The exact installed
 * set, the content hashes and modes (and content, for restoring) of the configuration files the
 * knowledge base names and of dpkg's conffiles, the schema version of each named database, and
 * the state of each named service. Host drivers (src/hosts) take them; here they are compared
 * (a list of differences, each naming its kind) and a restore is planned (the steps that bring a
 * host back), both pure.
 */
import { compareDebian } from '../versions/index.js';
import type { PackageChange } from '../solver/index.js';
import type { DatabaseRef, FileState, Step } from './steps.js';

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

export interface SnapshotFile {
  path: string;
  /** Named by the knowledge base (`config`) or a dpkg conffile of `owner`. */
  source: 'config' | 'conffile';
  owner?: string;
  state: FileState;
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

export interface Snapshot {
  host: string;
  takenAt: string;
  packages: SnapshotPackage[];
  files: SnapshotFile[];
  databases: SnapshotDatabase[];
  services: SnapshotService[];
}

/** What to include besides the installed set. */
export interface SnapshotSpec {
  /** Configuration files the knowledge base names (host paths). */
  configFiles?: string[];
  /** Include dpkg's conffiles of installed packages (default true). */
  conffiles?: boolean;
  databases?: DatabaseRef[];
  services?: string[];
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
  for (const f of target.files) {
    const c = curFiles.get(f.path) ?? ABSENT;
    const same = c.kind === f.state.kind && (c.kind === 'absent' || (f.state.kind === 'present' && c.sha256 === f.state.sha256 && c.mode === f.state.mode));
    // After the packages step, conffiles of packages being (re)installed may change again;
    // restoring every differing file after it gives the target's content in the end.
    if (!same || changes.length > 0) steps.push({ kind: 'restore-config', path: f.path, state: f.state });
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
