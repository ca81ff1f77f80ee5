/**
 * What a rollback must not leave behind, in the pure part: data a maintainer script converts is
 * flagged at planning time (`data-converted`, from the knowledge base's `convertsData`);
 * materialization restores the side files dpkg leaves beside config files, merges the package
 * steps into one transaction when the forward left a package midway, and drops the stop of a
 * service the host never had. A property checks the side-file restore against a model file
 * system, whatever dpkg adds after the last snapshot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isHalfDone, materializeRollback, materializeRollbackStep, planRestore, planRollback, rollbackKnowledgeFromKb, SIDE_FILE_SUFFIXES,
  type FileState, type RollbackKnowledge, type RollbackStep, type Snapshot, type SnapshotFile, type Step,
} from '../../src/planner/index.js';
import { loadKnowledgeBase } from '../../src/kb/index.js';
import { changes, pkgs, smallWorld } from './rollback-fixture.js';
import { createTempKb, HEADER } from '../kb/helpers.js';

const world = smallWorld([
  { name: 'conv', version: '1' }, { name: 'conv', version: '2' }, { name: 'conv', version: '3' },
  { name: 'other', version: '1' }, { name: 'other', version: '2' },
]);
const KNOWLEDGE: RollbackKnowledge = {
  packages: [{
    name: 'conv', scheme: 'deb', versions: [
      { version: '1', migrations: [] },
      { version: '2', migrations: [], convertsData: { note: 'store rewritten', paths: ['/var/lib/conv/store'] } },
      { version: '3', migrations: [], convertsData: {} },
    ],
  }],
  configFiles: [],
  services: [],
};
const planFor = (installed: string, forward: string, extra: { undoDepth?: Record<string, 'leave'>; allowLeave?: boolean } = {}) => planRollback({
  group: { key: 'g', installed: pkgs(installed), changes: changes(forward) }, knowledge: KNOWLEDGE, check: world.check, relations: world.relations, availability: () => 'cache', ...extra,
});

describe('data converted by maintainer scripts (knowledge base convertsData)', () => {
  it('an upgrade across converting versions is flagged, with an approval and a copy of the named data as safeguards', () => {
    const r = planFor('conv=1 other=1', 'conv=1>3');
    expect(r.flags).toEqual([{
      kind: 'data-converted', id: 'data-converted:conv', package: 'conv', from: '1', to: '3', versions: ['2', '3'], note: 'store rewritten',
      paths: ['/var/lib/conv/store'], safeguards: ['snapshot', 'approval:data-converted:conv'],
    }]);
    expect(r.forwardSafeguards).toContainEqual({ kind: 'approval', id: 'approval:data-converted:conv', flag: 'data-converted:conv', risk: 'data-converted' });
    expect(r.forwardSafeguards.find((g) => g.kind === 'snapshot')).toMatchObject({ dataFiles: ['/var/lib/conv/store'] });
  });
  it('only the versions crossed count; a downgrade is flagged too (undoing it upgrades, converting again)', () => {
    expect(planFor('conv=2', 'conv=2>3').flags).toMatchObject([{ kind: 'data-converted', versions: ['3'], paths: [], safeguards: ['approval:data-converted:conv'] }]);
    expect(planFor('conv=3', 'conv=3>1').flags).toMatchObject([{ kind: 'data-converted', from: '3', to: '1', versions: ['2', '3'] }]);
  });
  it('no flag for an install, a removal, another package, or a change left in place', () => {
    expect(planFor('other=1', '+conv=3').flags).toEqual([]);
    expect(planFor('conv=3', '-conv=3').flags).toEqual([]);
    expect(planFor('conv=1 other=1', 'other=1>2').flags).toEqual([]);
    expect(planFor('conv=1', 'conv=1>3', { undoDepth: { conv: 'leave' }, allowLeave: true }).flags.map((f) => f.kind)).toEqual(['left-in-place']);
  });
});

const present = (text: string, mode = 0o644): Extract<FileState, { kind: 'present' }> => ({ kind: 'present', sha256: `sha-${text}`, mode, contentBase64: Buffer.from(text).toString('base64') });
const snap = (files: SnapshotFile[], extra: Partial<Snapshot> = {}): Snapshot => ({ host: 'h', takenAt: 't', packages: [], files, databases: [], services: [], ...extra });

describe('materializing a rollback', () => {
  const before = snap([
    { path: '/etc/a.conf', source: 'conffile', owner: 'a', state: present('a1') },
    { path: '/etc/a.conf.dpkg-old', source: 'side', sideOf: '/etc/a.conf', state: present('old') },
    { path: '/etc/k.conf', source: 'config', state: { kind: 'absent' } },
  ], { services: [{ name: 'svc', state: 'absent' }, { name: 'up', state: 'running' }] });

  it('restores a file with the side files the snapshot recorded beside it (the others go)', () => {
    const current = snap([{ path: '/etc/a.conf', source: 'conffile', owner: 'a', state: present('a2') }, { path: '/etc/a-new.conf', source: 'conffile', owner: 'a', state: present('n') }]);
    expect(materializeRollbackStep({ kind: 'restore-conffiles', package: 'a', state: { kind: 'snapshot' } }, before, current)).toEqual([
      { kind: 'restore-config', path: '/etc/a.conf', state: present('a1'), sides: [{ suffix: '.dpkg-old', state: present('old') }] },
      { kind: 'restore-config', path: '/etc/a-new.conf', state: { kind: 'absent' }, sides: [] },
    ]);
    expect(materializeRollbackStep({ kind: 'restore-config', path: '/etc/k.conf', package: 'k', state: { kind: 'snapshot' } }, before)).toEqual([
      { kind: 'restore-config', path: '/etc/k.conf', state: { kind: 'absent' }, sides: [] },
    ]);
  });

  it('a stop of a service the snapshot did not have is left out, unless it runs now', () => {
    const stop: RollbackStep = { kind: 'service', action: 'stop', service: 'svc' };
    expect(materializeRollbackStep(stop, before)).toEqual([]);
    expect(materializeRollbackStep(stop, before, snap([], { services: [{ name: 'svc', state: 'unsupervised' }] }))).toEqual([]);
    expect(materializeRollbackStep(stop, before, snap([], { services: [{ name: 'svc', state: 'running' }] }))).toEqual([{ kind: 'service', action: 'stop', service: 'svc' }]);
    expect(materializeRollbackStep({ kind: 'service', action: 'stop', service: 'up' }, before)).toEqual([{ kind: 'service', action: 'stop', service: 'up' }]);
  });

  const steps: RollbackStep[] = [
    { kind: 'service', action: 'stop', service: 'up' },
    { kind: 'packages', changes: [{ action: 'purge', name: 'extra', from: '1' }], debs: [] },
    { kind: 'packages', changes: [{ action: 'downgrade', name: 'brittle', from: '2', to: '1' }], debs: [] },
    { kind: 'restore-conffiles', package: 'brittle', state: { kind: 'snapshot' } },
    { kind: 'health', service: 'up', when: 'running-in-snapshot' },
  ];
  const pkg = (name: string, version: string, status: string) => ({ name, version, architecture: 'amd64', status, state: '' });

  it('one transaction when the forward left a package midway; step by step otherwise', () => {
    const broken = snap([], { packages: [pkg('brittle', '2', 'iF'), pkg('extra', '1', 'ii')] });
    const m = materializeRollback(steps, before, broken);
    expect(m.merged).toEqual({ halfDone: [{ name: 'brittle', status: 'iF' }] });
    expect(m.steps[1]).toEqual([{ kind: 'packages', changes: [{ action: 'purge', name: 'extra', from: '1' }, { action: 'downgrade', name: 'brittle', from: '2', to: '1' }] }]);
    expect(m.steps[2]).toEqual([]);
    expect(m.steps[4]).toBeUndefined();
    const fine = materializeRollback(steps, before, snap([], { packages: [pkg('brittle', '2', 'ii'), pkg('extra', '1', 'ii')] }));
    expect(fine.merged).toBeUndefined();
    expect(fine.steps.map((s) => s?.length)).toEqual([1, 1, 1, 0, undefined]);
  });

  it('half done: half-installed, unpacked, half-configured, awaiting triggers, reinstall required', () => {
    expect(['iH', 'iU', 'iF', 'iW', 'it', 'iHR'].map((status) => isHalfDone({ status }))).toEqual([true, true, true, true, true, true]);
    expect(['ii', 'rc', 'un', 'pn'].map((status) => isHalfDone({ status }))).toEqual([false, false, false, false]);
  });
});

// ---- property: the side-file restore against a model file system ----------------------------

type Fs = Map<string, string>;
const BASES = ['/etc/p/one.conf', '/etc/p/two.conf'];
const SUFFIXES = ['', ...SIDE_FILE_SUFFIXES.slice(0, 4)];

/** A driver's snapshot of a model file system: the recorded files and the side files present beside them. */
function modelSnapshot(fs: Fs, conffiles: readonly string[]): Snapshot {
  const files: SnapshotFile[] = [];
  for (const p of conffiles) {
    files.push({ path: p, source: 'conffile', owner: 'p', state: fs.has(p) ? present(fs.get(p)!) : { kind: 'absent' } });
    for (const s of SIDE_FILE_SUFFIXES) if (fs.has(p + s)) files.push({ path: p + s, source: 'side', sideOf: p, state: present(fs.get(p + s)!) });
  }
  return snap(files);
}

/** The driver's restore-config, on the model. */
function applyModel(fs: Fs, step: Step): void {
  if (step.kind !== 'restore-config') return;
  const put = (p: string, st: FileState): void => {
    if (st.kind === 'absent') fs.delete(p);
    else fs.set(p, Buffer.from(st.contentBase64, 'base64').toString());
  };
  put(step.path, step.state);
  if (!step.sides) return;
  for (const s of step.sides) put(step.path + s.suffix, s.state);
  for (const s of SIDE_FILE_SUFFIXES) if (!step.sides.some((x) => x.suffix === s)) fs.delete(step.path + s);
}

const fsArb = fc.dictionary(fc.constantFrom(...BASES.flatMap((b) => SUFFIXES.map((s) => b + s))), fc.constantFrom('x', 'y', 'z'), { maxKeys: 10 }).map((o) => new Map(Object.entries(o)));

describe('property: restoring conffiles brings back every recorded file and its side files', () => {
  it('from any state after the forward, with anything dpkg adds after the last snapshot', () => {
    fc.assert(fc.property(fsArb, fsArb, fsArb, fc.subarray(BASES, { minLength: 1 }), fc.subarray(BASES), (start, forward, later, ownedBefore, ownedAfter) => {
      const before = modelSnapshot(start, ownedBefore);
      const current = modelSnapshot(forward, ownedAfter);
      // the rollback's own dpkg run changes files after `current` was taken
      const fs = new Map([...forward, ...later]);
      for (const step of materializeRollbackStep({ kind: 'restore-conffiles', package: 'p', state: { kind: 'snapshot' } }, before, current) ?? []) applyModel(fs, step);
      for (const b of ownedBefore) for (const s of SUFFIXES) expect(fs.get(b + s), b + s).toBe(start.get(b + s));
      // a conffile only the forward had is gone, with its side files
      for (const b of ownedAfter.filter((x) => !ownedBefore.includes(x))) for (const s of SUFFIXES) expect(fs.has(b + s), b + s).toBe(false);
    }), { numRuns: 300 });
  });

  it('the generic restore (planRestore) does the same between two snapshots', () => {
    fc.assert(fc.property(fsArb, fsArb, (start, forward) => {
      const fs = new Map(forward);
      for (const step of planRestore(modelSnapshot(forward, BASES), modelSnapshot(start, BASES)).steps) applyModel(fs, step);
      for (const b of BASES) for (const s of SUFFIXES) expect(fs.get(b + s), b + s).toBe(start.get(b + s));
    }), { numRuns: 200 });
  });
});

describe('the knowledge base field reaches the rollback planner', () => {
  it('convertsData (true, or a note and paths) is read from YAML into the rollback knowledge; a typo inside is refused with its position', async () => {
    const temp = createTempKb({
      'org.yaml': `${HEADER()}packages:
  - name: store
    versions:
      - version: "1.0"
      - version: "2.0"
        convertsData: true
      - version: "3.0"
        convertsData:
          note: rewritten in format 3
          paths: [/var/lib/store/data]
`,
      'bad/org.yaml': `${HEADER('bad')}packages:
  - name: store
    versions:
      - version: "1.0"
        convertsData: { notes: typo }
`,
    });
    try {
      const kb = await loadKnowledgeBase([temp.file('org.yaml')]);
      expect(kb.problems).toEqual([]);
      expect(rollbackKnowledgeFromKb(kb).packages).toEqual([{
        name: 'store', scheme: 'deb', versions: [
          { version: '1.0', migrations: [] },
          { version: '2.0', migrations: [], convertsData: {} },
          { version: '3.0', migrations: [], convertsData: { note: 'rewritten in format 3', paths: ['/var/lib/store/data'] } },
        ],
      }]);
      const bad = await loadKnowledgeBase([temp.file('bad/org.yaml')]);
      expect(bad.problems.length).toBeGreaterThan(0);
      expect(bad.problems[0]).toMatchObject({ code: 'RW_KB_UNKNOWN_KEY', severity: 'error', file: temp.file('bad/org.yaml'), line: 10 });
    } finally {
      temp.cleanup();
    }
  });
});
