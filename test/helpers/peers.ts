/**
 * Wrappers around the resolver's peers from the Debian world, for the peer tests
 * (test/solver/peers/) and the benchmark (bench/solver.ts):
 *
 * - dose-distcheck (package dose-distcheck) on a Packages file → its non-installable set;
 * - libsolv's installcheck (libsolv-tools) on a Packages file → its non-installable set;
 * - apt-get -s on a directory root whose list is the index (apt) → the transaction it picks;
 * - mccs (mccs), aspcud (aspcud) on CUDF documents, cudf-check (cudf-tools) on a solution.
 *
 * Every tool runs from an argument array (never a shell line) under a timeout, through
 * /usr/bin/time (package `time`) so wall time and peak memory (max RSS) are measured the same
 * way for every peer. A missing tool is an Error naming the Debian package to install
 * (scripts/install-test-deps.sh installs them all).
 *
 * Big derived inputs (the decompressed bookworm index, the broken archive, dose's output) are
 * cached under `.bench-cache/peers/` (gitignored), keyed by the input's sha256.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { PackageChange } from '../../src/solver/index.js';
import { repoRoot } from './cli.js';

export const BOOKWORM_XZ = join(repoRoot, '..', 'shared', 'data', 'debian', 'bookworm-main-amd64.Packages.xz');
export const CACHE_DIR = join(repoRoot, '.bench-cache', 'peers');

/** Widely used, non-Essential libraries whose deletion breaks thousands of packages (8,325 per dose-distcheck). */
export const BROKEN_ARCHIVE_DELETIONS = ['libgtk-3-0', 'libqt5core5a', 'libcurl4'] as const;

// ---- tools ---------------------------------------------------------------------------------

/** Peer binaries and the Debian package that ships each. */
export const PEER_TOOLS = {
  'dose-distcheck': { path: '/usr/bin/dose-distcheck', debian: 'dose-distcheck' },
  installcheck: { path: '/usr/bin/installcheck', debian: 'libsolv-tools' },
  'apt-get': { path: '/usr/bin/apt-get', debian: 'apt' },
  mccs: { path: '/usr/bin/mccs', debian: 'mccs' },
  aspcud: { path: '/usr/bin/aspcud', debian: 'aspcud' },
  'cudf-check': { path: '/usr/bin/cudf-check', debian: 'cudf-tools' },
  time: { path: '/usr/bin/time', debian: 'time' },
  xz: { path: '/usr/bin/xz', debian: 'xz-utils' },
  python3: { path: '/usr/bin/python3', debian: 'python3' },
} as const;
export type PeerTool = keyof typeof PEER_TOOLS;

/** The absolute path of a peer tool; throws naming the Debian package when it is missing. */
export function requireTool(tool: PeerTool): string {
  const t = PEER_TOOLS[tool];
  if (!existsSync(t.path)) {
    throw new Error(`${tool} is not installed (${t.path} missing): apt-get install ${t.debian} (or run scripts/install-test-deps.sh)`);
  }
  return t.path;
}

/** python3-solv for Debian's /usr/bin/python3 (not a pyenv python3 on PATH). */
export function requirePythonSolv(): string {
  const py = requireTool('python3');
  try {
    execFileSync(py, ['-c', 'import solv'], { stdio: 'pipe', timeout: 20_000 });
  } catch {
    throw new Error('the python module solv is missing for /usr/bin/python3: apt-get install python3-solv');
  }
  return py;
}

export interface MeasuredRun {
  status: number;
  stdout: string;
  stderr: string;
  /** Wall time in ms (measured by node around the process). */
  wallMs: number;
  /** Peak resident set size in KiB (from /usr/bin/time), -1 when unknown. */
  peakKb: number;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Where to write stdout instead of keeping it in memory (large outputs). */
  stdoutFile?: string;
}

/**
 * Runs `file args...` under /usr/bin/time and `timeout` (both from argument arrays), measuring
 * wall time and peak memory. Never throws for a non-zero exit status: callers decide.
 */
export function runMeasured(file: string, args: readonly string[], options: RunOptions = {}): Promise<MeasuredRun> {
  const time = requireTool('time');
  const timeoutS = Math.max(1, Math.ceil((options.timeoutMs ?? 300_000) / 1000));
  const dir = mkdtempSync(join(tmpdir(), 'rw-peer-'));
  const timeFile = join(dir, 'time');
  const argv = ['-f', '%e %M', '-o', timeFile, '/usr/bin/timeout', '--kill-after=5', String(timeoutS), file, ...args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(time, argv, {
      cwd: options.cwd,
      env: { ...process.env, LC_ALL: 'C', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      let peakKb = -1;
      try {
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        const last = lines[lines.length - 1] ?? '';
        const m = /^([0-9.]+) ([0-9]+)$/.exec(last);
        if (m) peakKb = Number(m[2]);
      } catch {
        // /usr/bin/time writes nothing when killed
      }
      rmSync(dir, { recursive: true, force: true });
      const stdout = Buffer.concat(out);
      if (options.stdoutFile) writeFileSync(options.stdoutFile, stdout);
      const status = code ?? -1;
      resolve({
        status,
        stdout: options.stdoutFile ? '' : stdout.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        wallMs,
        peakKb,
        timedOut: status === 124 || status === 137,
      });
    });
    // a tool that exits without reading its input must not crash the caller with EPIPE
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

function describeRun(tool: string, r: MeasuredRun): string {
  return `${tool} exited ${r.status}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`;
}

// ---- inputs --------------------------------------------------------------------------------

export function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function writeAtomically(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** The bookworm index decompressed once into the cache (dose-distcheck and apt read plain files). */
export function ensureBookwormPackages(): string {
  if (!existsSync(BOOKWORM_XZ)) throw new Error(`missing ${BOOKWORM_XZ}: the shared Debian index (../shared/data/debian) is needed`);
  mkdirSync(CACHE_DIR, { recursive: true });
  const sum = createHash('sha256').update(readFileSync(BOOKWORM_XZ)).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, `bookworm-${sum}.Packages`);
  if (!existsSync(out)) {
    const plain = execFileSync(requireTool('xz'), ['-dc', BOOKWORM_XZ], { maxBuffer: 512 * 1024 * 1024 });
    writeAtomically(out, plain);
  }
  return out;
}

/** Splits a Packages file into stanzas (text without the separating blank lines). */
export function splitStanzas(text: string): string[] {
  return text.split(/\n\s*\n/).filter((s) => s.trim().length > 0);
}

export function stanzaField(stanza: string, field: string): string | undefined {
  const re = new RegExp(`^${field}:[ \\t]*(.*(?:\\n[ \\t].*)*)`, 'mi');
  const m = re.exec(stanza);
  return m ? m[1]!.replace(/\n[ \t]+/g, ' ').trim() : undefined;
}

/** A copy of a Packages file without the stanzas of the given package names (cached by input hash + names). */
export function ensureIndexWithout(packagesFile: string, names: readonly string[]): string {
  const key = createHash('sha256').update(sha256OfFile(packagesFile)).update(names.join(',')).digest('hex').slice(0, 16);
  const out = join(CACHE_DIR, `without-${key}.Packages`);
  if (!existsSync(out)) {
    const drop = new Set(names);
    const kept = splitStanzas(readFileSync(packagesFile, 'utf8')).filter((s) => !drop.has(stanzaField(s, 'Package') ?? ''));
    writeAtomically(out, `${kept.join('\n\n')}\n`);
  }
  return out;
}

export interface PackageId {
  package: string;
  version: string;
  architecture: string;
}

export const keyOfId = (p: PackageId): string => `${p.package} ${p.version} ${p.architecture}`;

// ---- dose-distcheck ------------------------------------------------------------------------

export interface DoseReport {
  broken: PackageId[];
  total: number;
  run: MeasuredRun;
}

/**
 * dose-distcheck on a plain Packages file, amd64 native: the non-installable package versions
 * (Essential packages installed with each package checked, dose's default).
 */
export async function runDoseDistcheck(packagesFile: string, options: { timeoutMs?: number } = {}): Promise<DoseReport> {
  const dose = requireTool('dose-distcheck');
  const r = await runMeasured(dose, ['--deb-native-arch=amd64', '-f', `deb://${packagesFile}`], { timeoutMs: options.timeoutMs ?? 600_000 });
  // dose exits 0 when everything installs, 1 when something is broken, more on errors
  if (r.status !== 0 && r.status !== 1) throw new Error(describeRun('dose-distcheck', r));
  return { ...parseDoseReport(r.stdout), run: r };
}

/** dose's YAML report, every scalar read as a string (a version such as 1.20 is not the number 1.2). */
export function parseDoseReport(text: string): { broken: PackageId[]; total: number } {
  const doc = parseYaml(text, { schema: 'failsafe' }) as { report?: Array<Record<string, string>>; 'total-packages'?: string } | null;
  const broken = (doc?.report ?? [])
    .filter((e) => e.status === 'broken')
    .map((e) => ({ package: String(e.package), version: String(e.version), architecture: String(e.architecture) }));
  return { broken, total: Number(doc?.['total-packages'] ?? 0) };
}

/** dose-distcheck's report for a Packages file, run once and its output cached by the file's sha256. */
export async function cachedDoseDistcheck(packagesFile: string): Promise<{ broken: PackageId[]; total: number; wallMs: number; peakKb: number; cached: boolean }> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const base = join(CACHE_DIR, `dose-${sha256OfFile(packagesFile).slice(0, 16)}`);
  if (existsSync(`${base}.yaml`) && existsSync(`${base}.json`)) {
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { wallMs: number; peakKb: number };
    return { ...parseDoseReport(readFileSync(`${base}.yaml`, 'utf8')), ...meta, cached: true };
  }
  const r = await runDoseDistcheck(packagesFile);
  writeAtomically(`${base}.yaml`, r.run.stdout);
  writeAtomically(`${base}.json`, JSON.stringify({ wallMs: r.run.wallMs, peakKb: r.run.peakKb }));
  return { broken: r.broken, total: r.total, wallMs: r.run.wallMs, peakKb: r.run.peakKb, cached: false };
}

// ---- libsolv installcheck ------------------------------------------------------------------

export interface InstallcheckReport {
  /** libsolv's names of the non-installable solvables: `name-version.arch` (epoch kept). */
  broken: string[];
  run: MeasuredRun;
}

/** libsolv's spelling of a package version, to compare with installcheck's output. */
export const solvableKey = (p: PackageId): string => `${p.package}-${p.version}.${p.architecture}`;

/** libsolv's installcheck on a plain Packages file (it reads Debian Packages directly). */
export async function runInstallcheck(packagesFile: string, options: { timeoutMs?: number; arch?: string } = {}): Promise<InstallcheckReport> {
  const ic = requireTool('installcheck');
  const r = await runMeasured(ic, [options.arch ?? 'amd64', packagesFile], { timeoutMs: options.timeoutMs ?? 600_000 });
  if (r.timedOut) return { broken: [], run: r };
  if (r.status !== 0 && r.status !== 1) throw new Error(describeRun('installcheck', r));
  const broken: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^can't install (.+):$/.exec(line);
    if (m) broken.push(m[1]!);
  }
  return { broken, run: r };
}

// ---- apt-get -s on a directory root --------------------------------------------------------

export interface AptRoot {
  dir: string;
  config: string;
  /** Removes the root (also call it after a failure). */
  dispose(): void;
}

/**
 * A throwaway apt root whose only list is `packagesFile` (linked as a list file), with the given
 * dpkg status text (empty: nothing installed). apt reads its configuration only from
 * `APT_CONFIG` (Dir set first, so the machine's apt.conf.d is never loaded) and every command
 * repeats `-o Dir=ROOT/` as a guard; nothing is ever installed (only `-s`).
 */
export function createAptRoot(packagesFile: string, statusText = '', options: { parent?: string } = {}): AptRoot {
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), 'rw-apt-'));
  for (const d of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'etc/apt/trusted.gpg.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial', 'var/lib/dpkg/updates', 'var/lib/dpkg/info', 'var/log']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  writeFileSync(join(dir, 'var/lib/dpkg/status'), statusText);
  writeFileSync(join(dir, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/rollwise-peer/repo bookworm main\n');
  symlinkSync(packagesFile, join(dir, 'var/lib/apt/lists/_rollwise-peer_repo_dists_bookworm_main_binary-amd64_Packages'));
  const config = join(dir, 'apt.conf');
  writeFileSync(
    config,
    [
      `Dir "${dir}/";`,
      `Dir::State::status "${dir}/var/lib/dpkg/status";`,
      `Dir::Etc "${dir}/etc/apt/";`,
      `Dir::Cache "${dir}/var/cache/apt/";`,
      `Dir::State "${dir}/var/lib/apt/";`,
      `Dir::Log "${dir}/var/log/apt/";`,
      'APT::Architecture "amd64";',
      'APT::Architectures { "amd64"; };',
      'Debug::NoLocking "true";',
      'APT::Sandbox::User "root";',
      `DPkg::Options { "--root=${dir}"; "--log=${dir}/var/log/dpkg.log"; "--force-script-chrootless"; };`,
      '',
    ].join('\n'),
  );
  return { dir, config, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface AptSimulation {
  ok: boolean;
  /** apt's transaction: install and upgrade with `to` (and `from` when replacing), remove with `from`. */
  steps: PackageChange[];
  /** `E:` lines and broken-dependency lines when apt finds no solution. */
  errors: string[];
  run: MeasuredRun;
}

/**
 * `apt-get -s install|remove ...` in an apt root. `recommends` false adds
 * `--no-install-recommends`; removals are allowed only when `allowRemovals` (else `--no-remove`).
 */
export async function runAptSimulate(
  root: AptRoot,
  command: 'install' | 'remove',
  packages: readonly string[],
  options: { recommends?: boolean; allowRemovals?: boolean; timeoutMs?: number } = {},
): Promise<AptSimulation> {
  const apt = requireTool('apt-get');
  if (!existsSync(root.config)) throw new Error(`apt config ${root.config} is missing: refusing to run apt with the machine's own configuration`);
  for (const p of packages) {
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new Error(`not a Debian package name: '${p}'`);
  }
  const args = ['-s', '-q', '-o', `Dir=${root.dir}/`, '-o', `DPkg::Options::=--root=${root.dir}`, '-o', 'APT::Get::Assume-Yes=true'];
  if (options.recommends === false) args.push('--no-install-recommends');
  else args.push('-o', 'APT::Install-Recommends=true');
  if (!options.allowRemovals && command === 'install') args.push('--no-remove');
  args.push(command, ...packages);
  const r = await runMeasured(apt, args, { timeoutMs: options.timeoutMs ?? 300_000, env: { APT_CONFIG: root.config, DEBIAN_FRONTEND: 'noninteractive' } });
  const steps: PackageChange[] = [];
  const errors: string[] = [];
  for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) {
    let m = /^Inst (\S+) (?:\[(\S+)\] )?\((\S+) /.exec(line);
    if (m) {
      const name = m[1]!.replace(/:amd64$/, '');
      steps.push(m[2] === undefined ? { action: 'install', name, to: m[3]! } : { action: 'upgrade', name, from: m[2], to: m[3]! });
      continue;
    }
    m = /^Remv (\S+) \[(\S+)\]/.exec(line);
    if (m) {
      steps.push({ action: 'remove', name: m[1]!.replace(/:amd64$/, ''), from: m[2]! });
      continue;
    }
    if (/^E: /.test(line) || / : (Depends|Pre-Depends|Conflicts|Breaks): /.test(line)) errors.push(line.trim());
  }
  return { ok: r.status === 0, steps, errors, run: r };
}

/** A dpkg status text marking the given index stanzas installed. */
export function statusFromStanzas(stanzas: readonly string[]): string {
  return stanzas
    .map((s) => {
      const lines = s.split('\n').filter((l) => !/^(Filename|Size|MD5sum|SHA256|Description-md5|Tag):/i.test(l));
      return `${lines[0]}\nStatus: install ok installed\n${lines.slice(1).join('\n')}`;
    })
    .join('\n\n')
    .concat('\n');
}

/**
 * The base system of an archive: what apt installs for every `Priority: required` and
 * `Priority: important` package, on an empty root without Recommends. Returns the dpkg status
 * text of that set (cached under .bench-cache/peers by the index's sha256).
 */
export async function ensureBaseStatus(packagesFile: string): Promise<{ status: string; names: string[] }> {
  mkdirSync(CACHE_DIR, { recursive: true });
  const cache = join(CACHE_DIR, `base-${sha256OfFile(packagesFile).slice(0, 16)}.status`);
  const stanzas = splitStanzas(readFileSync(packagesFile, 'utf8'));
  if (!existsSync(cache)) {
    const wanted = stanzas.filter((s) => /^(required|important)$/.test(stanzaField(s, 'Priority') ?? '')).map((s) => stanzaField(s, 'Package')!);
    const root = createAptRoot(packagesFile);
    try {
      const sim = await runAptSimulate(root, 'install', [...new Set(wanted)], { recommends: false });
      if (!sim.ok) throw new Error(`apt-get could not install the required/important set: ${sim.errors.slice(0, 5).join(' | ')}`);
      const chosen = new Map(sim.steps.map((s) => [s.name, s.to]));
      const picked = stanzas.filter((s) => chosen.get(stanzaField(s, 'Package') ?? '') === stanzaField(s, 'Version'));
      writeAtomically(cache, statusFromStanzas(picked));
    } finally {
      root.dispose();
    }
  }
  const status = readFileSync(cache, 'utf8');
  const names = splitStanzas(status).map((s) => stanzaField(s, 'Package')!);
  return { status, names };
}

// ---- CUDF solvers --------------------------------------------------------------------------

export interface CudfSolverRun {
  /** The solution text, or undefined when the solver reports no solution (FAIL). */
  solution: string | undefined;
  run: MeasuredRun;
}

/** A CUDF criteria string in mccs' syntax (`-lex[-removed,-changed]`) from a list like `-removed,-changed`. */
export function mccsCriteria(list: string): string {
  const items = list.split(',').map((c) => {
    const m = /^([+-])(removed|changed|new|notuptodate|unmet_recommends)$/.exec(c.trim());
    if (!m) throw new Error(`unsupported criterion for mccs: '${c}'`);
    return m[2] === 'unmet_recommends' ? `${m[1]}nunsat[recommends:,true]` : `${m[1]}${m[2]}`;
  });
  return `-lex[${items.join(',')}]`;
}

export async function runMccs(problemFile: string, criteria: string, options: { timeoutMs?: number } = {}): Promise<CudfSolverRun> {
  const mccs = requireTool('mccs');
  const dir = mkdtempSync(join(tmpdir(), 'rw-mccs-'));
  try {
    const out = join(dir, 'solution');
    const r = await runMeasured(mccs, ['-i', problemFile, '-o', out, mccsCriteria(criteria)], { timeoutMs: options.timeoutMs ?? 300_000 });
    if (r.timedOut) throw new Error(describeRun('mccs', r));
    const text = existsSync(out) ? readFileSync(out, 'utf8') : r.stdout;
    if (/^FAIL/m.test(text)) return { solution: undefined, run: r };
    if (r.status !== 0 || !existsSync(out)) throw new Error(describeRun('mccs', r));
    return { solution: text, run: r };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** aspcud's criteria syntax: `-count(removed),-count(changed),-notuptodate(solution),...`. */
export function aspcudCriteria(list: string): string {
  return list
    .split(',')
    .map((c) => {
      const m = /^([+-])(removed|changed|new|notuptodate|unmet_recommends)$/.exec(c.trim());
      if (!m) throw new Error(`unsupported criterion for aspcud: '${c}'`);
      const name = m[2]!;
      const body = name === 'notuptodate' ? 'notuptodate(solution)' : name === 'unmet_recommends' ? 'unsat_recommends(solution)' : `count(${name})`;
      return `${m[1]}${body}`;
    })
    .join(',');
}

export async function runAspcud(problemFile: string, criteria: string, options: { timeoutMs?: number } = {}): Promise<CudfSolverRun> {
  const aspcud = requireTool('aspcud');
  const dir = mkdtempSync(join(tmpdir(), 'rw-aspcud-'));
  try {
    const out = join(dir, 'solution');
    const r = await runMeasured(aspcud, [problemFile, out, aspcudCriteria(criteria)], { timeoutMs: options.timeoutMs ?? 300_000, env: { TMPDIR: dir } });
    if (r.timedOut) throw new Error(describeRun('aspcud', r));
    const text = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (/^FAIL/m.test(text)) return { solution: undefined, run: r };
    if (r.status !== 0) throw new Error(describeRun('aspcud', r));
    return { solution: text, run: r };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CudfCheckResult {
  ok: boolean;
  output: string;
}

/** cudf-check -cudf PROBLEM -sol SOLUTION: validity of the solution for the problem. */
export async function runCudfCheck(problemFile: string, solutionText: string): Promise<CudfCheckResult> {
  const check = requireTool('cudf-check');
  const dir = mkdtempSync(join(tmpdir(), 'rw-cudfcheck-'));
  try {
    const sol = join(dir, 'solution.cudf');
    writeFileSync(sol, solutionText);
    const r = await runMeasured(check, ['-cudf', problemFile, '-sol', sol], { timeoutMs: 300_000 });
    const output = `${r.stdout}\n${r.stderr}`;
    // cudf-check prints "is_solution: true" for a valid solution (its exit status is also non-zero
    // when the problem's own installed state is inconsistent, which a solution may repair)
    if (r.timedOut || !/is_solution: (true|false)/.test(output)) throw new Error(describeRun('cudf-check', r));
    return { ok: /is_solution: true/.test(output), output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
