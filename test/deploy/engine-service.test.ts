// `rollwise deploy` as the application runs it: a plan made from an inventory whose hosts are
// directory roots (root: entries), stored in SQLite, approved, deployed by the deployment service
// with its real seams (directory-root drivers, the former .debs kept from the root's repository,
// the planner's solver re-solving a drifted host). A host that drifted after planning so that the
// plan's versions no longer fit alone is re-solved on its real state, held beyond the policy, and
// deployed once the operator accepts the resolution.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionBody } from '../../src/deploy/index.js';
import { createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import { parseInventoryText } from '../../src/fleet/index.js';
import { buildRequest } from '../../src/planner/index.js';
import { approvePlan, deploymentLog, deploymentStatus, openStore, planFleet, resumeDeployment, startDeployment, withinPolicy, type DeployStore } from '../../src/app/index.js';
import { createLab, type Lab, type LabHost } from '../lab/index.js';
import { KIT_PACKAGES, writeRootsFleet } from './roots-fleet.js';

let lab: Lab;
let store: DeployStore & { close(): Promise<void> };

beforeAll(async () => {
  lab = await createLab({
    hosts: 3,
    packages: [
      ...KIT_PACKAGES,
      { name: 'tool', version: '1.0', scripts: false, depends: 'kit (<< 2.0)' },
      { name: 'tool', version: '2.0', scripts: false, depends: 'kit (>= 2.0)' },
    ],
  });
  store = (await openStore(path.join(lab.dir, 'store', 'rollwise.db'))) as unknown as DeployStore & { close(): Promise<void> };
});

afterAll(async () => {
  await store?.close();
  await lab?.destroy();
});

const driverOf = (h: LabHost): HostDriver => createDirectoryRootDriver({ root: h.root, name: h.name });
async function install(h: LabHost, pkgs: Record<string, string>): Promise<void> {
  const o = await driverOf(h).apply({ kind: 'packages', changes: Object.entries(pkgs).map(([name, to]) => ({ name, action: 'install', to })) });
  if (o.status !== 'succeeded') throw new Error(JSON.stringify(o).slice(0, 1500));
}
async function installed(h: LabHost): Promise<Record<string, string>> {
  const r = await driverOf(h).readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return Object.fromEntries(r.value.map((p) => [p.name, `${p.status.trim()} ${p.version}`]));
}

describe('the deployment service on an inventory of directory roots', () => {
  it('plans from root: hosts, deploys in waves, holds a drifted host re-solved beyond the policy, deploys it once accepted', async () => {
    await Promise.all(lab.hosts.map((h) => install(h, { kit: '1.0' })));
    const { kb, inventory } = await writeRootsFleet(lab);
    const { plan } = await planFleet({ inventory: [inventory], local: false, sshHost: [], kb: [kb], index: [path.join(lab.repository.dir, 'Packages')], skipUnreachable: false, request: buildRequest({ install: ['kit=2.0'] }) });
    // the installed sets were read from each root's dpkg database
    expect(plan.groups.map((g) => [g.hosts.length, g.installed.map((p) => `${p.name}=${p.version}`)])).toEqual([[3, ['kit=1.0']]]);
    await store.savePlan(plan);
    await expect(startDeployment({ store, plan: plan.id, debCacheDir: path.join(lab.dir, 'debs') })).rejects.toMatchObject({ code: 'RW_APPROVAL_GATE' });
    await approvePlan(store, plan.id, 'tester');

    // after planning, someone installs tool 1.0 (which needs kit << 2.0) on the last host
    const drifted = lab.hosts[2]!;
    await install(drifted, { tool: '1.0' });
    const run = await startDeployment({ store, plan: plan.id, waves: '1,100%', debCacheDir: path.join(lab.dir, 'debs'), judge: async () => ({ verdict: 'passed', evidence: [] }) });
    expect(run.result).toMatchObject({ kind: 'finished', status: 'paused' });
    expect(await installed(lab.hosts[0]!)).toEqual({ kit: 'ii 2.0' });
    expect(await installed(lab.hosts[1]!)).toEqual({ kit: 'ii 2.0' });
    expect(await installed(drifted)).toEqual({ kit: 'ii 1.0', tool: 'ii 1.0' });
    const log = await deploymentLog(store, run.id);
    const hold = log.entries.map((e) => e.body as DecisionBody).find((b) => b.decision === 'hold-host');
    expect(hold?.hosts).toEqual([drifted.name]);
    expect((hold?.evidence as { proposed: Array<{ name: string; to?: string }> }).proposed.map((c) => `${c.name}=${c.to}`).sort()).toEqual(['kit=2.0', 'tool=2.0']);
    // the former .debs were kept from each root's own repository
    expect(log.entries.length).toBeGreaterThan(0);
    const all = await deploymentLog(store, run.id, true);
    expect(all.entries.filter((e) => e.key.includes('/keep-debs/')).map((e) => e.body)).toContainEqual({ kept: [{ name: 'kit', version: '1.0', outcome: 'kept' }] });

    const resumed = await resumeDeployment({ store, deployment: run.id.slice(0, 5), debCacheDir: path.join(lab.dir, 'debs'), acceptResolutions: true, judge: async () => ({ verdict: 'passed', evidence: [] }) });
    expect(resumed.result).toMatchObject({ kind: 'finished', status: 'succeeded' });
    expect(await installed(drifted)).toEqual({ kit: 'ii 2.0', tool: 'ii 2.0' });
    const status = await deploymentStatus(store, run.id);
    expect(status.deployment.status).toBe('succeeded');
    expect(status.waves.flatMap((w) => w.hosts.map((h) => `${h.host}:${h.state}`)).sort()).toEqual(lab.hosts.map((h) => `${h.name}:healthy`).sort());
  });

  it('an inventory root outside its folder is refused with its position', () => {
    const r = parseInventoryText('hosts:\n  - name: a\n    root: ../../elsewhere\n', path.join(lab.dir, 'inv.yaml'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]).toMatchObject({ position: { line: 3, column: 11 }, message: expect.stringContaining('outside the inventory\'s folder') });
  });

  it('policy: revisions accepts another Debian revision of a planned version, not another version', () => {
    const planned = [{ name: 'kit', action: 'upgrade' as const, to: '2.0-1' }];
    expect(withinPolicy('revisions', planned, [{ name: 'kit', action: 'upgrade', to: '2.0-2' }]).ok).toBe(true);
    expect(withinPolicy('revisions', planned, [{ name: 'kit', action: 'upgrade', to: '2.1-1' }]).ok).toBe(false);
    expect(withinPolicy('planned-only', planned, [{ name: 'kit', action: 'upgrade', to: '2.0-2' }]).ok).toBe(false);
    expect(withinPolicy('any', planned, [{ name: 'kit', action: 'upgrade', to: '3.0-1' }]).ok).toBe(true);
  });
});
