// Properties: remote quoting round-trips any argument; restoring a snapshot undoes any sequence
// of package changes on a real directory root.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver, quoteForShell, type HostDriver } from '../../src/hosts/index.js';
import { compareSnapshots, planRestore, type Snapshot } from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import { createLab, type Lab } from '../lab/index.js';
import { recordMachineDpkg } from './machine-guard.js';

describe('quoteForShell', () => {
  it('gives every argument back to a POSIX shell unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 6 }), (args) => {
        const r = spawnSync('sh', ['-c', `printf '%s\\0' ${args.map(quoteForShell).join(' ')}`], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        expect(r.stdout.split('\0').slice(0, -1)).toEqual(args);
      }),
      { numRuns: 60 },
    );
  });
});

let lab: Lab;
let machine: ReturnType<typeof recordMachineDpkg>;
let d: HostDriver;

beforeAll(async () => {
  machine = recordMachineDpkg();
  lab = await createLab({
    hosts: 1,
    packages: [
      { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' } },
      { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' } },
      { name: 'demo', version: '3.0', conffiles: { '/etc/demo.conf': 'level=3\n' } },
      { name: 'libdemo1', version: '1.0' },
      { name: 'libdemo1', version: '1.5' },
      { name: 'app', version: '1.0', depends: 'libdemo1 (>= 1.0)', conffiles: { '/etc/app.conf': 'a\n' } },
      { name: 'tool', version: '1.0' },
    ],
  });
  d = createDirectoryRootDriver({ root: lab.hosts[0]!.root, name: 'prop', chrootlessScripts: lab.chrootlessScripts });
});

afterAll(async () => {
  await lab?.destroy();
});

const VERSIONS: Record<string, string[]> = { demo: ['1.0', '2.0', '3.0'], libdemo1: ['1.0', '1.5'], app: ['1.0'], tool: ['1.0'] };

const changeArb: fc.Arbitrary<PackageChange> = fc.oneof(
  fc.constantFrom(...Object.keys(VERSIONS)).chain((name) => fc.constantFrom(...VERSIONS[name]!).map((version): PackageChange => ({ name, action: 'install', to: version }))),
  fc.constantFrom(...Object.keys(VERSIONS)).map((name): PackageChange => ({ name, action: 'remove' })),
  fc.constantFrom(...Object.keys(VERSIONS)).map((name): PackageChange => ({ name, action: 'purge' })),
);
const configArb = fc.option(fc.record({ path: fc.constantFrom('/etc/demo.conf', '/etc/app.conf', '/etc/extra.conf'), content: fc.string({ maxLength: 20 }), mode: fc.constantFrom(0o644, 0o600) }), { nil: undefined });

async function snap(): Promise<Snapshot> {
  const s = await d.takeSnapshot({ configFiles: ['/etc/extra.conf'] });
  if (s.kind !== 'ok') throw new Error(JSON.stringify(s));
  return s.value;
}

describe('restore undoes any sequence of changes (real dpkg/apt)', () => {
  it('snapshot -> random changes -> planRestore -> the same snapshot', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(changeArb, configArb), { minLength: 1, maxLength: 3 }), async (steps) => {
        const before = await snap();
        for (const [change, config] of steps) {
          // a change may fail (e.g. removing what app needs without removing app): that is part of the test
          const installedNow = await d.readInstalled();
          if (installedNow.kind !== 'ok') throw new Error('installed');
          const fixed = change.action === 'install' ? { ...change, action: actionFor(installedNow.value, change) } : change;
          await d.apply({ kind: 'packages', changes: [fixed] });
          if (config) await d.apply({ kind: 'write-config', ...config });
        }
        const changed = await snap();
        const plan = planRestore(changed, before);
        for (const s of plan.steps) {
          const o = await d.apply(s);
          expect(o.status, `${JSON.stringify(s)} -> ${JSON.stringify(o).slice(0, 2000)}`).toBe('succeeded');
        }
        expect(compareSnapshots(before, await snap())).toEqual([]);
      }),
      { numRuns: 6, seed: 20261127 },
    );
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});

function actionFor(installed: Snapshot['packages'], c: PackageChange): PackageChange['action'] {
  const cur = installed.find((p) => p.name === c.name && p.status === 'ii');
  if (!cur || !c.to) return 'install';
  return cur.version === c.to ? 'install' : cur.version < c.to ? 'upgrade' : 'downgrade';
}
