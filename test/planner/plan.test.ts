import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFleet, type Fleet } from '../../src/fleet/index.js';
import {
  assemblePlan, buildRequest, createFleetSolver, installedFillRecords, planDeployment, resolvePlan, parseChoice, validateChoices,
  type FleetSolver, type PlanBody, type Plan,
} from '../../src/planner/index.js';
import { createSolverFor, loadKnowledge, readStatusRecords, type Knowledge } from '../../src/app/index.js';
import { renderPlan } from '../../src/app/index.js';
import { createWorld, type World } from './fixture.js';
import { describeEdit, planExplanationText } from '../helpers/words.js';

let world: World;
let ctx: Knowledge;
let fleet: Fleet;
let fleetSolver: FleetSolver;

function solverFor(_f: Fleet): FleetSolver {
  return fleetSolver;
}

function plan(request = buildRequest({ install: ['app-a=2.0-1'] })): PlanBody {
  return planDeployment({ fleet, request, solver: solverFor(fleet), rules: ctx.rules });
}

function asPlan(body: PlanBody): Plan {
  return assemblePlan('abcd1234', 1, body, { kind: 'initial' }, { kb: [], indexes: [], inventories: [], local: false, sshHosts: [], request: buildRequest({ install: ['app-a=2.0-1'] }) });
}

beforeAll(async () => {
  world = createWorld();
  ctx = await loadKnowledge({ kb: [world.kb], indexes: [world.index] });
  fleet = await collectFleet({ inventories: [world.inventory] });
  fleetSolver = await createSolverFor(ctx, fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts));
});
afterAll(() => world?.cleanup());

describe('planDeployment', () => {
  it('groups hosts by installed set and relevant facts and solves each group once', () => {
    let solves = 0;
    const solver = solverFor(fleet);
    const counting = { ...solver, solveGroup: (i: Parameters<typeof solver.solveGroup>[0]) => (solves++, solver.solveGroup(i)) };
    const body = planDeployment({ fleet, request: buildRequest({ install: ['app-a=2.0-1'] }), solver: counting, rules: ctx.rules });
    // ok-1..3 + inline-1 share a state (inline set equals the status file's); kernel and release split the rest.
    const byHosts = body.groups.map((g) => g.hosts.join(','));
    expect(byHosts).toContain('ok-1,ok-2,ok-3,inline-1');
    expect(byHosts).toContain('old-1,old-2');
    expect(byHosts).toContain('legacy-1');
    expect(byHosts).toContain('deb11-1');
    expect(body.groups).toHaveLength(4);
    expect(solves).toBe(4);
    expect(body.summary.hosts).toBe(8);
  });

  it('gives the transaction of ready groups and the known issue only where its condition holds', () => {
    const body = plan();
    const ok = body.groups.find((g) => g.hosts.includes('ok-1'))!;
    expect(ok.outcome).toEqual({
      kind: 'transaction',
      changes: [
        { action: 'upgrade', name: 'app-a', architecture: 'amd64', from: '1.0-1', to: '2.0-1' },
        { action: 'upgrade', name: 'libfoo1', architecture: 'amd64', from: '1.0-1', to: '2.0-1' },
      ],
    });
    expect(ok.findings.map((f) => [f.kind, f.rule])).toEqual([['known-issue', 'KI-T1']]);
    expect(ok.findings[0]!.kind === 'known-issue' && ok.findings[0]!.workaround).toBe('restart weekly');
    const deb11 = body.groups.find((g) => g.hosts.includes('deb11-1'))!;
    expect(deb11.outcome.kind).toBe('transaction');
    expect(deb11.findings).toEqual([]);
    expect(body.summary.findings.knownIssue).toBe(4);
  });

  it('finds every conflict in one pass, with explanations and verified resolutions', () => {
    const body = plan();
    expect(body.status).toBe('needs-review');
    expect(body.conflicts.map((c) => c.id)).toEqual(['c1', 'c2']);
    const kernel = body.conflicts.find((c) => planExplanationText(c.explanation).includes('kernel'))!;
    expect(kernel.hosts).toBe(2);
    expect(planExplanationText(kernel.explanation)).toMatch(/kernel 5\.10\.0-28-amd64 >= 6\.1 does not hold/);
    expect(kernel.resolutions.map((r) => describeEdit(r.edit)).join('\n')).toMatch(/app-a=1\.0-1/);
    const removal = body.conflicts.find((c) => c !== kernel)!;
    expect(planExplanationText(removal.explanation)).toMatch(/legacy-tool/);
    // the gentlest resolution first (keep app-a as it is), the removal after it
    expect(removal.resolutions.map((r) => describeEdit(r.edit))).toEqual(['choose another version: install app-a=1.0-1 instead of app-a (= 2.0-1)', 'allow removal of the installed package legacy-tool']);
    expect(removal.resolutions[1]!.preview).toContainEqual({ action: 'remove', name: 'legacy-tool', architecture: 'amd64', from: '1.0-1' });
    // every resolution carries an edited request for every group of its conflict
    for (const c of body.conflicts) for (const r of c.resolutions) expect(Object.keys(r.requests).sort()).toEqual([...c.groups].sort());
  });

  it('is ready when nothing conflicts', () => {
    const body = plan(buildRequest({ install: ['helper'] }));
    expect(body.status).toBe('ready');
    expect(body.conflicts).toEqual([]);
    expect(body.summary.changes.install).toBe(8);
  });

  it('refuses unknown packages before solving', () => {
    expect(() => plan(buildRequest({ install: ['no-such-package'] }))).toThrow(/^no package no-such-package$/);
    // a misspelt name gets the closest names the universe has
    expect(() => plan(buildRequest({ install: ['libfoo'] }))).toThrow(/^no package libfoo; did you mean 'libfoo1'\?$/);
  });
});

describe('conflict review', () => {
  it('applies a chosen resolution to the groups of that conflict and re-solves them', () => {
    const v1 = asPlan(plan());
    const removal = v1.conflicts.find((c) => planExplanationText(c.explanation).includes('legacy-tool'))!;
    const kernelId = v1.conflicts.find((c) => c !== removal)!.id;
    const body = resolvePlan(v1, [{ conflict: removal.id, resolution: 'r2' }], solverFor(fleet), ctx.rules);
    const legacy = body.groups.find((g) => g.hosts.includes('legacy-1'))!;
    expect(legacy.outcome.kind).toBe('transaction');
    expect(legacy.choices).toEqual([{ conflict: removal.id, resolution: 'r2', edit: { kind: 'allow-removal', names: ['legacy-tool'] }, fromVersion: 1 }]);
    expect(legacy.request.items).toContainEqual({ kind: 'remove', name: 'legacy-tool' });
    // the other conflict is still there, under the id it had in version 1 (ids are stable across versions)
    expect(body.conflicts).toHaveLength(1);
    expect(body.conflicts[0]!.id).toBe(kernelId);
    expect(planExplanationText(body.conflicts[0]!.explanation)).toMatch(/kernel/);
    // untouched groups keep their outcome
    expect(body.groups.find((g) => g.hosts.includes('ok-1'))!.outcome).toEqual(v1.groups.find((g) => g.hosts.includes('ok-1'))!.outcome);
  });

  it('says where a chosen resolution does less than the plan asked, and not where it does what was asked', () => {
    const v1 = asPlan(plan());
    const removal = v1.conflicts.find((c) => planExplanationText(c.explanation).includes('legacy-tool'))!;
    const other = removal.resolutions.find((r) => r.edit.kind === 'choose-version')!;
    expect(other).toBeDefined();
    const less = resolvePlan(v1, [{ conflict: removal.id, resolution: other.id }], solverFor(fleet), ctx.rules);
    const g = less.groups.find((x) => x.hosts.includes('legacy-1'))!;
    expect(g.outcome.kind).toBe('transaction');
    const f = g.findings.filter((x) => x.kind === 'resolved-less');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ package: 'app-a', asked: { kind: 'install', name: 'app-a', op: '=', version: '2.0-1' }, choices: [{ conflict: removal.id, resolution: other.id }] });
    expect(f[0]!.kind === 'resolved-less' && f[0]!.version).not.toBe('2.0-1');
    expect(less.summary.findings.resolvedLess).toBe(g.hosts.length);
    expect(renderPlan(asPlan(less))).toMatch(/less than asked \[medium\] app-a .* instead of install app-a \(= 2\.0-1\)/);
    // allowing the removal installs what was asked: no such finding
    const full = resolvePlan(v1, [{ conflict: removal.id, resolution: 'r2' }], solverFor(fleet), ctx.rules);
    expect(full.groups.flatMap((x) => x.findings).filter((x) => x.kind === 'resolved-less')).toEqual([]);
    expect(full.summary.findings.resolvedLess).toBe(0);
  });

  it('rejects unknown conflicts and resolutions with the valid ids in the hint', () => {
    const v1 = asPlan(plan());
    expect(() => validateChoices(v1, [parseChoice('c9=r1')])).toThrow(/no conflict 'c9'/);
    expect(() => validateChoices(v1, [parseChoice('c1=r42')])).toThrow(/no resolution 'r42'/);
    expect(() => parseChoice('c1:r1')).toThrow(/cannot read choice/);
  });

  it('renders groups, findings and conflicts for people', () => {
    const text = renderPlan(asPlan(plan()));
    expect(text).toMatch(/Plan abcd1234 version 1 {2}needs-review/);
    expect(text).toMatch(/known issue KI-T1 \[medium\]/);
    expect(text).toMatch(/Choose with: rollwise plan resolve abcd1234 --choose c1=r1 --choose c2=r1/);
  });
});

describe('environment findings', () => {
  it('a requirement that cannot be checked (a fact the host does not report) is a finding, not a silent pass', async () => {
    const w = createWorld({ inventory: 'hosts:\n  - name: nofacts-1\n    status: status/base\n    facts: { architecture: amd64, os: { id: debian, versionId: "12" } }\n' });
    try {
      const f = await collectFleet({ inventories: [w.inventory] });
      const c = await loadKnowledge({ kb: [w.kb], indexes: [w.index] });
      const solver = await createSolverFor(c, f.hosts.map((h) => h.installed));
      const body = planDeployment({ fleet: f, request: buildRequest({ install: ['app-a=2.0-1'] }), solver, rules: c.rules });
      expect(body.status).toBe('ready');
      const kinds = body.groups[0]!.findings.map((x) => [x.kind, x.rule, 'reason' in x ? x.reason : undefined]);
      expect(kinds).toContainEqual(['requirement-unknown', 'requirement:app-a=2.0-1', 'fact kernel is not known for this host']);
      expect(kinds.map((k) => k[0])).toContain('known-issue');
      expect(body.summary.findings.requirementUnknown).toBe(1);
    } finally {
      w.cleanup();
    }
  });

  it('with enforcement off, an unmet requirement is a finding on a ready group', async () => {
    const universe = await ctx.universe.withFill(installedFillRecords(fleet.hosts.map((h) => h.installed), readStatusRecords(fleet.hosts)));
    const solver = createFleetSolver({ universe, rules: ctx.rules, enforceRequirements: false });
    const body = planDeployment({ fleet, request: buildRequest({ install: ['app-a=2.0-1'] }), solver, rules: ctx.rules });
    const old = body.groups.find((g) => g.hosts.includes('old-1'))!;
    expect(old.outcome.kind).toBe('transaction');
    expect(old.findings.find((x) => x.kind === 'requirement-not-met')).toMatchObject({ package: 'app-a', reason: 'kernel 5.10.0-28-amd64 >= 6.1 is false', severity: 'high' });
    expect(body.summary.findings.requirementNotMet).toBe(2);
  });
});

describe('installed versions no layer knows', () => {
  it('are kept with the relations their status file records', async () => {
    const w = createWorld({ inventory: 'hosts:\n  - name: local-1\n    status: status/local\n    facts: { architecture: amd64, kernel: 6.1.0-18-amd64 }\n' });
    try {
      const f = await collectFleet({ inventories: [w.inventory] });
      expect(f.hosts[0]!.installed.map((p) => p.name).sort()).toEqual(['app-a', 'libc6', 'libfoo1', 'site-local']);
      const c = await loadKnowledge({ kb: [w.kb], indexes: [w.index] });
      const solver = await createSolverFor(c, f.hosts.map((h) => h.installed), readStatusRecords(f.hosts));
      expect(solver.addedInstalled).toBe(1);
      const rec = solver.set.record(solver.set.versionsOf('site-local')[0]!);
      expect(rec.depends).toEqual([[{ name: 'libc6' }]]);
      const body = planDeployment({ fleet: f, request: buildRequest({ remove: ['libc6'] }), solver, rules: c.rules });
      // libc6 is Priority: required and site-local depends on it: removal must be reviewed, not silent
      expect(body.status).toBe('needs-review');
    } finally {
      w.cleanup();
    }
  });
});
