// A rehearsal with real Debian packages (issue 10): a Debian 12 root built by mmdebstrap from
// bookworm main with nginx and postgresql-15, bookworm-security added to its sources afterwards.
// The product plans the security upgrades from the root's own installed set and apt lists, plans
// the rollback, and rehearses both inside the root (chroot driver, as `rollwise rehearse PLAN --on
// ROOT --chroot` does), with `nginx -t` as a health check and every entry under /etc in the
// snapshots. The host must come back identical, or each difference must have been flagged before.
// The machine itself never changes.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDebianIndex, loadDpkgStatus } from '../../src/kb/index.js';
import { compareDebian } from '../../src/versions/index.js';
import { buildRequest, type Snapshot, type TreeEntry } from '../../src/planner/index.js';
import { planFleet, rehearsePlanOnStaging, type StagingRehearsal } from '../../src/app/index.js';
import { createMemoryPlanStore } from '../../src/store/index.js';
import { ensureDebianRootImage, extractDebianRoot, imageRecord, type DebianRootImage } from '../lab/index.js';
import { registerExitCleanup } from '../lab/cleanup.js';
import { recordMachineState, type MachineStateRecord } from '../hosts/machine-guard.js';

// deb.debian.org serves the security suite too (the mirror CI reaches; security.debian.org is another host)
const SECURITY = 'deb http://deb.debian.org/debian-security bookworm-security main';
/** Files the packages' scripts would change if they ran on this machine instead of in the root. */
const MARKERS = ['/etc/postgresql-common/minor_versions', '/etc/nginx/nginx.conf', '/etc/ld.so.cache'];
/** What postgresql-common's postinst writes on an upgrade and a plain downgrade leaves behind. */
const REGENERATED = '/etc/postgresql-common/minor_versions';

let work: string | undefined;
let image: DebianRootImage;
let root: string;
let machine: MachineStateRecord;
let upgrades: Array<{ name: string; from: string; to: string }>;
let result: StagingRehearsal;
const timings: Record<string, number> = {};

async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round(performance.now() - t);
  }
}

const etcOf = (s: Snapshot | undefined): TreeEntry[] => s?.trees?.find((t) => t.path === '/etc')?.entries ?? [];
/** An entry without its content (compared through its hash). */
const shape = (e: TreeEntry): string => (e.type === 'file' ? `${e.path} file ${e.mode.toString(8)} ${e.sha256}` : e.type === 'symlink' ? `${e.path} -> ${e.target}` : `${e.path} ${e.type} ${e.mode.toString(8)}`);

beforeAll(async () => {
  machine = recordMachineState(MARKERS);
  image = await timed('image', () => ensureDebianRootImage({ suite: 'bookworm', variant: 'minbase', include: ['nginx', 'postgresql-15'], laterSources: [SECURITY], prefetchUpgrades: true, keepArchives: true }));
  const record = await imageRecord(image);
  console.log(`debian root image: ${image.built ? `built in ${Math.round(image.ms / 1000)} s` : `cached (built in ${Math.round(record.buildMs / 1000)} s at ${record.builtAt})`}`);
  work = await mkdtemp(path.join(os.tmpdir(), 'rw-real-rehearsal-'));
  const dir = work;
  registerExitCleanup(() => {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });
  root = await timed('extract', () => extractDebianRoot(image, dir));
}, 20 * 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  console.log(`timings (ms): ${JSON.stringify(timings)}`);
});

describe('rehearsing bookworm-security on a real Debian 12 root with nginx and postgresql-15', () => {
  it('the root offers security upgrades for what bookworm main installed (read from its own apt lists)', async () => {
    const lists = path.join(root, 'var/lib/apt/lists');
    const security = (await readdir(lists)).find((f) => /bookworm-security_main_binary-amd64_Packages$/.test(f));
    expect(security, 'the root has the bookworm-security list').toBeDefined();
    const offered = new Map<string, string>();
    for (const r of (await loadDebianIndex(path.join(lists, security!), { hostArch: 'amd64' })).records) offered.set(r.name, r.version);
    const installed = (await loadDpkgStatus(path.join(root, 'var/lib/dpkg/status'), { hostArch: 'amd64' })).map((r) => r.record);
    expect(installed.find((p) => p.name === 'nginx')).toBeDefined();
    expect(installed.find((p) => p.name === 'postgresql-15')).toBeDefined();
    upgrades = installed.flatMap((p) => {
      const to = offered.get(p.name);
      return to !== undefined && compareDebian(to, p.version) > 0 ? [{ name: p.name, from: p.version, to }] : [];
    }).sort((a, b) => (a.name < b.name ? -1 : 1));
    console.log(`bookworm-security upgrades ${upgrades.length} of ${installed.length} installed packages: ${upgrades.map((u) => `${u.name} ${u.from} -> ${u.to}`).join(', ')}`);
    expect(upgrades.length).toBeGreaterThan(0);
  });

  it('plans them from the root, rehearses deploy + rollback inside it, and the root comes back identical (installed set and all of /etc)', async () => {
    // the fleet: this one root; the knowledge: its own apt lists (bookworm and bookworm-security)
    const lists = path.join(root, 'var/lib/apt/lists');
    const indexes = (await readdir(lists)).filter((f) => f.endsWith('_Packages')).map((f) => path.join(lists, f));
    const inventory = path.join(work!, 'inventory.yaml');
    writeFileSync(inventory, [
      'version: 1',
      'hosts:',
      '  - name: staging-bookworm',
      `    root: ${path.relative(work!, root)}`,
      '    facts: { architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }',
      '',
    ].join('\n'));
    const { plan, knowledge } = await timed('plan', () => planFleet({
      inventory: [inventory], local: false, sshHost: [], kb: [], index: indexes, skipUnreachable: false,
      request: buildRequest({ upgrade: upgrades.map((u) => u.name) }),
      // as `rollwise plan --no-recommends`: a security upgrade adds no package (apt-get upgrade installs none)
      recommends: false,
    }));
    const group = plan.groups[0]!;
    expect(group.outcome.kind, JSON.stringify(plan.conflicts).slice(0, 2000)).toBe('transaction');
    const changes = group.outcome.kind === 'transaction' ? group.outcome.changes : [];
    // every security upgrade at its security version, and nothing else (no Recommends pulled in)
    for (const u of upgrades) expect(changes.find((c) => c.name === u.name)).toMatchObject({ action: 'upgrade', to: u.to });
    expect(changes.filter((c) => !upgrades.some((u) => u.name === c.name)).map((c) => `${c.action} ${c.name}`)).toEqual([]);
    console.log(`planned: ${changes.length} upgrades`);

    const store = createMemoryPlanStore();
    await store.savePlan(plan);
    const progress: string[] = [];
    const r = await timed('rehearsal', () => rehearsePlanOnStaging({
      store, plan, knowledge, root, name: 'staging-bookworm', chroot: true,
      healthChecks: [{ kind: 'command', argv: ['nginx', '-t'] }],
      onProgress: (t) => progress.push(`${Math.round(performance.now())} ${t}`),
    }));
    expect(r.kind, JSON.stringify(r).slice(0, 3000)).toBe('rehearsed');
    result = r as StagingRehearsal;
    const report = result.report;
    console.log(`rehearsal timings (ms): ${JSON.stringify(report.timings)}`);
    console.log(`rollback plan: ${result.rollback.rollback.steps.length} steps, flags: ${result.rollback.rollback.flags.map((f) => f.kind).join(', ') || 'none'}; kept debs: ${report.debs.kept.filter((k) => k.outcome.kind === 'kept').length} of ${report.debs.kept.length}, uncached: ${report.debs.uncached.length}`);
    console.log(`rollback steps run:\n${report.rollback.steps.map((s, i) => {
      const o = report.rollback.outcomes[i];
      const what = s.kind === 'packages' ? `packages ${s.changes.map((c) => `${c.name}=${c.to ?? '-'}`).join(' ')}` : s.kind === 'restore-config' ? `restore-config ${s.path}` : s.kind;
      // what apt changed besides the step's own packages
      const named = new Set(s.kind === 'packages' ? s.changes.map((c) => c.name) : []);
      const also = (o && 'packages' in o ? o.packages ?? [] : []).filter((d) => !named.has(d.name)).map((d) => `${d.name} ${d.before?.version ?? '-'} -> ${d.after?.version ?? '-'}`);
      return `  ${o?.status ?? 'not run'} ${o?.durationMs ?? 0} ms ${what}${also.length ? ` (apt also changed: ${also.join(', ')})` : ''}${o?.status === 'failed' ? `: ${JSON.stringify(o.failure).slice(0, 600)}` : ''}`;
    }).join('\n')}`);

    // forward: every security version installed by apt inside the root, nginx -t healthy
    expect(report.forward.completed, JSON.stringify(report.forward.outcomes).slice(-3000)).toBe(true);
    const mid = new Map(report.snapshots.afterForward!.packages.map((p) => [p.name, `${p.status} ${p.version}`]));
    for (const u of upgrades) expect(mid.get(u.name)).toBe(`ii ${u.to}`);
    expect(report.health.afterForward.map((h) => h.status)).toEqual(['passed']);
    expect(report.health.afterRollback.map((h) => h.status)).toEqual(['passed']);

    // the snapshots hold all of /etc: files with content, links with targets, directories
    const before = etcOf(report.snapshots.before);
    expect(before.length).toBeGreaterThan(300);
    expect(before.some((e) => e.type === 'symlink' && e.path.startsWith('/etc/alternatives/'))).toBe(true);
    expect(before.find((e) => e.path === '/etc/nginx/nginx.conf')?.type).toBe('file');
    // what the forward steps changed under /etc that no conffile accounts for: postgresql-common's postinst wrote its version file
    // (compared as a file when the rollback plan names it as data a script writes, else as an entry of the /etc tree)
    expect(report.forwardChanges?.filter((d) => 'path' in d && d.path === REGENERATED).map((d) => d.kind)).toEqual([expect.stringMatching(/^(config|tree-entry)-appeared$/)]);

    // the rollback: the plan's package steps, then the files the scripts left put back from the snapshot
    const restored = report.rollback.steps.map((s, i) => ({ s, o: report.rollback.outcomes[i] }));
    expect(restored.find(({ s }) => s.kind === 'restore-config' && s.path === REGENERATED)?.o?.status).toBe('succeeded');
    expect(report.rollback.outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
    expect(report.rollback.unresolved).toEqual([]);

    // the comparison: installed set, and every entry under /etc (content, mode, links)
    expect(report.snapshots.after!.packages).toEqual(report.snapshots.before!.packages);
    expect(etcOf(report.snapshots.after).map(shape)).toEqual(before.map(shape));
    const silent = report.differences.filter((d) => d.flag === 'silent');
    expect(silent).toEqual([]);
    expect(['identical', 'flagged-only']).toContain(report.outcome);
    // any remaining difference is one the rollback plan flagged before deploying
    for (const d of report.differences) expect(result.expected.some((e) => e.kind === d.difference.kind)).toBe(true);
    expect(result.ok).toBe(true);
    expect(result.recorded).toBe(true);

    // nothing of this happened on the machine itself
    expect(recordMachineState(MARKERS)).toEqual(machine);
  }, 15 * 60_000);
});
