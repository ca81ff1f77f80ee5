/**
 * The host driver: one port, three ways to reach a host.
 * - directory root: the real dpkg and apt-get pointed at a directory (dpkg --root/--admindir
 *   with chrootless maintainer scripts, run only for trusted packages; apt with APT_CONFIG naming
 *   a per-host file, plus the guards `-o Dir=R/ -o DPkg::Options::=--root=R`), or, for real
 *   packages, apt and dpkg run inside the root with chroot in fresh namespaces. Never the
 *   machine's own database; every file path is resolved inside the root (confine.ts).
 * - local: this machine through apt/dpkg (and systemd).
 * - ssh: the same commands run remotely (see ssh.ts); over SSH a host may be a system or a
 *   directory root on the remote machine.
 * Every step is checked against the grammar first (a rejected step runs nothing), then run as
 * argument arrays through the driver's command runner, and reported as a StepOutcome value.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isRollwiseError, RollwiseError, type ErrorCode } from '../shared/index.js';
import { compareDebian } from '../versions/index.js';
import { osFactsFromRelease, parseMeminfoMiB, parseOsRelease, type HostFacts } from '../fleet/index.js';
import { confinedFileCommand, confinedSidesCommand, confinedSidesListCommand, confinedStatListCommand, CONFINED_REFUSED_EXIT, parseStatList } from './confine.js';
import { aptConfigPath } from './directory-root.js';
import { INSTALLED_SCRIPTS_RUN_ON_CHANGE, parseAptHookV3, parseDebInfo, type ChrootlessScripts, type DebControlSummary } from './maintainer-scripts.js';
import { createLocalRunner, type CommandRunner, type RunOptions, type RunResult } from './runner.js';
import type { PackageChange } from '../solver/index.js';
import {
  SIDE_FILE_SUFFIXES, sideFileSuffix,
  type DatabaseRef, type FileState, type PackageDelta, type ServiceState, type Snapshot, type SnapshotDatabase, type SnapshotFile, type SnapshotPackage, type SnapshotSpec, type Step,
  type StepFailure, type StepOutcome, type SnapshotTree, type TreeEntry,
} from '../planner/index.js';
import { createRunitServiceControl, createSystemdServiceControl, type ServiceControl } from './services.js';
import { assertHostPath, assertPackageVersion, assertServiceName, dpkgPackageOf, isValidHostPath } from './validate.js';

export type HostTarget = { kind: 'system' } | { kind: 'root'; root: string };

/** A read that can fail or be cut off, as data. */
export type HostRead<T> = { kind: 'ok'; value: T } | { kind: 'failed'; message: string } | { kind: 'unknown'; reason: string };

export interface HostDriver {
  readonly name: string;
  readonly target: HostTarget;
  readonly where: string;
  readFacts(): Promise<HostRead<HostFacts>>;
  readInstalled(): Promise<HostRead<SnapshotPackage[]>>;
  readServiceState(service: string): Promise<ServiceState>;
  takeSnapshot(spec?: SnapshotSpec): Promise<HostRead<Snapshot>>;
  /** Apply one step; never throws for anything the host or the input can cause. */
  apply(step: Step): Promise<StepOutcome>;
}

export interface HostDriverOptions {
  name: string;
  runner: CommandRunner;
  target: HostTarget;
  services: ServiceControl;
  /** Per-command timeout (default 15 minutes); a timed-out command makes the outcome `unknown`. */
  commandTimeoutMs?: number;
  /**
   * The host is another machine: a change's `debPath` names a file on this machine, which is
   * copied to `<root>/var/cache/rollwise/debs/` on the host (through the runner) before apt runs.
   */
  remote?: boolean;
  /**
   * Directory roots only: how dpkg runs maintainer scripts.
   * - `chrootless`: on the real filesystem of the machine dpkg runs on (`--force-script-chrootless`);
   *   every package whose scripts a transaction would run must be `trusted`, or the step is
   *   rejected before dpkg runs.
   * - `chroot`: apt, dpkg and the scripts run inside the root (`chroot`), in fresh mount, PID and
   *   network namespaces; the root must be a complete Debian system (apt, dpkg, a shell).
   * Absent: chrootless without a check (only for callers that vouch for every package themselves).
   */
  rootScripts?: RootScripts;
}

export type RootScripts = ({ kind: 'chrootless' } & ChrootlessScripts) | { kind: 'chroot' };

/** The environment apt and dpkg get inside a chroot root (nothing of this machine's paths). */
const CHROOT_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  TMPDIR: '/tmp',
  HOME: '/root',
  APT_CONFIG: '',
  DEBIAN_FRONTEND: 'noninteractive',
};

const OUTPUT_LIMIT = 16 * 1024;
/** The facts file of a directory root, inside it (see factsFilePath). */
const FACTS_HOST_PATH = '/etc/rollwise/facts.json';
/** apt preferences a chroot root's package step runs with (every package it does not name pinned), inside the root. */
const APT_PIN_HOST_PATH = '/var/cache/rollwise/apt-pins.pref';
const QUERY_FORMAT = '${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\t${db:Status-Status}\n';
const CONFFILES_FORMAT = '${Package}\t${db:Status-Abbrev}\n${Conffiles}\n';

function tail(text: string): string {
  return text.length > OUTPUT_LIMIT ? `...${text.slice(-OUTPUT_LIMIT)}` : text;
}

function combined(r: RunResult): string {
  if (r.kind === 'not-started') return r.reason;
  return tail([r.stdout.trim(), r.stderr.trim()].filter((s) => s.length > 0).join('\n'));
}

/** Check a step against the grammar; throws RollwiseError (RW_BAD_NAME / RW_BAD_VERSION / RW_HOST). */
export function validateStep(step: Step): void {
  switch (step.kind) {
    case 'refresh-index':
      return;
    case 'packages': {
      if (!Array.isArray(step.changes) || step.changes.length === 0) throw new RollwiseError('RW_HOST', 'a packages step needs at least one change', { hint: 'a packages step lists the changes it makes (install, upgrade, downgrade, remove, purge)' });
      for (const c of step.changes) {
        // `libc6:i386` (the resolver's name of a foreign-architecture package) or `libc6` + i386
        dpkgPackageOf(c);
        if (!['install', 'upgrade', 'downgrade', 'remove', 'purge'].includes(c.action)) throw new RollwiseError('RW_HOST', `unknown package action ${JSON.stringify(c.action)}`, { hint: 'actions are install, upgrade, downgrade, remove and purge' });
        if (c.from !== undefined) assertPackageVersion(c.from);
        if (c.action === 'install' || c.action === 'upgrade' || c.action === 'downgrade') {
          if (c.to === undefined) throw new RollwiseError('RW_BAD_VERSION', `${c.action} ${c.name} needs an exact version`, { hint: 'plans name the exact version each host gets; give `to`' });
          assertPackageVersion(c.to);
          if (c.debPath !== undefined) {
            assertHostPath(c.debPath);
            if (!c.debPath.endsWith('.deb')) throw new RollwiseError('RW_BAD_NAME', `${JSON.stringify(c.debPath)} is not a .deb file`, { hint: 'give the path of a Debian package file (.deb)' });
          }
        }
      }
      return;
    }
    case 'migrate':
      validateDatabase(step.database);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(step.migration.version)) throw new RollwiseError('RW_BAD_VERSION', `migration version ${JSON.stringify(step.migration.version)} must use letters, digits and . _ -`, { hint: 'e.g. 2024_01_add_orders or 0042' });
      if (step.migration.direction !== 'up' && step.migration.direction !== 'down') throw new RollwiseError('RW_HOST', 'migration direction is up or down', { hint: 'give direction \'up\' or \'down\'' });
      if (typeof step.migration.sql !== 'string') throw new RollwiseError('RW_HOST', 'migration sql must be text', { hint: 'give the migration script as text' });
      return;
    case 'write-config':
      assertHostPath(step.path);
      if (step.mode !== undefined && !(Number.isInteger(step.mode) && step.mode >= 0 && step.mode <= 0o7777)) throw new RollwiseError('RW_HOST', `bad file mode ${step.mode}`, { hint: 'a file mode is an octal permission between 0 and 0o7777, e.g. 0o644' });
      return;
    case 'restore-config': {
      assertHostPath(step.path);
      const badMode = (m: number): boolean => !(Number.isInteger(m) && m >= 0 && m <= 0o7777);
      if (step.state.kind === 'present' && badMode(step.state.mode)) throw new RollwiseError('RW_HOST', `bad file mode ${step.state.mode}`, { hint: 'a file mode is an octal permission between 0 and 0o7777, e.g. 0o644' });
      if (step.sides !== undefined) {
        if (!Array.isArray(step.sides)) throw new RollwiseError('RW_HOST', 'sides must be a list', { hint: 'sides lists the side files (.dpkg-dist, .dpkg-old, ...) to put back; every other one is removed' });
        for (const side of step.sides) {
          if (!(SIDE_FILE_SUFFIXES as readonly string[]).includes(side.suffix)) throw new RollwiseError('RW_HOST', `unknown side-file suffix ${JSON.stringify(side.suffix)}`, { hint: `side files are ${SIDE_FILE_SUFFIXES.join(', ')}` });
          if (side.state?.kind !== 'present' || badMode(side.state.mode)) throw new RollwiseError('RW_HOST', `side file ${step.path}${side.suffix}: a present state with a mode is needed`, { hint: 'list only side files that existed, with their recorded content and mode' });
        }
      }
      return;
    }
    case 'service':
      assertServiceName(step.service);
      if (!['start', 'stop', 'restart'].includes(step.action)) throw new RollwiseError('RW_HOST', `unknown service action ${JSON.stringify(step.action)}`, { hint: 'service actions are start, stop and restart' });
      return;
    default:
      throw new RollwiseError('RW_HOST', `unknown step kind ${JSON.stringify((step as { kind?: unknown }).kind)}`, { hint: 'step kinds are packages, refresh-index, migration, write-config, restore-config and service' });
  }
}

function validateDatabase(db: DatabaseRef): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9.:-]*$/.test(db.host) && !(db.host.startsWith('/') && !/[\s\0]/.test(db.host))) throw new RollwiseError('RW_HOST', `bad database host ${JSON.stringify(db.host)}`, { hint: 'a database host is a host name, an address or a socket folder (absolute path)' });
  if (!Number.isInteger(db.port) || db.port < 1 || db.port > 65535) throw new RollwiseError('RW_HOST', `bad database port ${db.port}`, { hint: 'database ports are 1 to 65535' });
  for (const [what, v] of [['user', db.user], ['database', db.database], ['table', db.table ?? 'schema_migrations']] as const) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new RollwiseError('RW_BAD_NAME', `bad database ${what} ${JSON.stringify(v)}`, { hint: 'letters, digits and _' });
  }
}

/**
 * apt's Pre-Install-Pkgs hook (protocol version 3) for a chrootless root with a trust policy:
 * `check` records the transaction and stops apt before dpkg; `verify` lets dpkg start only when the
 * transaction and the .deb files (sha256) are those that were checked.
 */
const APT_HOOK_SCRIPT = [
  '#!/bin/sh',
  'd=$(dirname "$0")',
  'case $1 in',
  `  check) sed '1,/^$/d' > "$d/list"; exit 97 ;;`,
  `  verify) sed '1,/^$/d' > "$d/again" && cmp -s "$d/list" "$d/again" && { [ ! -s "$d/sums" ] || sha256sum --quiet --status -c "$d/sums"; } && exit 0`,
  '    echo "rollwise: the transaction apt is about to run is not the one that was checked" >&2 ;;',
  'esac',
  'exit 1',
  '',
].join('\n');

/**
 * Every entry under a directory (already resolved inside the root by the `check` walk), links not
 * followed: `E <type> <octal mode>`, the path relative to it and the link target, then `C`, the
 * path and the base64 content of each regular file; all fields NUL-terminated.
 */
const TREE_SCRIPT = [
  'cd -P -- "$1" || exit 1',
  "find . -printf 'E %y %m\\0%P\\0%l\\0' || exit 1",
  `find . -type f -exec sh -c 'for f; do printf "C\\0%s\\0" "\${f#./}"; base64 -w 0 -- "$f" || exit 1; printf "\\0"; done' rollwise-content {} + || exit 1`,
].join('\n');

const TREE_TYPES: Record<string, string> = { p: 'fifo', s: 'socket', c: 'character device', b: 'block device', D: 'door' };

/** Which of the named files exist in dpkg's info directory, and which packages await triggers with a postinst. */
const INFO_SCRIPTS_SCRIPT = [
  'cd -- "$1" 2>/dev/null || exit 0',
  'shift',
  'for f; do [ -e "$f" ] && echo "$f"; done',
  'for t in *.triggers; do [ -e "$t" ] && [ -e "${t%.triggers}.postinst" ] && echo "$t"; done',
  'exit 0',
].join('\n');

export function createHostDriver(options: HostDriverOptions): HostDriver {
  const { runner, target, services, name } = options;
  const timeoutMs = options.commandTimeoutMs ?? 15 * 60_000;
  if (target.kind === 'root') assertHostPath(target.root);
  const root = target.kind === 'root' ? target.root.replace(/\/+$/, '') : '';
  const chroot = target.kind === 'root' && options.rootScripts?.kind === 'chroot';
  const chrootless = target.kind === 'root' && options.rootScripts?.kind === 'chrootless' ? options.rootScripts : undefined;
  const run = (argv: string[], o: RunOptions = {}): Promise<RunResult> =>
    runner.run(argv, { timeoutMs, ...o, env: { LC_ALL: 'C', ...o.env } });

  const dpkgQueryArgs = (): string[] => (target.kind === 'root' ? ['dpkg-query', `--admindir=${root}/var/lib/dpkg`] : ['dpkg-query']);

  function aptArgs(): { argv: string[]; env: Record<string, string> } {
    if (chroot) {
      // A fresh mount namespace (proc mounted there for the new PID namespace, gone with it), a
      // PID namespace (whatever a script starts ends with the transaction) and a network
      // namespace with nothing in it; killed with unshare when the command times out.
      return {
        argv: [
          'unshare', '--mount', '--pid', '--net', '--fork', '--kill-child', `--mount-proc=${root}/proc`, '--', 'chroot', root,
          'apt-get', '-q', '-y', '-o', 'Dpkg::Use-Pty=false', '-o', 'DPkg::Options::=--force-confdef', '-o', 'DPkg::Options::=--force-confold',
        ],
        env: CHROOT_ENV,
      };
    }
    if (target.kind === 'root') {
      return {
        argv: ['apt-get', '-q', '-y', '-o', `Dir=${root}/`, '-o', `Dir::State::status=${root}/var/lib/dpkg/status`, '-o', `DPkg::Options::=--root=${root}`, '-o', 'Dpkg::Use-Pty=false'],
        env: { APT_CONFIG: aptConfigPath(root), DEBIAN_FRONTEND: 'noninteractive' },
      };
    }
    return {
      argv: ['apt-get', '-q', '-y', '-o', 'Dpkg::Use-Pty=false', '-o', 'DPkg::Options::=--force-confdef', '-o', 'DPkg::Options::=--force-confold'],
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    };
  }

  /**
   * For a directory root: the apt configuration must exist, or apt would fall back to the
   * machine's own. For a chroot root: the root must hold the apt and dpkg that will run there.
   */
  async function checkAptGuard(): Promise<Body | undefined> {
    if (target.kind !== 'root') return undefined;
    if (chroot) {
      const argv = ['test', '-x', `${root}/usr/bin/apt-get`, '-a', '-x', `${root}/usr/bin/dpkg`, '-a', '-f', `${root}/var/lib/dpkg/status`, '-a', '-d', `${root}/proc`];
      const r = await run(argv);
      if (r.kind === 'exited' && r.exitCode !== 0) {
        return { ok: false, failure: { kind: 'precondition', message: `${root} is not a Debian system root (apt-get, dpkg, var/lib/dpkg/status and proc/ are needed to run apt inside it)` } };
      }
      return fromRun(argv, r);
    }
    const argv = ['test', '-f', aptConfigPath(root), '-a', '-f', `${root}/var/lib/dpkg/status`];
    const r = await run(argv);
    if (r.kind === 'exited' && r.exitCode !== 0) {
      return { ok: false, failure: { kind: 'precondition', message: `${aptConfigPath(root)} or ${root}/var/lib/dpkg/status is missing: prepare the directory root first` } };
    }
    return fromRun(argv, r);
  }

  async function readInstalled(): Promise<HostRead<SnapshotPackage[]>> {
    const r = await run([...dpkgQueryArgs(), '-W', `-f=${QUERY_FORMAT}`]);
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    // dpkg-query exits 1 with "no packages found" on an empty database.
    if (r.exitCode !== 0 && !(r.exitCode === 1 && r.stdout.trim() === '')) return { kind: 'failed', message: combined(r) };
    if (r.stdout.trim() === '' && target.kind === 'root') {
      const empty = await confirmEmptyDatabase();
      if (empty) return empty;
    }
    const packages: SnapshotPackage[] = [];
    for (const line of r.stdout.split('\n')) {
      if (!line) continue;
      const [pkg, version, arch, abbrev, state] = line.split('\t');
      if (!pkg || state === undefined || state === 'not-installed') continue;
      packages.push({ name: pkg, version: version ?? '', architecture: arch ?? '', status: (abbrev ?? '').trim(), state });
    }
    packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0));
    return { kind: 'ok', value: packages };
  }

  /**
   * An empty answer of dpkg-query is also what it gives for a database that is not there (exit 0,
   * no output) and what a lost output looks like: on a root it is believed only when the status
   * file exists and records no package in a state other than not-installed. Undefined when it does.
   */
  async function confirmEmptyDatabase(): Promise<{ kind: 'failed'; message: string } | { kind: 'unknown'; reason: string } | undefined> {
    const status = `${root}/var/lib/dpkg/status`;
    const r = await run(['grep', '-c', '-E', '^Status: .* (installed|config-files|half-installed|unpacked|half-configured|triggers-awaited|triggers-pending)$', '--', status]);
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    if (r.exitCode === 1 && r.stdout.trim() === '0') return undefined;
    if (r.exitCode !== 0 && r.exitCode !== 1) return { kind: 'failed', message: `no readable dpkg database at ${status}: ${combined(r)}` };
    return { kind: 'unknown', reason: `dpkg-query answered nothing while ${status} records ${r.stdout.trim() || 'some'} packages: cannot tell what is installed` };
  }

  /** The conffiles of the packages dpkg knows; `packages`: how many the installed-set read just found (its answer lists each). */
  async function readConffiles(packages?: number): Promise<HostRead<Array<{ path: string; owner: string }>>> {
    const r = await run([...dpkgQueryArgs(), '-W', `-f=${CONFFILES_FORMAT}`]);
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    if (r.exitCode !== 0 && !(r.exitCode === 1 && r.stdout.trim() === '')) return { kind: 'failed', message: combined(r) };
    if (packages !== undefined && packages > 0 && r.stdout.trim() === '') {
      return { kind: 'unknown', reason: `dpkg-query listed no package's conffiles where it had just found ${packages} packages: cannot tell which conffiles there are` };
    }
    const out: Array<{ path: string; owner: string }> = [];
    let owner = '';
    let ownerInstalled = false;
    for (const line of r.stdout.split('\n')) {
      if (!line) continue;
      if (!line.startsWith(' ')) {
        const [pkg, abbrev] = line.split('\t');
        owner = pkg ?? '';
        // conffiles of packages that are only 'config-files' still belong to the host's state.
        ownerInstalled = (abbrev ?? '').charAt(1) !== 'n';
        continue;
      }
      const parts = line.trim().split(' ');
      const p = parts[0];
      if (p && ownerInstalled && !parts.includes('obsolete')) out.push({ path: p, owner });
    }
    return { kind: 'ok', value: out };
  }

  /** Why a confined file command refused its path (it would have left the root), if it did. */
  function refusal(r: RunResult): string | undefined {
    if (r.kind !== 'exited' || r.exitCode !== CONFINED_REFUSED_EXIT) return undefined;
    return r.stderr.trim().replace(/^rollwise: /gm, '') || 'the path leads out of the root';
  }

  /** A file's state; paths are resolved inside a directory root (see confine.ts). */
  async function readFileState(hostPath: string): Promise<HostRead<FileState> | { kind: 'refused'; message: string }> {
    const r = await run(confinedFileCommand('stat', root, hostPath));
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    const refused = refusal(r);
    if (refused) return { kind: 'refused', message: refused };
    if (r.exitCode !== 0) return { kind: 'failed', message: combined(r) };
    if (r.outputTruncated) return { kind: 'failed', message: `unexpected answer reading ${hostPath}: output too large` };
    return parseStatAnswer(hostPath, r.stdout);
  }

  /** What the confined `stat` operation printed (exit status 0), as a file state. */
  function parseStatAnswer(hostPath: string, text: string): HostRead<FileState> {
    const nl = text.indexOf('\n');
    const head = (nl < 0 ? text : text.slice(0, nl)).trim();
    if (head === 'absent') return { kind: 'ok', value: { kind: 'absent' } };
    if (head.startsWith('other ')) return { kind: 'failed', message: `${hostPath} is not a regular file (${head.slice('other '.length)})` };
    const mode = /^present ([0-7]+)$/.exec(head)?.[1];
    if (mode === undefined) return { kind: 'failed', message: `unexpected answer reading ${hostPath}: ${tail(head)}` };
    const contentBase64 = text.slice(nl + 1).trim();
    const sha256 = createHash('sha256').update(Buffer.from(contentBase64, 'base64')).digest('hex');
    return { kind: 'ok', value: { kind: 'present', sha256, mode: parseInt(mode, 8), contentBase64 } };
  }

  /**
   * The states of many files in one confined command (each path resolved inside the root, as
   * readFileState does): a snapshot of hundreds of conffiles costs one command, not one each.
   */
  async function readFileStates(hostPaths: readonly string[]): Promise<HostRead<Map<string, HostRead<FileState> | { kind: 'refused'; message: string }>>> {
    const out = new Map<string, HostRead<FileState> | { kind: 'refused'; message: string }>();
    if (hostPaths.length === 0) return { kind: 'ok', value: out };
    const r = await run(confinedStatListCommand(root, hostPaths), { onOversizedOutput: 'kill' });
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    if (r.exitCode !== 0 || r.outputTruncated) return { kind: 'failed', message: `reading ${hostPaths.length} files: ${r.outputTruncated ? 'output too large' : combined(r)}` };
    const parsed = parseStatList(hostPaths, r.stdout);
    if (typeof parsed === 'string') return { kind: 'failed', message: `reading ${hostPaths.length} files: ${parsed}` };
    for (const [p, e] of parsed) {
      if (e.kind === 'refused' || e.kind === 'failed') out.set(p, e.kind === 'refused' ? e : { kind: 'failed', message: `reading ${p}: ${e.message}` });
      else if (e.kind === 'absent') out.set(p, { kind: 'ok', value: { kind: 'absent' } });
      else if (e.kind === 'other') out.set(p, { kind: 'failed', message: `${p} is not a regular file (${e.what})` });
      else out.set(p, { kind: 'ok', value: { kind: 'present', mode: e.mode, contentBase64: e.contentBase64, sha256: createHash('sha256').update(Buffer.from(e.contentBase64, 'base64')).digest('hex') } });
    }
    return { kind: 'ok', value: out };
  }

  /** A small text file's content (links followed inside the root); undefined when absent or unreadable. */
  async function readText(hostPath: string): Promise<{ kind: 'ok'; text: string | undefined } | { kind: 'unknown'; reason: string }> {
    const r = await run(confinedFileCommand('read', root, hostPath));
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind !== 'exited' || r.exitCode !== 0 || !r.stdout.startsWith('present\n')) return { kind: 'ok', text: undefined };
    return { kind: 'ok', text: r.stdout.slice('present\n'.length) };
  }

  function psqlBase(db: DatabaseRef): string[] {
    return ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', db.host, '-p', String(db.port), '-U', db.user, '-d', db.database];
  }

  async function readDatabase(db: DatabaseRef): Promise<SnapshotDatabase> {
    const table = db.table ?? 'schema_migrations';
    const unreachable = (error: string): SnapshotDatabase => ({ name: db.name, state: 'unreachable', schemaVersion: null, applied: [], error });
    const pw = await databasePasswordEnv(db);
    if (!pw.ok) return unreachable(pw.message);
    const env = pw.env;
    const exists = await run([...psqlBase(db), '-A', '-t', '-c', `SELECT to_regclass('${table}') IS NOT NULL`], { env });
    if (exists.kind !== 'exited') return unreachable(exists.reason);
    if (exists.exitCode !== 0) return unreachable(combined(exists));
    if (exists.stdout.trim() !== 't') return { name: db.name, state: 'no-table', schemaVersion: null, applied: [] };
    const r = await run([...psqlBase(db), '-A', '-t', '-c', `SELECT version FROM ${table} ORDER BY version`], { env });
    if (r.kind !== 'exited') return unreachable(r.reason);
    if (r.exitCode !== 0) return unreachable(combined(r));
    const applied = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).sort();
    return { name: db.name, state: 'ok', schemaVersion: applied[applied.length - 1] ?? null, applied };
  }

  async function readServiceState(service: string): Promise<ServiceState> {
    try {
      assertServiceName(service);
    } catch {
      return 'unknown';
    }
    const confined = await checkServiceDirectory(service);
    if (confined) return 'unknown';
    return services.parseStatus(await run(services.statusCommand(service)));
  }

  /**
   * For a directory root supervised by runit: `sv` is given `<root>/etc/service/<name>` and the
   * kernel follows its links from outside the root (`/etc/sv/<name>`, a `supervise` link to
   * /run/...): refused when that reaches another place than the same path inside the root, or
   * `sv` would control this machine's own service. Undefined when it is fine.
   */
  async function checkServiceDirectory(service: string): Promise<Body | undefined> {
    if (target.kind !== 'root' || services.kind !== 'runit') return undefined;
    const dir = services.statusCommand(service).at(-1) ?? '';
    if (!dir.startsWith(`${root}/`)) return undefined;
    const hostPath = `${dir.slice(root.length)}/supervise/control`;
    const argv = confinedFileCommand('check', root, hostPath);
    const r = await run(argv);
    const refused = refusal(r);
    if (refused) return rejectedPath(dir.slice(root.length), refused);
    return fromRun(argv, r);
  }

  async function readFacts(): Promise<HostRead<HostFacts>> {
    const facts: HostFacts = {};
    const osr = await readText('/etc/os-release');
    if (osr.kind === 'unknown') return osr;
    if (osr.text !== undefined) {
      const os = osFactsFromRelease(parseOsRelease(osr.text));
      if (os) facts.os = os;
    }
    if (target.kind === 'root') {
      const f = await readText(FACTS_HOST_PATH);
      if (f.kind === 'unknown') return f;
      if (f.text !== undefined) {
        try {
          const recorded = JSON.parse(f.text) as Record<string, unknown>;
          for (const k of ['architecture', 'kernel'] as const) if (typeof recorded[k] === 'string') facts[k] = recorded[k] as string;
          for (const k of ['memoryMiB', 'diskTotalMiB', 'diskFreeMiB', 'cpus'] as const) if (typeof recorded[k] === 'number') facts[k] = recorded[k] as number;
        } catch (e) {
          return { kind: 'failed', message: `${root}${FACTS_HOST_PATH}: ${(e as Error).message}` };
        }
      }
      return { kind: 'ok', value: facts };
    }
    const reads = await Promise.all([
      run(['dpkg', '--print-architecture']),
      run(['uname', '-r']),
      run(['cat', '/proc/meminfo']),
      run(['nproc']),
      run(['df', '-Pk', '/']),
    ]);
    const lost = reads.find((r) => r.kind === 'lost');
    if (lost && lost.kind === 'lost') return { kind: 'unknown', reason: lost.reason };
    const text = (i: number): string | undefined => {
      const r = reads[i];
      return r && r.kind === 'exited' && r.exitCode === 0 ? r.stdout.trim() : undefined;
    };
    const arch = text(0);
    if (arch) facts.architecture = arch;
    const kernel = text(1);
    if (kernel) facts.kernel = kernel;
    const mem = text(2);
    const memMiB = mem ? parseMeminfoMiB(mem) : undefined;
    if (memMiB !== undefined) facts.memoryMiB = memMiB;
    const cpus = Number(text(3));
    if (Number.isInteger(cpus) && cpus > 0) facts.cpus = cpus;
    const df = text(4)?.split('\n')[1]?.trim().split(/\s+/);
    if (df && df.length >= 4) {
      facts.diskTotalMiB = Math.floor(Number(df[1]) / 1024);
      facts.diskFreeMiB = Math.floor(Number(df[3]) / 1024);
    }
    return { kind: 'ok', value: facts };
  }

  /** Every entry under `hostPath` (a directory resolved inside the root), with file contents. */
  async function readTree(hostPath: string): Promise<HostRead<SnapshotTree> | { kind: 'refused'; message: string }> {
    const check = await run(confinedFileCommand('check', root, hostPath));
    if (check.kind === 'lost') return { kind: 'unknown', reason: check.reason };
    if (check.kind === 'not-started') return { kind: 'failed', message: check.reason };
    const refused = refusal(check);
    if (refused) return { kind: 'refused', message: refused };
    if (check.exitCode !== 0) return { kind: 'failed', message: combined(check) };
    const dir = check.stdout.trim();
    const exists = await run(['test', '-d', dir]);
    if (exists.kind === 'lost') return { kind: 'unknown', reason: exists.reason };
    if (exists.kind === 'exited' && exists.exitCode !== 0) return { kind: 'ok', value: { path: hostPath, state: 'absent', entries: [] } };
    const r = await run(['sh', '-c', TREE_SCRIPT, 'rollwise-tree', dir], { onOversizedOutput: 'kill' });
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    if (r.exitCode !== 0 || r.outputTruncated) return { kind: 'failed', message: `reading the tree ${hostPath}: ${r.outputTruncated ? 'output too large' : combined(r)}` };
    const fields = r.stdout.split('\0');
    const base = hostPath.replace(/\/+$/, '') || '/';
    const full = (rel: string): string => (rel === '' ? base : `${base === '/' ? '' : base}/${rel}`);
    const entries = new Map<string, TreeEntry>();
    const contents = new Map<string, string>();
    for (let i = 0; i < fields.length - 1; ) {
      const head = fields[i]!;
      if (head.startsWith('E ')) {
        const [, type, modeText] = head.split(' ');
        const p = full(fields[i + 1] ?? '');
        const mode = parseInt(modeText ?? '0', 8);
        if (type === 'f') entries.set(p, { path: p, type: 'file', mode, sha256: '', contentBase64: '' });
        else if (type === 'l') entries.set(p, { path: p, type: 'symlink', target: fields[i + 2] ?? '' });
        else if (type === 'd') entries.set(p, { path: p, type: 'directory', mode });
        else entries.set(p, { path: p, type: 'other', mode, what: TREE_TYPES[type ?? ''] ?? `type ${type ?? '?'}` });
        i += 3;
      } else if (head === 'C') {
        contents.set(full(fields[i + 1] ?? ''), fields[i + 2] ?? '');
        i += 3;
      } else {
        return { kind: 'failed', message: `unexpected answer reading the tree ${hostPath}: ${tail(head)}` };
      }
    }
    for (const e of entries.values()) {
      if (e.type !== 'file') continue;
      const c = contents.get(e.path);
      if (c === undefined) return { kind: 'failed', message: `${e.path} changed while the tree ${hostPath} was read` };
      e.contentBase64 = c;
      e.sha256 = createHash('sha256').update(Buffer.from(c, 'base64')).digest('hex');
    }
    return { kind: 'ok', value: { path: hostPath, state: 'present', entries: [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) } };
  }

  async function takeSnapshot(spec: SnapshotSpec = {}): Promise<HostRead<Snapshot>> {
    try {
      for (const p of spec.trees ?? []) assertHostPath(p);
      for (const p of spec.configFiles ?? []) assertHostPath(p);
      for (const s of spec.services ?? []) assertServiceName(s);
      for (const d of spec.databases ?? []) validateDatabase(d);
    } catch (e) {
      return { kind: 'failed', message: isRollwiseError(e) ? e.render() : String(e) };
    }
    const installed = await readInstalled();
    if (installed.kind !== 'ok') return installed;
    const wanted = new Map<string, { source: 'config' | 'conffile'; owner?: string }>();
    for (const p of spec.configFiles ?? []) wanted.set(p, { source: 'config' });
    if (spec.conffiles !== false) {
      const cf = await readConffiles(installed.value.length);
      if (cf.kind !== 'ok') return cf;
      for (const c of cf.value) if (!wanted.has(c.path)) wanted.set(c.path, { source: 'conffile', owner: c.owner });
    }
    const files: SnapshotFile[] = [];
    const paths = [...wanted.keys()].sort();
    for (const p of paths) {
      const info = wanted.get(p)!;
      // conffile paths come from the host's dpkg database: data, checked like any other path
      if (!isValidHostPath(p)) return { kind: 'failed', message: `RW_HOST: ${JSON.stringify(p)}${info.owner ? ` (a conffile of ${info.owner})` : ''} is not an acceptable absolute path: not read` };
    }
    const states = await readFileStates(paths);
    if (states.kind !== 'ok') return states;
    for (const p of paths) {
      const info = wanted.get(p)!;
      const whose = info.owner ? ` (a conffile of ${info.owner})` : '';
      const st = states.value.get(p)!;
      if (st.kind === 'refused') return { kind: 'failed', message: `RW_HOST: ${p}${whose}: ${st.message}: not read` };
      if (st.kind !== 'ok') return st;
      files.push({ path: p, source: info.source, ...(info.owner ? { owner: info.owner } : {}), state: st.value });
    }
    const sides = await readSideFiles(files.map((f) => f.path).filter((p) => sideFileSuffix(p) === undefined));
    if (sides.kind !== 'ok') return sides;
    const recorded = new Set(files.map((f) => f.path));
    files.push(...sides.value.filter((f) => !recorded.has(f.path)));
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const databases: SnapshotDatabase[] = [];
    for (const d of spec.databases ?? []) databases.push(await readDatabase(d));
    const svc = [];
    for (const s of [...(spec.services ?? [])].sort()) svc.push({ name: s, state: await readServiceState(s) });
    const trees: SnapshotTree[] = [];
    for (const t of [...new Set(spec.trees ?? [])].sort()) {
      const tree = await readTree(t);
      if (tree.kind === 'refused') return { kind: 'failed', message: `RW_HOST: ${t}: ${tree.message}: not read` };
      if (tree.kind !== 'ok') return tree;
      trees.push(tree.value);
    }
    return {
      kind: 'ok',
      value: { host: name, takenAt: new Date().toISOString(), packages: installed.value, files, databases, services: svc, ...(spec.trees ? { trees } : {}) },
    };
  }

  /** The side files (SIDE_FILE_SUFFIXES) present beside these paths, each recorded with its content: one command lists them all. */
  async function readSideFiles(paths: readonly string[]): Promise<HostRead<SnapshotFile[]>> {
    if (paths.length === 0) return { kind: 'ok', value: [] };
    const r = await run(confinedSidesListCommand(root, paths, SIDE_FILE_SUFFIXES));
    if (r.kind === 'lost') return { kind: 'unknown', reason: r.reason };
    if (r.kind === 'not-started') return { kind: 'failed', message: r.reason };
    if (r.exitCode !== 0 || r.outputTruncated) return { kind: 'failed', message: `cannot list the side files of the recorded files: ${combined(r)}` };
    const out: SnapshotFile[] = [];
    let of: string | undefined;
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('== ')) {
        of = line.slice(3);
        continue;
      }
      if (of === undefined || !(SIDE_FILE_SUFFIXES as readonly string[]).includes(line) || !paths.includes(of)) continue;
      const side = of + line;
      const st = await readFileState(side);
      if (st.kind === 'refused') return { kind: 'failed', message: `RW_HOST: ${side}: ${st.message}: not read` };
      if (st.kind === 'failed') continue; // replaced by something else than a regular file since it was listed
      if (st.kind !== 'ok') return st;
      if (st.value.kind === 'present') out.push({ path: side, source: 'side', sideOf: of, state: st.value });
    }
    return { kind: 'ok', value: out };
  }

  /** Local .deb path -> its copy on a remote host (filled before apt-get runs). */
  const uploaded = new Map<string, string>();

  async function uploadDebs(changes: PackageChange[]): Promise<Body | undefined> {
    if (!options.remote && !chroot) return undefined;
    for (const c of changes) {
      if (!c.debPath || uploaded.has(c.debPath)) continue;
      let bytes: Buffer;
      try {
        bytes = await readFile(c.debPath);
      } catch (e) {
        return { ok: false, failure: { kind: 'precondition', message: `cannot read ${c.debPath} here: ${(e as Error).message}` } };
      }
      const digest = createHash('sha256').update(bytes).digest('hex');
      const hostPath = `/var/cache/rollwise/debs/${digest}.deb`;
      const written = await writeConfined(hostPath, bytes, 0o644);
      if (!('ok' in written.body) || !written.body.ok) return written.body;
      if (!written.path) return { ok: false, failure: { kind: 'precondition', message: `copying ${c.debPath} to the host gave no path` } };
      // apt inside the chroot sees the root as /; apt outside it gets the resolved path
      uploaded.set(c.debPath, chroot ? hostPath : written.path);
    }
    return undefined;
  }

  function packageArg(c: PackageChange): string {
    const qualified = c.architecture ? `${c.name}:${c.architecture}` : c.name;
    if (c.action === 'remove' || c.action === 'purge') return `${qualified}-`;
    if (c.debPath) return uploaded.get(c.debPath) ?? c.debPath;
    return `${qualified}=${c.to!}`;
  }

  /**
   * The dpkg entry a change is about: the same name and architecture; an `all` package where one
   * side says `all` (an inventory may write the host's architecture for it); any architecture of
   * the name when the change names none (an installed one first).
   */
  function installedEntry(packages: readonly SnapshotPackage[], c: { name: string; architecture?: string }): SnapshotPackage | undefined {
    const same = packages.filter((p) => p.name === c.name);
    if (c.architecture === undefined) return same.find((p) => p.status.charAt(1) !== 'n' && p.status.charAt(1) !== 'c') ?? same[0];
    return same.find((p) => p.architecture === c.architecture) ?? same.find((p) => p.architecture === 'all' || c.architecture === 'all');
  }

  function deltas(before: SnapshotPackage[], after: SnapshotPackage[]): PackageDelta[] {
    const b = new Map(before.map((p) => [`${p.name}:${p.architecture}`, p]));
    const a = new Map(after.map((p) => [`${p.name}:${p.architecture}`, p]));
    const out: PackageDelta[] = [];
    for (const k of [...new Set([...b.keys(), ...a.keys()])].sort()) {
      const x = b.get(k);
      const y = a.get(k);
      if (x && y && x.version === y.version && x.status === y.status) continue;
      const p = (x ?? y)!;
      out.push({
        name: p.name,
        architecture: p.architecture,
        ...(x ? { before: { version: x.version, status: x.status } } : {}),
        ...(y ? { after: { version: y.version, status: y.status } } : {}),
      });
    }
    return out;
  }

  type Body = { ok: true; output: string; packages?: PackageDelta[] } | { ok: false; failure: StepFailure; packages?: PackageDelta[] } | { lost: string; output: string };

  function fromRun(argv: string[], r: RunResult): Body | undefined {
    if (r.kind === 'lost') return { lost: r.reason, output: combined(r) };
    if (r.kind === 'not-started') return { ok: false, failure: { kind: 'not-started', command: argv, reason: r.reason } };
    if (r.exitCode !== 0) return { ok: false, failure: { kind: 'command', command: argv, exitCode: r.exitCode, output: combined(r) } };
    return undefined;
  }

  async function applyPackages(stepChanges: PackageChange[]): Promise<Body> {
    // one form from here on: dpkg's bare name with its architecture (multiarch: `libc6:i386` → libc6, i386)
    const changes = stepChanges.map((c) => ({ ...c, ...dpkgPackageOf(c) }));
    const guard = await checkAptGuard();
    if (guard) return guard;
    const upload = await uploadDebs(changes);
    if (upload) return upload;
    const before = await readInstalled();
    if (before.kind === 'unknown') return { lost: before.reason, output: '' };
    if (before.kind === 'failed') return { ok: false, failure: { kind: 'precondition', message: `cannot read the installed set: ${before.message}` } };
    const apt = aptArgs();
    const flags = ['--no-install-recommends'];
    if (chroot) {
      // apt's resolver may move a package the step does not name to its candidate (a newer version
      // from the root's lists) while installing the named ones; every other installed package is
      // pinned at its installed version, so the step changes what it names and nothing else
      // by bare name: the other architectures of a named Multi-Arch: same package stay free to follow it
      const named = new Set(changes.map((c) => c.name));
      const pins = before.value.filter((p) => p.status.charAt(1) === 'i' && !named.has(p.name)).map((p) => `Package: ${p.name}\nPin: version ${p.version}\nPin-Priority: 1001\n`).join('\n');
      const written = await writeFileOnHost(APT_PIN_HOST_PATH, Buffer.from(pins), 0o644);
      if (!('ok' in written) || !written.ok) return written;
      apt.argv.push('-o', `Dir::Etc::Preferences=${APT_PIN_HOST_PATH}`);
    }
    const removes = changes.some((c) => c.action === 'remove');
    const purges = changes.some((c) => c.action === 'purge');
    if (!removes && !purges) flags.push('--no-remove');
    if (purges && !removes) flags.push('--purge');
    if (changes.some((c) => c.action === 'downgrade')) flags.push('--allow-downgrades');
    const argv = [...apt.argv, ...flags, 'install', ...changes.map(packageArg)];
    const first = await runApt(apt, [...flags, 'install', ...changes.map(packageArg)], before.value);
    if ('body' in first) return first.body;
    let r = first.result;
    let lastArgv = argv;
    if (purges && removes && r.kind === 'exited' && r.exitCode === 0) {
      // one transaction cannot both keep and purge configuration files: purge what is left of those
      const words = ['purge', ...changes.filter((c) => c.action === 'purge').map((c) => (c.architecture ? `${c.name}:${c.architecture}` : c.name))];
      lastArgv = [...apt.argv, ...words];
      const next = await runApt(apt, words, before.value);
      if ('body' in next) return next.body;
      const second = next.result;
      r = second.kind === 'exited' ? { ...second, stdout: `${r.stdout}\n${second.stdout}`, stderr: `${r.stderr}\n${second.stderr}` } : second;
    }
    if (chroot) await run(confinedFileCommand('remove', root, APT_PIN_HOST_PATH));
    const after = await readInstalled();
    const packages = after.kind === 'ok' ? deltas(before.value, after.value) : undefined;
    const failed = fromRun(lastArgv, r);
    if (failed) return { ...failed, ...(packages ? { packages } : {}) } as Body;
    if (after.kind !== 'ok') return { ok: false, failure: { kind: 'precondition', message: 'apt-get succeeded but the installed set cannot be read' } };
    // Verify: every change is now true, per architecture (multiarch: libc6:amd64 and libc6:i386 are two packages).
    const wrong: string[] = [];
    for (const c of changes) {
      const p = installedEntry(after.value, c);
      const shown = c.architecture ? `${c.name}:${c.architecture}` : c.name;
      if (c.action === 'remove' || c.action === 'purge') {
        if (p && p.status.charAt(1) !== 'c' && p.status.charAt(1) !== 'n') wrong.push(`${shown} is still ${p.status} ${p.version}`);
        if (c.action === 'purge' && p && p.status.charAt(1) === 'c') wrong.push(`${shown} still has config files`);
      } else if (!p || compareDebian(p.version, c.to!) !== 0 || p.status !== 'ii') {
        wrong.push(`${shown} is ${p ? `${p.status} ${p.version}` : 'not installed'}, expected ii ${c.to}`);
      }
    }
    if (wrong.length > 0) return { ok: false, failure: { kind: 'precondition', message: `after apt-get: ${wrong.join('; ')}` }, packages: packages ?? [] };
    return { ok: true, output: combined(r), packages: packages ?? [] };
  }

  /**
   * Run apt-get with `words` after the common options. On a chrootless root with a trust policy,
   * apt first runs with a Pre-Install-Pkgs hook that records the transaction and stops before dpkg;
   * every maintainer script that transaction would run is checked against the policy (a step with
   * an untrusted one is rejected, nothing having run), then apt runs for real with a hook that
   * lets dpkg start only if the transaction and its .deb files are the ones checked.
   */
  async function runApt(apt: { argv: string[]; env: Record<string, string> }, words: string[], installed: SnapshotPackage[]): Promise<{ result: RunResult } | { body: Body }> {
    if (!chrootless) return { result: await run([...apt.argv, ...words], { env: apt.env }) };
    const made = await run(['mktemp', '-d', '/tmp/rollwise-apt.XXXXXXXX']);
    if (made.kind === 'lost') return { body: { lost: made.reason, output: combined(made) } };
    const dir = made.kind === 'exited' && made.exitCode === 0 ? made.stdout.trim() : '';
    if (!/^\/tmp\/rollwise-apt\.[A-Za-z0-9]+$/.test(dir)) {
      return { body: { ok: false, failure: { kind: 'precondition', message: `cannot make a temporary directory for apt's hook: ${combined(made)}` } } };
    }
    try {
      const hook = await writeFileOnHost(`${dir}/hook`, Buffer.from(APT_HOOK_SCRIPT), 0o700, '');
      if (!('ok' in hook) || !hook.ok) return { body: hook };
      const hookOptions = (mode: 'check' | 'verify'): string[] => ['-o', `DPkg::Pre-Install-Pkgs::=${dir}/hook ${mode}`, '-o', `DPkg::Tools::Options::${dir}/hook::Version=3`];
      const check = await run([...apt.argv, ...hookOptions('check'), ...words], { env: apt.env });
      if (check.kind !== 'exited') return { result: check };
      const listed = await run(['cat', '--', `${dir}/list`]);
      if (listed.kind === 'lost') return { body: { lost: listed.reason, output: '' } };
      // no list: apt stopped before dpkg (a failure, or nothing to do); its answer is the step's
      if (listed.kind !== 'exited' || listed.exitCode !== 0) return { result: check };
      const vetted = await vetTransaction(listed.stdout, installed, dir);
      if (vetted) return { body: vetted };
      return { result: await run([...apt.argv, ...hookOptions('verify'), ...words], { env: apt.env }) };
    } finally {
      await run(['rm', '-rf', '--', dir]);
    }
  }

  /** Undefined when every script the transaction would run is trusted; else the step's failure. */
  async function vetTransaction(list: string, installed: SnapshotPackage[], dir: string): Promise<Body | undefined> {
    const policy = chrootless!;
    let actions;
    try {
      actions = parseAptHookV3(list);
    } catch (e) {
      return { ok: false, failure: { kind: 'precondition', message: (e as Error).message } };
    }
    const debs = [...new Set(actions.flatMap((a) => (a.deb ? [a.deb] : [])))];
    const summaries = new Map<string, DebControlSummary & { sha256: string }>();
    if (debs.length > 0) {
      const argv = ['sh', '-c', 'for f; do printf "== %s\\n" "$(sha256sum -- "$f" | cut -d" " -f1)"; dpkg-deb -I -- "$f" || exit 1; done', 'rollwise-inspect', ...debs];
      const r = await run(argv);
      const failed = fromRun(argv, r);
      if (failed) return failed;
      const sections = (r.kind === 'exited' ? r.stdout : '').split(/^== /m).slice(1);
      if (sections.length !== debs.length) return { ok: false, failure: { kind: 'precondition', message: 'cannot read the control archives of the packages apt would install' } };
      debs.forEach((d, i) => {
        const text = sections[i]!;
        summaries.set(d, { ...parseDebInfo(text), sha256: text.slice(0, text.indexOf('\n')).trim() });
      });
    }
    // scripts of installed packages: those that run when one is upgraded, downgraded or removed,
    // and the postinst of every package that awaits triggers (any transaction may activate them)
    const oldScripts: Array<{ name: string; version: string; files: string[] }> = [];
    for (const a of actions) {
      if (a.oldVersion === undefined || a.action === 'configure') continue;
      const files = INSTALLED_SCRIPTS_RUN_ON_CHANGE.flatMap((s) => [`${a.name}.${s}`, `${a.name}:${a.oldArchitecture}.${s}`]);
      oldScripts.push({ name: a.name, version: a.oldVersion, files });
    }
    const infoDir = `${root}/var/lib/dpkg/info`;
    const argv = ['sh', '-c', INFO_SCRIPTS_SCRIPT, 'rollwise-info', infoDir, ...oldScripts.flatMap((o) => o.files)];
    const r = await run(argv);
    const failed = fromRun(argv, r);
    if (failed) return failed;
    const present = new Set((r.kind === 'exited' ? r.stdout : '').split('\n').filter((l) => l !== ''));
    const untrusted: string[] = [];
    const check = (pkg: string, version: string, scripts: string[]): void => {
      if (scripts.length > 0 && !policy.trusted(pkg, version)) untrusted.push(`${pkg} ${version} (${scripts.join(', ')})`);
    };
    for (const a of actions) {
      if (a.action !== 'unpack' || !a.deb) continue;
      const info = summaries.get(a.deb)!;
      if (info.name !== a.name || info.version !== a.newVersion) {
        return { ok: false, failure: { kind: 'precondition', message: `${a.deb} holds ${info.name} ${info.version}, not ${a.name} ${a.newVersion ?? ''}` } };
      }
      check(info.name, info.version, info.scripts);
    }
    for (const o of oldScripts) check(o.name, o.version, [...new Set(o.files.filter((f) => present.has(f)).map((f) => `installed ${f.slice(f.lastIndexOf('.') + 1)}`))]);
    const inTransaction = new Set(actions.map((a) => a.name));
    for (const line of present) {
      if (!line.endsWith('.triggers')) continue;
      const pkg = line.slice(0, -'.triggers'.length).split(':')[0]!;
      if (inTransaction.has(pkg)) continue;
      const version = installed.find((p) => p.name === pkg)?.version ?? '';
      check(pkg, version, ['postinst, run by triggers']);
    }
    if (untrusted.length > 0) {
      return {
        ok: false,
        failure: {
          kind: 'rejected',
          code: 'RW_HOST',
          message: `maintainer scripts of ${[...new Set(untrusted)].join('; ')} would run chrootless, on this machine's own filesystem rather than inside ${root}: not installed`,
          hint: 'use a chroot root (createChrootRootDriver) for real packages; trust (chrootlessScripts) only packages whose scripts act solely under $DPKG_ROOT',
        },
      };
    }
    const sums = [...summaries].map(([path, s]) => `${s.sha256}  ${path}\n`).join('');
    const written = await writeFileOnHost(`${dir}/sums`, Buffer.from(sums), 0o600, '');
    if (!('ok' in written) || !written.ok) return written;
    return undefined;
  }

  async function applyMigration(db: DatabaseRef, m: { version: string; direction: 'up' | 'down'; sql: string }): Promise<Body> {
    const table = db.table ?? 'schema_migrations';
    const state = await readDatabase(db);
    if (state.state === 'unreachable') return { ok: false, failure: { kind: 'precondition', message: `database ${db.name} unreachable: ${state.error ?? ''}` } };
    const applied = state.applied.includes(m.version);
    if (m.direction === 'up' && applied) return { ok: false, failure: { kind: 'precondition', message: `migration ${m.version} is already applied to ${db.name}` } };
    if (m.direction === 'down' && !applied) return { ok: false, failure: { kind: 'precondition', message: `migration ${m.version} is not applied to ${db.name}` } };
    const script = [
      `CREATE TABLE IF NOT EXISTS ${table} (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`,
      m.sql,
      ';',
      m.direction === 'up' ? `INSERT INTO ${table} (version) VALUES (:'rw_version');` : `DELETE FROM ${table} WHERE version = :'rw_version';`,
      '',
    ].join('\n');
    const argv = [...psqlBase(db), '--single-transaction', '-v', `rw_version=${m.version}`, '-f', '-'];
    const pw = await databasePasswordEnv(db);
    if (!pw.ok) return { ok: false, failure: { kind: 'precondition', message: pw.message } };
    const r = await run(argv, { input: script, env: pw.env });
    return fromRun(argv, r) ?? { ok: true, output: combined(r) };
  }

  /**
   * Write a file on the host (inside the root, every link resolved inside it), atomically;
   * `output` is the file's resolved path. A path that would leave the root is rejected.
   */
  async function writeFileOnHost(hostPath: string, content: Buffer, mode: number, within = root): Promise<Body> {
    return (await writeConfined(hostPath, content, mode, within)).body;
  }

  /** As writeFileOnHost, with the resolved path written (as the host sees it from outside the root). */
  async function writeConfined(hostPath: string, content: Buffer, mode: number, within = root): Promise<{ body: Body; path?: string }> {
    const argv = confinedFileCommand('write', within, hostPath, mode);
    const r = await run(argv, { input: content });
    const refused = refusal(r);
    if (refused) return { body: rejectedPath(hostPath, refused) };
    if (r.kind === 'exited' && r.exitCode === 0) return { body: { ok: true, output: '' }, path: r.stdout.trim() };
    return { body: fromRun(argv, r) ?? { ok: false, failure: { kind: 'precondition', message: `cannot write ${hostPath}` } } };
  }

  function rejectedPath(hostPath: string, why: string): Body {
    return {
      ok: false,
      failure: {
        kind: 'rejected',
        code: 'RW_HOST',
        message: `${hostPath}: ${why}`,
        hint: 'links inside a directory root are followed only inside it: fix or remove the link, or name the file by a path inside the root',
      },
    };
  }

  /** Put one file to a recorded state (removed when absent); the content must match its recorded sha256. */
  async function restoreFile(hostPath: string, state: FileState): Promise<Body> {
    if (state.kind === 'absent') {
      const argv = confinedFileCommand('remove', root, hostPath);
      const r = await run(argv);
      const refused = refusal(r);
      if (refused) return rejectedPath(hostPath, refused);
      return fromRun(argv, r) ?? { ok: true, output: '' };
    }
    const content = Buffer.from(state.contentBase64, 'base64');
    const sha = createHash('sha256').update(content).digest('hex');
    if (sha !== state.sha256) return { ok: false, failure: { kind: 'precondition', message: `recorded content of ${hostPath} does not match its sha256` } };
    return writeFileOnHost(hostPath, content, state.mode);
  }

  async function body(step: Step): Promise<Body> {
    switch (step.kind) {
      case 'refresh-index': {
        const guard = await checkAptGuard();
        if (guard) return guard;
        const apt = aptArgs();
        const argv = [...apt.argv, 'update'];
        const r = await run(argv, { env: apt.env });
        return fromRun(argv, r) ?? { ok: true, output: combined(r) };
      }
      case 'packages':
        return applyPackages(step.changes);
      case 'migrate':
        return applyMigration(step.database, step.migration);
      case 'write-config': {
        let mode = step.mode;
        if (mode === undefined) {
          const cur = await readFileState(step.path);
          if (cur.kind === 'unknown') return { lost: cur.reason, output: '' };
          if (cur.kind === 'refused') return rejectedPath(step.path, cur.message);
          mode = cur.kind === 'ok' && cur.value.kind === 'present' ? cur.value.mode : 0o644;
        }
        return writeFileOnHost(step.path, Buffer.from(step.content, 'utf8'), mode);
      }
      case 'restore-config': {
        const main = await restoreFile(step.path, step.state);
        if (!('ok' in main) || !main.ok || step.sides === undefined) return main;
        // the side files: those recorded are written back, every other one is removed
        for (const side of step.sides) {
          const b = await restoreFile(step.path + side.suffix, side.state);
          if (!('ok' in b) || !b.ok) return b;
        }
        const gone = SIDE_FILE_SUFFIXES.filter((x) => !step.sides!.some((side) => side.suffix === x));
        const argv = confinedSidesCommand('remove-sides', root, step.path, gone);
        const r = await run(argv);
        const refused = refusal(r);
        if (refused) return rejectedPath(step.path, refused);
        return fromRun(argv, r) ?? main;
      }
      case 'service': {
        const confined = await checkServiceDirectory(step.service);
        if (confined) return confined;
        const statusArgv = services.statusCommand(step.service);
        const before = services.settled || step.action === 'stop' ? await run(statusArgv) : undefined;
        if (before?.kind === 'lost') return { lost: before.reason, output: combined(before) };
        // stopping a service that is not there (never installed, or no supervisor runs it yet): nothing runs, so it is stopped
        if (step.action === 'stop' && before) {
          const was = services.parseStatus(before);
          if (was === 'absent' || was === 'unsupervised') return { ok: true, output: `${step.service} is ${was === 'absent' ? 'not installed' : 'not supervised'}: nothing to stop` };
        }
        const argv = services.actionCommand(step.action, step.service);
        const r = await run(argv);
        const failed = fromRun(argv, r);
        if (failed || !services.settled || !before) return failed ?? { ok: true, output: combined(r) };
        // The action command's own success is not proof (runit): wait, with a deadline, until the status shows it.
        const deadline = Date.now() + (services.settleTimeoutMs ?? 10_000);
        for (;;) {
          const now = await run(statusArgv);
          if (now.kind === 'lost') return { lost: now.reason, output: combined(now) };
          if (services.settled(step.action, step.service, before, now)) return { ok: true, output: combined(r) };
          if (Date.now() >= deadline) {
            // reported like sv's own `-w` timeout (exit 1)
            const output = `${combined(r)}\ntimeout: the status still does not show ${step.action} ${step.service} done: ${combined(now)}`;
            return { ok: false, failure: { kind: 'command', command: argv, exitCode: 1, output } };
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }

  async function apply(step: Step): Promise<StepOutcome> {
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    try {
      validateStep(step);
    } catch (e) {
      if (isRollwiseError(e)) {
        return { status: 'failed', step, host: name, durationMs: ms(), failure: { kind: 'rejected', code: e.code as ErrorCode, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
      }
      return { status: 'failed', step, host: name, durationMs: ms(), failure: { kind: 'rejected', code: 'RW_HOST', message: String(e) } };
    }
    let b: Body;
    try {
      b = await body(step);
    } catch (e) {
      const message = isRollwiseError(e) ? e.render() : (e as Error).message;
      return { status: 'failed', step, host: name, durationMs: ms(), failure: { kind: 'precondition', message } };
    }
    if ('lost' in b) return { status: 'unknown', step, host: name, durationMs: ms(), reason: b.lost, output: b.output };
    if (b.ok) return { status: 'succeeded', step, host: name, durationMs: ms(), output: b.output, ...(b.packages ? { packages: b.packages } : {}) };
    return { status: 'failed', step, host: name, durationMs: ms(), failure: b.failure, ...(b.packages ? { packages: b.packages } : {}) };
  }

  return { name, target, where: runner.where, readFacts, readInstalled, readServiceState, takeSnapshot, apply };
}

export interface DirectoryRootDriverOptions {
  root: string;
  name?: string;
  runner?: CommandRunner;
  /** runit service directory (default `<root>/etc/service`). */
  svdir?: string;
  commandTimeoutMs?: number;
  /**
   * Packages whose maintainer scripts may run chrootless, i.e. on the real filesystem of this
   * machine (the lab's synthetic packages, which act only under $DPKG_ROOT). Without it only
   * packages without maintainer scripts are installed, upgraded or removed; a step that would run
   * another package's scripts is rejected before dpkg runs.
   */
  chrootlessScripts?: ChrootlessScripts;
}

/**
 * A host whose system lives in a directory, on this machine (or the runner's machine): the real
 * dpkg and apt pointed at the directory, maintainer scripts chrootless (see chrootlessScripts).
 */
export function createDirectoryRootDriver(options: DirectoryRootDriverOptions): HostDriver {
  const root = options.root.replace(/\/+$/, '');
  const trusted = options.chrootlessScripts?.trusted.bind(options.chrootlessScripts) ?? ((): boolean => false);
  return createHostDriver({
    name: options.name ?? root,
    runner: options.runner ?? createLocalRunner(),
    target: { kind: 'root', root },
    services: createRunitServiceControl({ svdir: options.svdir ?? `${root}/etc/service` }),
    rootScripts: { kind: 'chrootless', trusted },
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
}

export interface ChrootRootDriverOptions {
  /** A complete Debian system in a directory (for example one built by mmdebstrap). */
  root: string;
  name?: string;
  runner?: CommandRunner;
  /** runit service directory (default `<root>/etc/service`). */
  svdir?: string;
  commandTimeoutMs?: number;
}

/**
 * A host whose system lives in a directory, for real packages: apt-get, dpkg and the maintainer
 * scripts run inside the root (`chroot`), in fresh mount, PID and network namespaces torn down
 * with each command (`unshare --mount --pid --net --fork`, /proc mounted for the PID namespace).
 * Packages come from `debPath` files (copied into the root) or from repositories the root can
 * reach without a network (file: sources inside it). A chroot keeps well-behaved scripts inside
 * the root; it is no sandbox against a hostile package running as root.
 */
export function createChrootRootDriver(options: ChrootRootDriverOptions): HostDriver & { runCommand(argv: readonly string[], options?: RunOptions): Promise<RunResult> } {
  const root = options.root.replace(/\/+$/, '');
  const runner = options.runner ?? createLocalRunner();
  const driver = createHostDriver({
    name: options.name ?? root,
    runner,
    target: { kind: 'root', root },
    services: createRunitServiceControl({ svdir: options.svdir ?? `${root}/etc/service` }),
    rootScripts: { kind: 'chroot' },
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
  return {
    ...driver,
    /** A command run inside the root as apt is (chroot, fresh namespaces): a health check such as `nginx -t`. */
    runCommand: (argv, o = {}) =>
      runner.run(['unshare', '--mount', '--pid', '--net', '--fork', '--kill-child', `--mount-proc=${root}/proc`, '--', 'chroot', root, ...argv], { ...o, env: { LC_ALL: 'C', ...CHROOT_ENV, ...o.env } }),
  };
}

export interface LocalDriverOptions {
  name?: string;
  runner?: CommandRunner;
  services?: ServiceControl;
  commandTimeoutMs?: number;
}

/** This machine through apt/dpkg and systemd. Tests only check its command construction. */
export function createLocalDriver(options: LocalDriverOptions = {}): HostDriver {
  return createHostDriver({
    name: options.name ?? 'localhost',
    runner: options.runner ?? createLocalRunner(),
    target: { kind: 'system' },
    services: options.services ?? createSystemdServiceControl(),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
}


// ---- database safeguards (run on the controller, as PostgreSQL's client tools are) -------------

/**
 * The environment a PostgreSQL client needs for `db`'s password, read on this machine from what
 * the inventory names (an environment variable or a file); the password itself is never in a
 * message. Without a reference: nothing (the tools' own means, e.g. ~/.pgpass, apply).
 */
export async function databasePasswordEnv(db: DatabaseRef): Promise<{ ok: true; env: Record<string, string> } | { ok: false; message: string }> {
  const p = db.password;
  if (!p) return { ok: true, env: {} };
  if ('env' in p) {
    const v = process.env[p.env];
    if (v === undefined || v === '') return { ok: false, message: `the password of database ${db.name} is read from the environment variable ${p.env}, which is not set` };
    return { ok: true, env: { PGPASSWORD: v } };
  }
  try {
    const text = await readFile(p.file, 'utf8');
    const v = text.replace(/\r?\n$/, '');
    if (v === '' || v.includes('\n')) return { ok: false, message: `the password file of database ${db.name} (${p.file}) does not hold one line` };
    return { ok: true, env: { PGPASSWORD: v } };
  } catch (e) {
    return { ok: false, message: `cannot read the password file of database ${db.name} (${p.file}): ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}` };
  }
}

/** A database backup taken before a deployment's first migration on it. */
export interface DatabaseBackup {
  database: string;
  /** The dump (pg_dump's custom format) on this machine. */
  file: string;
  sha256: string;
  bytes: number;
}

/** What a database holds that a rollback must bring back: applied migrations (null: no migrations table) and its tables. */
export interface DatabaseState {
  applied: string[] | null;
  tables: string[];
}

type DbResult<T> = { ok: true; value: T } | { ok: false; message: string };

function connectionArgs(db: DatabaseRef): string[] {
  return ['-h', db.host, '-p', String(db.port), '-U', db.user];
}

function checkDatabase(db: DatabaseRef): string | undefined {
  try {
    validateDatabase(db);
    return undefined;
  } catch (e) {
    return isRollwiseError(e) ? e.message : String(e);
  }
}

function runFailure(what: string, r: RunResult): string {
  return `${what}: ${r.kind === 'exited' ? `exit ${r.exitCode}: ${combined(r)}` : r.reason}`;
}

async function sha256Of(file: string): Promise<{ sha256: string; bytes: number }> {
  const data = await readFile(file);
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

/** The applied migrations and the tables of a database, read with psql. */
export async function describeDatabase(db: DatabaseRef, runner: CommandRunner = createLocalRunner()): Promise<DbResult<DatabaseState>> {
  const bad = checkDatabase(db);
  if (bad) return { ok: false, message: bad };
  const pw = await databasePasswordEnv(db);
  if (!pw.ok) return pw;
  const table = db.table ?? 'schema_migrations';
  const psql = (sql: string): string[] => ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...connectionArgs(db), '-d', db.database, '-c', sql];
  const env = { LC_ALL: 'C', ...pw.env };
  const t = await runner.run(psql("SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"), { env, timeoutMs: 60_000 });
  if (t.kind !== 'exited' || t.exitCode !== 0) return { ok: false, message: runFailure(`reading the tables of ${db.name}`, t) };
  const tables = t.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const exists = await runner.run(psql(`SELECT to_regclass('${table}') IS NOT NULL`), { env, timeoutMs: 60_000 });
  if (exists.kind !== 'exited' || exists.exitCode !== 0) return { ok: false, message: runFailure(`reading the migrations table of ${db.name}`, exists) };
  if (exists.stdout.trim() !== 't') return { ok: true, value: { applied: null, tables } };
  const a = await runner.run(psql(`SELECT version FROM ${table} ORDER BY version`), { env, timeoutMs: 60_000 });
  if (a.kind !== 'exited' || a.exitCode !== 0) return { ok: false, message: runFailure(`reading the migrations table of ${db.name}`, a) };
  return { ok: true, value: { applied: a.stdout.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).sort(), tables } };
}

/**
 * Backs a database up with pg_dump (custom format) to `file` on this machine (its folder made
 * private), and records the dump's sha256. A failed or empty dump is an error, never a backup.
 */
export async function backupDatabase(db: DatabaseRef, file: string, runner: CommandRunner = createLocalRunner()): Promise<DbResult<DatabaseBackup>> {
  const bad = checkDatabase(db);
  if (bad) return { ok: false, message: bad };
  const pw = await databasePasswordEnv(db);
  if (!pw.ok) return pw;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    return { ok: false, message: `cannot make the backup folder ${dirname(file)}: ${(e as NodeJS.ErrnoException).code ?? 'unwritable'}` };
  }
  const argv = ['pg_dump', '--format=custom', ...connectionArgs(db), '-f', file, '-d', db.database];
  const r = await runner.run(argv, { env: { LC_ALL: 'C', ...pw.env } });
  if (r.kind !== 'exited' || r.exitCode !== 0) return { ok: false, message: runFailure(`pg_dump of ${db.name}`, r) };
  try {
    await chmod(file, 0o600);
    const sum = await sha256Of(file);
    if (sum.bytes === 0) return { ok: false, message: `pg_dump of ${db.name} wrote an empty file` };
    return { ok: true, value: { database: db.name, file, ...sum } };
  } catch (e) {
    return { ok: false, message: `cannot read the backup ${file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}` };
  }
}

/**
 * Restores a database from a backup with pg_restore --clean (objects of the dump dropped and made
 * again, in one transaction), after checking the dump is the one recorded (sha256). Tables made
 * after the backup are not in the dump: those named in `dropTables` (`schema.table`, as
 * describeDatabase lists them) are dropped first, in their own transaction (a foreign key of
 * theirs would stop the dump's tables from being dropped); the caller compares the tables after.
 */
export async function restoreDatabase(db: DatabaseRef, backup: Pick<DatabaseBackup, 'file' | 'sha256'>, runner: CommandRunner = createLocalRunner(), options: { dropTables?: readonly string[] } = {}): Promise<DbResult<{ output: string }>> {
  const bad = checkDatabase(db);
  if (bad) return { ok: false, message: bad };
  let sum: { sha256: string };
  try {
    sum = await sha256Of(backup.file);
  } catch (e) {
    return { ok: false, message: `cannot read the backup ${backup.file}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}` };
  }
  if (sum.sha256 !== backup.sha256) return { ok: false, message: `the backup ${backup.file} is not the one taken (sha256 ${sum.sha256}, recorded ${backup.sha256}): not restored` };
  const pw = await databasePasswordEnv(db);
  if (!pw.ok) return pw;
  const drop = options.dropTables ?? [];
  let output = '';
  if (drop.length > 0) {
    const ident = (t: string): string => t.split('.').map((x) => `"${x.replace(/"/g, '""')}"`).join('.');
    const argv = ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', ...connectionArgs(db), '-d', db.database, '-f', '-'];
    const r = await runner.run(argv, { input: `DROP TABLE IF EXISTS ${drop.map(ident).join(', ')} CASCADE;\n`, env: { LC_ALL: 'C', ...pw.env } });
    if (r.kind !== 'exited' || r.exitCode !== 0) return { ok: false, message: runFailure(`dropping the tables made since the backup of ${db.name} (${drop.join(', ')})`, r) };
    output = `dropped ${drop.join(', ')} (made since the backup)\n`;
  }
  const argv = ['pg_restore', '--clean', '--if-exists', '--single-transaction', '--exit-on-error', ...connectionArgs(db), '-d', db.database, backup.file];
  const r = await runner.run(argv, { env: { LC_ALL: 'C', ...pw.env } });
  if (r.kind !== 'exited' || r.exitCode !== 0) return { ok: false, message: runFailure(`pg_restore of ${db.name}`, r) };
  return { ok: true, value: { output: output + combined(r) } };
}
