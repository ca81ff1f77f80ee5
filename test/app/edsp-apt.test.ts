/**
 * apt drives Rollwise as its external solver (EDSP 0.5): real apt-get -s on a directory-root
 * host whose list is a small local repository of synthetic .debs (test/lab/repo.ts), with
 * `--solver rollwise` (placed by `rollwise edsp install --dir`), compared on the same requests
 * with apt's internal solver and with `--solver aspcud` (apt-cudf + aspcud): apt accepts our
 * answer, the installed set after it passes the independent checker, and it is never worse by
 * removals, then changes (upgrades: removals, then packages left not up to date). An impossible
 * request shows our explanation in apt's output. Then the CUDF route: apt → EDSP → apt-cudf →
 * CUDF → `rollwise cudf`, registered as an apt-cudf solver through CUDFSOLVERS (a folder of the
 * test's own; nothing under /usr is written), gives the same answers as aspcud.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDebianPackages, type PackageRecord } from '../../src/kb/index.js';
import { compareDebian } from '../../src/versions/index.js';
import { createRepository } from '../lab/repo.js';
import { requireTool } from '../lab/process.js';
import { createAptRoot, splitStanzas, stanzaField, statusFromStanzas, type AptRoot } from '../helpers/peers.js';
import { checkInstalledSet } from '../solver/peers/checker.js';
import { CLI_ENTRY, runCli } from '../helpers/cli.js';

interface Step { action: 'install' | 'upgrade' | 'downgrade' | 'remove'; name: string; from?: string; to?: string }
interface Sim { status: number; steps: Step[]; output: string }

type Command = { args: string[]; kind: 'install' | 'remove' | 'upgrade' };
interface Case { title: string; command: Command; impossible?: boolean }

const cases: Case[] = [
  { title: 'install a package whose dependency needs an upgrade', command: { kind: 'install', args: ['install', 'app'] } },
  { title: 'install a package with alternatives (a | b)', command: { kind: 'install', args: ['install', 'web'] } },
  { title: 'install a mail server that conflicts with the installed one', command: { kind: 'install', args: ['install', 'postfix-lite'] } },
  { title: 'install an installed package that has a newer candidate', command: { kind: 'install', args: ['install', 'tool'] } },
  { title: 'install two packages at once', command: { kind: 'install', args: ['install', 'app', 'web'] } },
  { title: 'install a virtual package with one provider', command: { kind: 'install', args: ['install', 'viewer'] } },
  { title: 'remove a library an installed package depends on', command: { kind: 'remove', args: ['remove', 'lib1'] } },
  { title: 'upgrade', command: { kind: 'upgrade', args: ['upgrade'] } },
  { title: 'dist-upgrade', command: { kind: 'upgrade', args: ['dist-upgrade'] } },
  { title: 'install a package pinned to its older version (strict pinning)', command: { kind: 'install', args: ['install', 'pinned'] } },
  { title: 'impossible: a dependency nobody provides', command: { kind: 'install', args: ['install', 'broken'] }, impossible: true },
  { title: 'impossible: a version the archive does not have', command: { kind: 'install', args: ['install', 'needs-new-lib'] }, impossible: true },
];

let work: string;
let root: AptRoot;
let solvers: string;
let cudfSolvers: string;
let records: PackageRecord[];
let installedNames: string[];

beforeAll(async () => {
  for (const t of ['apt-get', 'apt-ftparchive', 'dpkg-deb']) requireTool(t);
  if (!existsSync('/usr/bin/apt-cudf')) throw new Error('apt-cudf is missing: apt-get install apt-cudf aspcud');
  if (!existsSync('/usr/bin/aspcud')) throw new Error('aspcud is missing: apt-get install aspcud');
  work = mkdtempSync(join(tmpdir(), 'rw-edsp-'));
  const repo = await createRepository(join(work, 'repo'), [
    { name: 'base-tools', version: '1.0' },
    { name: 'lib1', version: '1.0' },
    { name: 'lib1', version: '2.0' },
    { name: 'old-app', version: '1.0', depends: 'lib1' },
    { name: 'app', version: '1.0', depends: 'lib1 (>= 2.0)' },
    { name: 'nginx-lite', version: '1.0', provides: 'httpd' },
    { name: 'apache-lite', version: '1.0', provides: 'httpd', depends: 'lib1 (>= 2.0)' },
    { name: 'web', version: '1.0', depends: 'nginx-lite | apache-lite' },
    { name: 'exim-lite', version: '1.0', provides: 'mail-transport-agent', conflicts: 'mail-transport-agent' },
    { name: 'postfix-lite', version: '1.0', provides: 'mail-transport-agent', conflicts: 'mail-transport-agent' },
    { name: 'tool', version: '1.0' },
    { name: 'tool', version: '1.1' },
    { name: 'pdf-reader', version: '1.0', provides: 'viewer' },
    { name: 'pinned', version: '1.0' },
    { name: 'pinned', version: '2.0' },
    { name: 'broken', version: '1.0', depends: 'no-such-package' },
    { name: 'needs-new-lib', version: '1.0', depends: 'lib1 (>= 3.0)' },
  ].map((s) => ({ ...s, scripts: false })));
  const index = join(repo.dir, 'Packages');
  records = parseDebianPackages(readFileSync(index), index).records;
  installedNames = ['base-tools', 'lib1', 'old-app', 'exim-lite', 'tool'];
  const stanzas = splitStanzas(readFileSync(index, 'utf8')).filter((s) => {
    const n = stanzaField(s, 'Package')!;
    return installedNames.includes(n) && stanzaField(s, 'Version') === '1.0';
  });
  root = createAptRoot(index, statusFromStanzas(stanzas), { parent: work });
  writeFileSync(join(root.dir, 'etc/apt/preferences.d/pinned'), 'Package: pinned\nPin: version 1.0\nPin-Priority: 900\n');
  // the solvers apt may run: ours, placed by the command a user runs, and apt-cudf under two names
  // (apt-cudf finds CUDF solvers by a specification file; CUDFSOLVERS points it at the test's folder)
  solvers = join(work, 'solvers');
  cudfSolvers = join(work, 'cudf-solvers');
  const placed = runCli(['edsp', 'install', '--dir', solvers, '--cudf', cudfSolvers]);
  expect(placed.stderr).toBe('');
  expect(placed.status).toBe(0);
  expect(placed.stdout.trim().split('\n')).toEqual([join(solvers, 'rollwise'), join(solvers, 'rollwise-cudf'), join(cudfSolvers, 'rollwise-cudf')]);
  expect(readlinkSync(join(solvers, 'rollwise-cudf'))).toBe('/usr/bin/apt-cudf');
  expect(readFileSync(join(cudfSolvers, 'rollwise-cudf'), 'utf8')).toContain(`exec: ${process.execPath} ${CLI_ENTRY} cudf --criteria $pref $in $out`);
  symlinkSync('/usr/bin/apt-cudf', join(solvers, 'aspcud'));
  copyFileSync('/usr/share/cudf/solvers/aspcud', join(cudfSolvers, 'aspcud'));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function simulate(args: string[], solver: string | undefined, solverDir = solvers): Sim {
  if (!existsSync(root.config)) throw new Error('apt config missing: refusing to run apt with the machine configuration');
  const argv = ['-s', '-q', '-o', `Dir=${root.dir}/`, '-o', `DPkg::Options::=--root=${root.dir}`, '-o', `Dir::Bin::Solvers=${solverDir}`, '-o', 'APT::Get::Assume-Yes=true', '--no-install-recommends'];
  if (solver) argv.push('--solver', solver);
  argv.push(...args);
  const r = spawnSync('apt-get', argv, {
    encoding: 'utf8',
    // TMPDIR: apt-cudf leaves its universe files there; the test's folder goes at the end
    env: { ...process.env, APT_CONFIG: root.config, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C', CUDFSOLVERS: cudfSolvers, ROLLWISE_DIST_CHECKED: '1', TMPDIR: work },
    timeout: 240_000,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  const steps: Step[] = [];
  for (const line of output.split('\n')) {
    let m = /^Inst (\S+) (?:\[(\S+)\] )?\((\S+) /.exec(line);
    if (m) {
      const name = m[1]!.replace(/:\w+$/, '');
      if (m[2] === undefined) steps.push({ action: 'install', name, to: m[3]! });
      else steps.push({ action: compareDebian(m[3]!, m[2]) > 0 ? 'upgrade' : 'downgrade', name, from: m[2], to: m[3]! });
      continue;
    }
    m = /^Remv (\S+) \[(\S+)\]/.exec(line);
    if (m) steps.push({ action: 'remove', name: m[1]!.replace(/:\w+$/, ''), from: m[2]! });
  }
  steps.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { status: r.status ?? -1, steps, output };
}

function after(sim: Sim): PackageRecord[] {
  const v = new Map<string, string>(installedNames.map((n) => [n, '1.0']));
  for (const s of sim.steps) {
    if (s.action === 'remove') v.delete(s.name);
    else v.set(s.name, s.to!);
  }
  return [...v].map(([n, ver]) => {
    const r = records.find((x) => x.name === n && x.version === ver);
    if (!r) throw new Error(`no record of ${n} ${ver}`);
    return r;
  });
}

/** Lexicographic cost: install/remove by (removals, changes); upgrades by (removals, names left not up to date). */
function cost(sim: Sim, kind: Command['kind']): [number, number] {
  const removed = sim.steps.filter((s) => s.action === 'remove').length;
  if (kind !== 'upgrade') return [removed, sim.steps.length];
  const newest = (n: string): string => records.filter((r) => r.name === n).map((r) => r.version).sort(compareDebian).pop()!;
  const stale = after(sim).filter((r) => r.name !== 'pinned' && r.version !== newest(r.name)).length;
  return [removed, stale];
}

const noWorse = (a: [number, number], b: [number, number]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);

describe('apt-get --solver rollwise (EDSP 0.5) on a directory-root host', () => {
  it('`rollwise edsp install --dir` wrote an executable solver that runs this program', () => {
    const shim = join(solvers, 'rollwise');
    expect(statSync(shim).mode & 0o111).not.toBe(0);
    const text = readFileSync(shim, 'utf8');
    expect(text).toContain(`'${process.execPath}'`);
    expect(text).toContain(`'${CLI_ENTRY}' edsp`);
  });

  it('`rollwise edsp install --root DIR` places DIR/usr/lib/apt/solvers/rollwise, and apt runs it from there', () => {
    const other = join(work, 'other-root');
    mkdirSync(other);
    const r = runCli(['edsp', 'install', '--root', other]);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(other, 'usr/lib/apt/solvers');
    expect(r.stdout.trim()).toBe(join(dir, 'rollwise'));
    const sim = simulate(['install', 'app'], 'rollwise', dir);
    expect(sim.status, sim.output).toBe(0);
    expect(sim.steps.map((s) => `${s.action} ${s.name} ${s.to}`)).toEqual(['install app 1.0', 'upgrade lib1 2.0']);
    const bad = runCli(['edsp', 'install']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/RW_USAGE: edsp install needs exactly one of --root DIR or --dir DIR/);
    // the CUDF route under a root: apt-cudf's specification in ROOT/usr/share/cudf/solvers
    const withCudf = runCli(['edsp', 'install', '--root', other, '--cudf']);
    expect(withCudf.status, withCudf.stderr).toBe(0);
    expect(withCudf.stdout.trim().split('\n')).toEqual([join(dir, 'rollwise'), join(dir, 'rollwise-cudf'), join(other, 'usr/share/cudf/solvers/rollwise-cudf')]);
    const typo = runCli(['edsp', 'install', '--root', join(work, 'no-such-root')]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/RW_USAGE: the root .*no-such-root does not exist or is not a directory/);
    expect(existsSync(join(work, 'no-such-root'))).toBe(false);
    const noFolder = runCli(['edsp', 'install', '--dir', join(work, 'x'), '--cudf']);
    expect(noFolder.status).toBe(2);
    expect(noFolder.stderr).toMatch(/RW_USAGE: --cudf needs a folder with --dir/);
    expect(existsSync(join(work, 'x'))).toBe(false);
  });

  for (const c of cases) {
    it(c.title, () => {
      const internal = simulate(c.command.args, undefined);
      const ours = simulate(c.command.args, 'rollwise');
      const aspcud = simulate(c.command.args, 'aspcud');
      const line = (s: Sim): string => (s.status === 0 ? s.steps.map((x) => `${x.action} ${x.name}${x.to ? ` ${x.to}` : ''}`).join(', ') || 'nothing' : 'fails');
      console.log(`${c.title}: internal [${line(internal)}] rollwise [${line(ours)}] aspcud [${line(aspcud)}]`);
      if (c.impossible) {
        expect(internal.status).not.toBe(0);
        expect(aspcud.status).not.toBe(0);
        expect(ours.status, ours.output).not.toBe(0);
        // apt shows our Error stanza: the explanation names the package and what is missing
        expect(ours.output).toContain('Rollwise: the request has no solution');
        expect(ours.output).toMatch(/broken|needs-new-lib/);
        return;
      }
      expect(ours.status, ours.output).toBe(0);
      expect(ours.output).not.toMatch(/^E: /m);
      expect(checkInstalledSet(after(ours))).toEqual([]);
      const target = c.command.kind === 'install' ? c.command.args.slice(1) : [];
      const names = new Set(after(ours).map((r) => r.name));
      for (const t of target) expect([...names].some((n) => n === t || records.some((r) => r.name === n && r.provides.some((p) => p.name === t)))).toBe(true);
      if (c.command.kind === 'remove') for (const t of c.command.args.slice(1)) expect(names.has(t)).toBe(false);
      // strict pinning: the pinned-down version, as apt's candidate says
      if (target.includes('pinned')) expect(ours.steps.find((s) => s.name === 'pinned')?.to).toBe('1.0');
      for (const peer of [internal, aspcud]) {
        if (peer.status !== 0) continue;
        expect(noWorse(cost(ours, c.command.kind), cost(peer, c.command.kind)), `rollwise ${line(ours)} vs ${line(peer)}`).toBe(true);
      }
      expect(internal.status).toBe(0);
    }, 300_000);
  }
});

describe('apt → EDSP → apt-cudf → CUDF → rollwise cudf', () => {
  for (const c of cases) {
    it(`${c.title}: same answer as aspcud`, () => {
      const aspcud = simulate(c.command.args, 'aspcud');
      const ours = simulate(c.command.args, 'rollwise-cudf');
      expect(ours.status === 0, ours.output).toBe(aspcud.status === 0);
      if (aspcud.status !== 0) return;
      expect(ours.output).not.toMatch(/^E: /m);
      expect(checkInstalledSet(after(ours))).toEqual([]);
      // the optimum of apt-cudf's criteria for this request; where several sets tie, equal cost
      expect(cost(ours, c.command.kind)).toEqual(cost(aspcud, c.command.kind));
      if (!c.command.args.includes('web')) expect(ours.steps).toEqual(aspcud.steps);
    }, 300_000);
  }
});
