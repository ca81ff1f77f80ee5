/**
 * Multiarch end to end on a directory root with the real dpkg and apt: an amd64 root with i386
 * added (dpkg --add-architecture), a local repository holding a synthetic Multi-Arch: same
 * library in amd64 and i386, the amd64 one installed. The planner's resolver plans the install
 * of `libma1:i386` from the repository's index and the root's dpkg status; the directory-root
 * driver applies that step (the resolver's name `libma1:i386` becomes dpkg's libma1 + i386),
 * verifies it per architecture, and dpkg's status then holds both architectures at one version.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniverseBuilder, addDebianPackagesFast } from '../../src/universe/index.js';
import { parseStatusInstalled } from '../../src/fleet/index.js';
import { createFleetSolver, parseRequestItem, type Step } from '../../src/planner/index.js';
import { cachePreviousVersions, createDebCache, createDirectoryRootDriver, validateStep, type HostDriver } from '../../src/hosts/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { createLab, requireTool, runLabTool, type Lab } from '../lab/index.js';
import { recordMachineDpkg, type MachineDpkgRecord } from './machine-guard.js';

let lab: Lab;
let machine: MachineDpkgRecord;
let driver: HostDriver;
let root: string;

beforeAll(async () => {
  machine = recordMachineDpkg();
  lab = await createLab({
    hosts: 1,
    packages: [
      { name: 'libma1', version: '1.0', architecture: 'amd64', multiArch: 'same', scripts: false },
      { name: 'libma1', version: '1.0', architecture: 'i386', multiArch: 'same', scripts: false },
      { name: 'libma1', version: '0.9', architecture: 'i386', multiArch: 'same', scripts: false },
    ],
  });
  root = lab.hosts[0]!.root;
  const dpkg = requireTool('dpkg');
  const added = await runLabTool([dpkg, `--root=${root}`, '--add-architecture', 'i386']);
  if (added.code !== 0) throw new Error(`dpkg --add-architecture i386 on ${root}: ${added.stderr}`);
  driver = createDirectoryRootDriver({ root, name: lab.hosts[0]!.name, chrootlessScripts: lab.chrootlessScripts });
  const base = await driver.apply({ kind: 'packages', changes: [{ action: 'install', name: 'libma1', architecture: 'amd64', to: '1.0' }] });
  if (base.status !== 'succeeded') throw new Error(`installing libma1:amd64: ${JSON.stringify(base)}`);
}, 120_000);

afterAll(async () => {
  await lab?.destroy();
});

/** name:arch version status of every package dpkg knows on the root. */
async function dpkgState(): Promise<string[]> {
  const r = await runLabTool([requireTool('dpkg-query'), `--admindir=${root}/var/lib/dpkg`, '-W', '-f=${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.trim()).sort();
}

describe('multiarch on a directory root', () => {
  afterAll(() => {
    // the machine's own dpkg database and log were never touched
    expect(recordMachineDpkg()).toEqual(machine);
  });

  it('names a step change the resolver way or the dpkg way, and refuses a contradiction', () => {
    const step = (name: string, architecture?: string): Step => ({ kind: 'packages', changes: [{ action: 'install', name, ...(architecture ? { architecture } : {}), to: '1.0' }] });
    expect(() => validateStep(step('libma1:i386', 'i386'))).not.toThrow();
    expect(() => validateStep(step('libma1:i386'))).not.toThrow();
    expect(() => validateStep(step('libma1', 'i386'))).not.toThrow();
    for (const bad of [step('libma1:i386', 'amd64'), step('libma1:I386'), step('libma1:i386:i386', 'i386'), step(':i386')]) {
      let err: unknown;
      try { validateStep(bad); } catch (e) { err = e; }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(RollwiseError);
      expect((err as RollwiseError).code).toBe('RW_BAD_NAME');
    }
  });

  it('plans libma1:i386 beside the installed amd64 twin, applies it with apt-get, and dpkg has both at 1.0', async () => {
    expect(await dpkgState()).toEqual(['libma1:amd64 1.0 ii']);
    // the plan: the repository's index and the root's dpkg status, i386 enabled as on the root
    const index = path.join(lab.repository.dir, 'Packages');
    const b = new UniverseBuilder({ hostArch: 'amd64', foreignArchs: ['i386'] });
    addDebianPackagesFast(b, readFileSync(index), index, { name: 'lab', source: index });
    const universe = b.build();
    const { packages: installed, problems } = parseStatusInstalled(readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8'));
    expect(problems).toEqual([]);
    const solver = createFleetSolver({ universe });
    const facts = { architecture: 'amd64' };
    const out = solver.solveGroup({ key: 'root', installed, facts, request: { items: [parseRequestItem('install', 'libma1:i386', 'install')] } });
    expect(out.kind).toBe('solution');
    if (out.kind !== 'solution') return;
    expect(out.changes).toEqual([expect.objectContaining({ action: 'install', name: 'libma1:i386', architecture: 'i386', to: '1.0' })]);
    expect(out.shortfalls ?? []).toEqual([]);

    const o = await driver.apply({ kind: 'packages', changes: out.changes });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(o.status === 'succeeded' && o.packages?.map((p) => `${p.name}:${p.architecture} ${p.before?.version ?? '-'} -> ${p.after?.version ?? '-'}`)).toEqual(['libma1:i386 - -> 1.0']);
    expect(await dpkgState()).toEqual(['libma1:amd64 1.0 ii', 'libma1:i386 1.0 ii']);

    // planned again on the new state: nothing to do (the i386 package is told apart from the amd64 one)
    const now = parseStatusInstalled(readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8')).packages;
    const again = solver.solveGroup({ key: 'root', installed: now, facts, request: { items: [parseRequestItem('install', 'libma1:i386', 'install')] } });
    expect(again).toMatchObject({ kind: 'solution', changes: [] });
  });

  it('keeps the former .deb of the architecture a change names (the i386 one, not the amd64 twin)', async () => {
    const cache = createDebCache(path.join(lab.dir, 'deb-cache'));
    const now = await driver.readInstalled();
    if (now.kind !== 'ok') throw new Error(JSON.stringify(now));
    const kept = await cachePreviousVersions(cache, { baseUrl: lab.repository.dir }, now.value, [{ action: 'downgrade', name: 'libma1:i386', architecture: 'i386', from: '1.0', to: '0.9' }]);
    expect(kept.map((k) => `${k.name} ${k.version} ${k.outcome.kind}`)).toEqual(['libma1 1.0 kept']);
    const i386 = lab.repository.debs.find((x) => x.name === 'libma1' && x.version === '1.0' && x.architecture === 'i386')!;
    expect(kept[0]!.outcome.kind === 'kept' && kept[0]!.outcome.deb.sha256).toBe(i386.sha256);
  });

  it('a downgrade of the i386 one alone is refused: apt would have to remove the amd64 twin (Multi-Arch: same, one version)', async () => {
    const o = await driver.apply({ kind: 'packages', changes: [{ action: 'downgrade', name: 'libma1:i386', architecture: 'i386', from: '1.0', to: '0.9' }] });
    expect(o.status).toBe('failed');
    if (o.status !== 'failed' || o.failure.kind !== 'command') throw new Error(JSON.stringify(o));
    // dpkg's form reached apt-get: `libma1:i386=0.9`, not `libma1:i386:i386=0.9`
    expect(o.failure.command.at(-1)).toBe('libma1:i386=0.9');
    expect(o.failure.output).toMatch(/remove is disabled/);
    expect(await dpkgState()).toEqual(['libma1:amd64 1.0 ii', 'libma1:i386 1.0 ii']);
  });

  it("removes the i386 package only, named dpkg's way, and verification looks at the i386 entry, not the amd64 one", async () => {
    const o = await driver.apply({ kind: 'packages', changes: [{ action: 'remove', name: 'libma1', architecture: 'i386', from: '1.0' }] });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    const state = await dpkgState();
    expect(state).toContain('libma1:amd64 1.0 ii');
    expect(state.filter((l) => l.startsWith('libma1:i386') && / ii$/.test(l))).toEqual([]);
  });
});
