// No silent leftovers after a rollback, on real directory-root hosts of the lab (dpkg and apt on a
// root, runit): dpkg's side files beside conffiles recorded by the snapshot and put back by the
// restore; a purge behind a package the failed forward left half-configured (one transaction);
// the stop of a service the forward installed. The machine's own dpkg database is never touched.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearseOnHost, type RehearsalReport, type RollbackMaterializer } from '../../src/deploy/index.js';
import { createDebCache, createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { materializeRollback, materializeRollbackStep, type RollbackStep, type Step } from '../../src/planner/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';
import { recordMachineState, type MachineStateRecord } from '../hosts/machine-guard.js';

const MARKERS = ['/etc/keep.conf', '/etc/keep.conf.dpkg-dist', '/etc/keep.conf.dpkg-old', '/etc/sv/tick', '/etc/service/tick', '/var/lib/lab-scripts'];

let lab: Lab;
let machine: MachineStateRecord;

beforeAll(async () => {
  machine = recordMachineState(MARKERS);
  lab = await createLab({
    hosts: 5,
    packages: [
      { name: 'keep', version: '1.0', conffiles: { '/etc/keep.conf': 'level=1\n' } },
      { name: 'keep', version: '2.0', conffiles: { '/etc/keep.conf': 'level=2\n' } },
      { name: 'brittle', version: '1.0', conffiles: { '/etc/brittle.conf': 'b=1\n' } },
      { name: 'brittle', version: '2.0', conffiles: { '/etc/brittle.conf': 'b=2\n' }, fail: ['postinst'] },
      { name: 'extra', version: '1.0', conffiles: { '/etc/extra.conf': 'e=1\n' } },
      { name: 'tick', version: '1.0', service: { name: 'tick', restartOnUpgrade: false } },
    ],
  });
});

afterAll(async () => {
  await lab?.destroy();
});

const driverFor = (h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });

async function must(d: HostDriver, step: Step): Promise<void> {
  const o = await d.apply(step);
  if (o.status !== 'succeeded') throw new Error(`setup step failed: ${JSON.stringify(o).slice(0, 1500)}`);
}

function brief(r: RehearsalReport): string {
  const step = (o: RehearsalReport['forward']['outcomes'][number]): string => `${JSON.stringify(o.step).slice(0, 200)} ${o.status}${o.status === 'failed' ? ` ${JSON.stringify(o.failure).slice(-600)}` : ''}`;
  return JSON.stringify({ outcome: r.outcome, differences: r.differences, forward: r.forward.outcomes.map(step), rollback: r.rollback.outcomes.map(step), snapshotFailures: r.snapshotFailures }, null, 1);
}

const installed = async (d: HostDriver): Promise<Record<string, string>> => {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
};

/** The planner's way: every symbolic step materialized with the snapshots (one transaction when the forward left a package midway). */
const planned = (steps: RollbackStep[]): RollbackMaterializer => ({ before, afterForward }) => materializeRollback(steps, before, afterForward).steps.flatMap((s) => s ?? []);

describe("dpkg's side files beside conffiles", () => {
  it('are recorded by the snapshot; the restore removes those the rollback left and puts back those that were there', async () => {
    const h = lab.hosts[0]!;
    const d = driverFor(h);
    await must(d, { kind: 'packages', changes: [{ name: 'keep', action: 'install', to: '1.0' }] });
    await must(d, { kind: 'write-config', path: '/etc/keep.conf', content: 'level=operator\n', mode: 0o600 });
    // a copy an earlier upgrade left, which the host had before the deployment
    await must(d, { kind: 'write-config', path: '/etc/keep.conf.dpkg-old', content: 'from long ago\n', mode: 0o640 });
    const steps: RollbackStep[] = [
      { kind: 'packages', changes: [{ name: 'keep', action: 'downgrade', from: '2.0', to: '1.0' }], debs: [{ name: 'keep', version: '1.0', architecture: 'all' }] },
      { kind: 'restore-conffiles', package: 'keep', state: { kind: 'snapshot' } },
    ];
    const report = await rehearseOnHost({
      driver: d,
      snapshotSpec: { conffiles: true },
      forward: [
        { kind: 'packages', changes: [{ name: 'keep', action: 'upgrade', to: '2.0' }] },
        { kind: 'write-config', path: '/etc/keep.conf.dpkg-old', content: 'overwritten\n' },
      ],
      rollback: planned(steps),
      debCache: { cache: createDebCache(`${lab.dir}/deb-cache-sides`), source: { baseUrl: lab.repository.dir } },
    });
    const before = report.snapshots.before!;
    expect(before.files.filter((f) => f.path.startsWith('/etc/keep.conf')).map((f) => `${f.path} ${f.source} ${f.sideOf ?? ''}`)).toEqual([
      '/etc/keep.conf conffile ',
      '/etc/keep.conf.dpkg-old side /etc/keep.conf',
    ]);
    // the upgrade kept the operator's file and put its own beside it: seen by the snapshot
    expect(report.forwardChanges).toEqual(expect.arrayContaining([{ kind: 'config-appeared', path: '/etc/keep.conf.dpkg-dist' }]));
    expect(report.rollback.outcomes.map((o) => o.status), brief(report)).toEqual(report.rollback.steps.map(() => 'succeeded'));
    expect(report.outcome, brief(report)).toBe('identical');
    // the host itself: the downgrade kept the operator's file again and wrote 1.0's copy as .dpkg-dist; the restore removed it
    expect(await installed(d)).toEqual({ keep: 'ii 1.0' });
    expect(readFileSync(`${h.root}/etc/keep.conf`, 'utf8')).toBe('level=operator\n');
    expect(existsSync(`${h.root}/etc/keep.conf.dpkg-dist`)).toBe(false);
    expect(readFileSync(`${h.root}/etc/keep.conf.dpkg-old`, 'utf8')).toBe('from long ago\n');
  });

  it('a restore step with an unknown side-file suffix is refused before anything runs', async () => {
    const d = driverFor(lab.hosts[0]!);
    const o = await d.apply({ kind: 'restore-config', path: '/etc/keep.conf', state: { kind: 'absent' }, sides: [{ suffix: '/../../x', state: { kind: 'present', sha256: '', mode: 0o644, contentBase64: '' } }] });
    expect(o).toMatchObject({ status: 'failed', failure: { kind: 'rejected', code: 'RW_HOST' } });
    expect(readFileSync(`${lab.hosts[0]!.root}/etc/keep.conf`, 'utf8')).toBe('level=operator\n');
  });
});

describe('a purge behind a package the failed forward left half-configured', () => {
  // the order a rollback plan may give: the purge first, then the broken package's downgrade
  const steps: RollbackStep[] = [
    { kind: 'packages', changes: [{ name: 'extra', action: 'purge', from: '1.0' }], debs: [] },
    { kind: 'packages', changes: [{ name: 'brittle', action: 'downgrade', from: '2.0', to: '1.0' }], debs: [{ name: 'brittle', version: '1.0', architecture: 'all' }] },
    { kind: 'restore-conffiles', package: 'extra', state: { kind: 'snapshot' } },
    { kind: 'restore-conffiles', package: 'brittle', state: { kind: 'snapshot' } },
  ];
  const forward: Step[] = [{ kind: 'packages', changes: [{ name: 'extra', action: 'install', to: '1.0' }, { name: 'brittle', action: 'upgrade', to: '2.0' }] }];

  it('step by step, apt configures the broken package first in every step: the purge stops half-way and extra stays behind', async () => {
    const d = driverFor(lab.hosts[1]!);
    await must(d, { kind: 'packages', changes: [{ name: 'brittle', action: 'install', to: '1.0' }] });
    const report = await rehearseOnHost({
      driver: d, snapshotSpec: { conffiles: true }, forward,
      rollback: ({ before, afterForward }) => steps.flatMap((s) => materializeRollbackStep(s, before, afterForward) ?? []),
      debCache: { cache: createDebCache(`${lab.dir}/deb-cache-step`), source: { baseUrl: lab.repository.dir } },
    });
    expect(report.forward.completed).toBe(false);
    expect(report.snapshots.afterForward?.packages.find((p) => p.name === 'brittle')?.status).toBe('iF');
    expect(report.rollback.outcomes[0]?.status).toBe('failed');
    expect(report.outcome, brief(report)).toBe('different');
    expect((await installed(d)).extra).toBe('ic 1.0');
  });

  it('materialized by the planner: one transaction, and the host is back as it was', async () => {
    const d = driverFor(lab.hosts[2]!);
    await must(d, { kind: 'packages', changes: [{ name: 'brittle', action: 'install', to: '1.0' }] });
    const report = await rehearseOnHost({
      driver: d, snapshotSpec: { conffiles: true }, forward, rollback: planned(steps),
      debCache: { cache: createDebCache(`${lab.dir}/deb-cache-merged`), source: { baseUrl: lab.repository.dir } },
    });
    expect(report.forward.completed).toBe(false);
    expect(report.rollback.steps.filter((s) => s.kind === 'packages')).toEqual([{ kind: 'packages', changes: [
      { name: 'extra', action: 'purge', from: '1.0' },
      { name: 'brittle', action: 'downgrade', from: '2.0', to: '1.0', debPath: expect.stringContaining('deb-cache-merged') },
    ] }]);
    expect(report.rollback.outcomes.map((o) => o.status), brief(report)).toEqual(report.rollback.steps.map(() => 'succeeded'));
    expect(report.outcome, brief(report)).toBe('identical');
    expect(await installed(d)).toEqual({ brittle: 'ii 1.0' });
    expect(existsSync(`${lab.hosts[2]!.root}/etc/extra.conf`)).toBe(false);
  });
});

describe('stopping a service the forward installed', () => {
  it('the host driver treats a service that is not there, or that no supervisor runs, as stopped', async () => {
    const h = lab.hosts[3]!;
    const d = driverFor(h);
    expect(await d.apply({ kind: 'service', action: 'stop', service: 'ghost' })).toMatchObject({ status: 'succeeded', output: expect.stringContaining('not installed') });
    await mkdir(`${h.root}/etc/service/lonely`, { recursive: true });
    expect(await d.readServiceState('lonely')).toBe('unsupervised');
    expect(await d.apply({ kind: 'service', action: 'stop', service: 'lonely' })).toMatchObject({ status: 'succeeded', output: expect.stringContaining('not supervised') });
    // a start is not treated so: there is nothing to start
    expect((await d.apply({ kind: 'service', action: 'start', service: 'ghost' })).status).toBe('failed');
  });

  it('a rollback that stops it before purging its package succeeds and leaves the host as it was', async () => {
    const h = lab.hosts[4]!;
    const d = driverFor(h);
    const supervisor = lab.startSupervisor(h);
    try {
      const steps: RollbackStep[] = [
        { kind: 'service', action: 'stop', service: 'tick' },
        { kind: 'packages', changes: [{ name: 'tick', action: 'purge', from: '1.0' }], debs: [] },
        { kind: 'restore-conffiles', package: 'tick', state: { kind: 'snapshot' } },
        { kind: 'service', action: 'start', service: 'tick', when: 'running-in-snapshot' },
      ];
      const report = await rehearseOnHost({
        driver: d, snapshotSpec: { conffiles: true, services: ['tick'] },
        forward: [{ kind: 'packages', changes: [{ name: 'tick', action: 'install', to: '1.0' }] }],
        rollback: planned(steps),
      });
      expect(report.snapshots.before?.services).toEqual([{ name: 'tick', state: 'absent' }]);
      expect(report.forward.completed).toBe(true);
      expect(report.rollback.outcomes.map((o) => o.status), brief(report)).toEqual(report.rollback.steps.map(() => 'succeeded'));
      expect(report.outcome, brief(report)).toBe('identical');
      expect(existsSync(`${h.root}/etc/service/tick`)).toBe(false);
    } finally {
      await supervisor.stop();
    }
  });
});

describe('the machine itself', () => {
  it("left the machine's own dpkg database and the marker paths untouched", () => {
    expect(recordMachineState(MARKERS)).toEqual(machine);
  });
});
