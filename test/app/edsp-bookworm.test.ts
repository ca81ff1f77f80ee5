/**
 * `apt-get -s --solver rollwise` with the real bookworm main index as the host's list (a whole
 * archive scenario: 63,440 package stanzas through EDSP), on an empty host and on a base system
 * (the required/important set), compared with apt's internal solver on the same requests: apt
 * accepts the answer, the installed set passes the independent checker, and it is never worse by
 * removals, then changes; `apt-get upgrade` and `dist-upgrade` of the base system with
 * bookworm-security as a second list make the same upgrades as apt's own solver. (aspcud through apt-cudf takes many minutes on the whole archive here;
 * it is compared on the small repository in edsp-apt.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackageRecord } from '../../src/kb/index.js';
import { BOOKWORM_XZ, createAptRoot, ensureBaseStatus, type AptRoot } from '../helpers/peers.js';
import { runCli } from '../helpers/cli.js';
import { checkInstalledSet } from '../solver/peers/checker.js';
import { loadIndexRecords, type LoadedIndex } from '../solver/peers/fixture.js';

interface Step { action: 'install' | 'upgrade' | 'remove'; name: string; from?: string; to?: string }
interface Sim { status: number; steps: Step[]; output: string }

let index: LoadedIndex;
let work: string;
let solvers: string;
let emptyRoot: AptRoot;
let baseRoot: AptRoot;
let baseNames: string[];
let securityRoot: AptRoot;

beforeAll(async () => {
  index = loadIndexRecords();
  baseNames = (await ensureBaseStatus(index.file)).names;
  work = mkdtempSync(join(tmpdir(), 'rw-edsp-bookworm-'));
  emptyRoot = createAptRoot(index.file, '', { parent: work });
  baseRoot = createAptRoot(index.file, (await ensureBaseStatus(index.file)).status, { parent: work });
  // the base system with bookworm-security as a second list: `apt-get upgrade` has real updates to make
  securityRoot = createAptRoot(index.file, (await ensureBaseStatus(index.file)).status, { parent: work });
  const xz = spawnSync('xz', ['-dc', join(dirname(BOOKWORM_XZ), 'bookworm-security-main-amd64.Packages.xz')], { maxBuffer: 256 * 1024 * 1024 });
  if (xz.status !== 0) throw new Error(`cannot decompress bookworm-security (apt-get install xz-utils): ${xz.stderr?.toString() ?? ''}`);
  const security = join(work, 'security.Packages');
  writeFileSync(security, xz.stdout);
  appendFileSync(join(securityRoot.dir, 'etc/apt/sources.list'), 'deb [trusted=yes] file:/rollwise-peer/security bookworm-security main\n');
  symlinkSync(security, join(securityRoot.dir, 'var/lib/apt/lists/_rollwise-peer_security_dists_bookworm-security_main_binary-amd64_Packages'));
  solvers = join(work, 'solvers');
  const placed = runCli(['edsp', 'install', '--dir', solvers]);
  expect(placed.status, placed.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function simulate(root: AptRoot, args: string[], solver?: string): Sim {
  const argv = ['-s', '-q', '-o', `Dir=${root.dir}/`, '-o', `DPkg::Options::=--root=${root.dir}`, '-o', `Dir::Bin::Solvers=${solvers}`, '-o', 'APT::Get::Assume-Yes=true', '--no-install-recommends'];
  if (solver) argv.push('--solver', solver);
  argv.push(...args);
  const r = spawnSync('apt-get', argv, { encoding: 'utf8', env: { ...process.env, APT_CONFIG: root.config, LC_ALL: 'C', ROLLWISE_DIST_CHECKED: '1', TMPDIR: work }, timeout: 500_000, maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout}\n${r.stderr}`;
  const steps: Step[] = [];
  for (const line of output.split('\n')) {
    let m = /^Inst (\S+) (?:\[(\S+)\] )?\((\S+) /.exec(line);
    if (m) {
      steps.push(m[2] === undefined ? { action: 'install', name: m[1]!.replace(/:amd64$/, ''), to: m[3]! } : { action: 'upgrade', name: m[1]!.replace(/:amd64$/, ''), from: m[2], to: m[3]! });
      continue;
    }
    m = /^Remv (\S+) \[(\S+)\]/.exec(line);
    if (m) steps.push({ action: 'remove', name: m[1]!.replace(/:amd64$/, ''), from: m[2]! });
  }
  return { status: r.status ?? -1, steps, output };
}

function after(sim: Sim, before: readonly string[]): PackageRecord[] {
  const v = new Map<string, string>();
  for (const n of before) v.set(n, index.byName.get(n)![0]!.version);
  for (const s of sim.steps) {
    if (s.action === 'remove') v.delete(s.name);
    else v.set(s.name, s.to!);
  }
  return [...v].map(([n, ver]) => index.byName.get(n)!.find((r) => r.version === ver)!);
}

const cost = (s: Sim): [number, number] => [s.steps.filter((x) => x.action === 'remove').length, s.steps.length];

const cases: Array<{ title: string; on: 'empty' | 'base'; args: string[]; impossible?: boolean }> = [
  { title: 'install hello on an empty host', on: 'empty', args: ['install', 'hello'] },
  { title: 'install openssh-server on an empty host', on: 'empty', args: ['install', 'openssh-server'] },
  { title: 'install postfix on the base system', on: 'base', args: ['install', 'postfix'] },
  { title: 'remove cron from the base system', on: 'base', args: ['remove', 'cron'] },
  { title: 'impossible: postfix and exim4-daemon-heavy together', on: 'empty', args: ['install', 'postfix', 'exim4-daemon-heavy'], impossible: true },
];

describe('apt-get --solver rollwise over the whole bookworm archive', () => {
  it('upgrade and dist-upgrade of the base system with bookworm-security: the same upgrades as apt', () => {
    for (const command of ['upgrade', 'dist-upgrade']) {
      const internal = simulate(securityRoot, [command]);
      const ours = simulate(securityRoot, [command], 'rollwise');
      // apt -s also lists reinstalls of a few installed versions here (`Inst adduser [3.134] (3.134 ...)`): not upgrades
      const upgrades = (s: Sim): string[] => s.steps.filter((x) => x.action === 'upgrade' && x.from !== x.to).map((x) => `${x.name} ${x.to}`).sort();
      console.log(`${command} with bookworm-security: internal ${upgrades(internal).length} upgrades, ${cost(internal)[0]} removals; rollwise ${upgrades(ours).length} upgrades, ${cost(ours)[0]} removals`);
      expect(internal.status).toBe(0);
      expect(ours.status, ours.output.slice(-3000)).toBe(0);
      expect(upgrades(internal).length).toBeGreaterThan(0);
      expect(cost(ours)[0]).toBe(0);
      expect(upgrades(ours)).toEqual(upgrades(internal));
    }
  }, 600_000);

  for (const c of cases) {
    it(c.title, () => {
      const root = c.on === 'empty' ? emptyRoot : baseRoot;
      const before = c.on === 'empty' ? [] : baseNames;
      const internal = simulate(root, c.args);
      const ours = simulate(root, c.args, 'rollwise');
      console.log(`${c.title}: internal ${internal.status === 0 ? `${cost(internal)[0]} removals, ${cost(internal)[1]} changes` : 'fails'}; rollwise ${ours.status === 0 ? `${cost(ours)[0]} removals, ${cost(ours)[1]} changes` : 'fails'}`);
      if (c.impossible) {
        expect(internal.status).not.toBe(0);
        expect(ours.status).not.toBe(0);
        expect(ours.output).toContain('Rollwise: the request has no solution');
        expect(ours.output).toMatch(/conflicts with mail-transport-agent/);
        expect(ours.output).toMatch(/Resolutions \(each solved again\):\n1\. skip install/);
        return;
      }
      expect(ours.status, ours.output.slice(-3000)).toBe(0);
      expect(internal.status).toBe(0);
      const set = after(ours, before);
      expect(checkInstalledSet(set)).toEqual([]);
      const names = new Set(set.map((r) => r.name));
      if (c.args[0] === 'install') for (const n of c.args.slice(1)) expect(names.has(n)).toBe(true);
      else for (const n of c.args.slice(1)) expect(names.has(n)).toBe(false);
      const [a, b] = [cost(ours), cost(internal)];
      expect(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `rollwise ${a} vs internal ${b}`).toBe(true);
    }, 600_000);
  }
});
