/**
 * EDSP 0.5 without apt: scenarios written here, read by the kb importer, solved, and answered.
 * Request fields (Install/Remove, Upgrade-All and the deprecated Upgrade, Strict-Pinning,
 * Forbid-New-Install, Forbid-Remove, Autoremove, Preferences), answers by APT-ID (an upgrade
 * is only the install of the new version), and bad scenarios as RW_EDSP_PARSE with
 * file:line:column, also for a relation the universe's index path rejects.
 */
import { describe, expect, it } from 'vitest';
import { parseEdspScenario } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { createEdspProblem, solveEdspScenario, writeEdspSolution, edspError, edspProgress } from '../../src/solver/index.js';
import { answerEdsp } from '../../src/app/index.js';

interface Pkg { name: string; version: string; id: number; installed?: boolean; candidate?: boolean; automatic?: boolean; hold?: boolean; depends?: string; conflicts?: string; provides?: string; pin?: number; arch?: string }

function scenario(request: string[], pkgs: Pkg[]): string {
  const head = ['Request: EDSP 0.5', 'Architecture: amd64', 'Architectures: amd64', ...request].join('\n');
  const body = pkgs.map((p) => [
    `Package: ${p.name}`, `Architecture: ${p.arch ?? 'amd64'}`, `Version: ${p.version}`, `APT-ID: ${p.id}`,
    ...(p.installed ? ['Installed: yes'] : []), ...(p.hold ? ['Hold: yes'] : []),
    ...(p.depends ? [`Depends: ${p.depends}`] : []), ...(p.conflicts ? [`Conflicts: ${p.conflicts}`] : []), ...(p.provides ? [`Provides: ${p.provides}`] : []),
    `APT-Pin: ${p.pin ?? 500}`, ...(p.candidate === false ? [] : ['APT-Candidate: yes']), ...(p.automatic ? ['APT-Automatic: yes'] : []),
  ].join('\n'));
  return [head, ...body].join('\n\n') + '\n';
}

function answer(text: string): { kind: string; stanzas: string[] } {
  const { ep, outcome: out } = solveEdspScenario(parseEdspScenario(Buffer.from(text), 'scenario.edsp'));
  if (out.kind !== 'solution') return { kind: out.kind, stanzas: [] };
  const ans = writeEdspSolution(ep, out.installedAfter);
  return { kind: 'solution', stanzas: ans.split('\n\n').filter(Boolean).map((s) => s.split('\n')[0]!).sort() };
}

function parseError(text: string): RollwiseError {
  try {
    createEdspProblem(parseEdspScenario(Buffer.from(text), 'scenario.edsp'));
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('accepted');
}

const LIBS: Pkg[] = [
  { name: 'lib', version: '1.0', id: 1, installed: true, candidate: false },
  { name: 'lib', version: '2.0', id: 2 },
  { name: 'app', version: '1.0', id: 3, depends: 'lib (>= 2.0)' },
  { name: 'old', version: '1.0', id: 4, installed: true, depends: 'lib (<< 2.0)' },
];

describe('EDSP scenarios: the request', () => {
  it('reads the Request stanza and the package facts apt sends', () => {
    const sc = parseEdspScenario(Buffer.from(scenario(['Install: app:amd64 lib', 'Remove: old', 'Strict-Pinning: no', 'Preferences: -removed,-changed', 'Solver: rollwise'], [
      ...LIBS, { name: 'tool', version: '1', id: 9, installed: true, automatic: true, hold: true, pin: 1001 },
    ])), 'x');
    const r = sc.request;
    expect(r.architecture).toBe('amd64');
    expect(r.install.map((t) => [t.name, t.arch, t.position.line, t.position.column])).toEqual([['app', 'amd64', 4, 10], ['lib', undefined, 4, 20]]);
    expect(r.remove.map((t) => t.name)).toEqual(['old']);
    expect(r.strictPinning).toBe(false);
    expect(r.preferences).toBe('-removed,-changed');
    expect(sc.packages.count).toBe(5);
    expect(sc.packages.id[4]).toBe('9');
    expect(sc.packages.pin[4]).toBe(1001);
    expect(sc.packages.flags[4]).toBe(1 | 2 | 4 | 8);
    expect(sc.packages.line[0]).toBe(10);
  });

  it('the deprecated Upgrade: yes is Upgrade-All with Forbid-New-Install and Forbid-Remove', () => {
    const r = parseEdspScenario(Buffer.from(scenario(['Upgrade: yes'], LIBS)), 'x').request;
    expect([r.upgradeAll, r.forbidNewInstall, r.forbidRemove]).toEqual([true, true, true]);
    const d = parseEdspScenario(Buffer.from(scenario(['Dist-Upgrade: yes'], LIBS)), 'x').request;
    expect([d.upgradeAll, d.forbidNewInstall, d.forbidRemove]).toEqual([true, false, false]);
  });
});

describe('EDSP scenarios: solving as apt asks', () => {
  it('install: the dependency is upgraded, and the package that needed the old version removed', () => {
    expect(answer(scenario(['Install: app'], LIBS))).toEqual({ kind: 'solution', stanzas: ['Install: 2', 'Install: 3', 'Remove: 4'] });
  });

  it('Forbid-Remove: the same request has no solution', () => {
    expect(answer(scenario(['Install: app', 'Forbid-Remove: yes'], LIBS)).kind).toBe('conflict');
  });

  it('strict pinning: only the candidate may be installed; without it, candidates first, then any version', () => {
    const pkgs: Pkg[] = [{ name: 'pp', version: '1.0', id: 1 }, { name: 'pp', version: '2.0', id: 2, candidate: false, pin: 100 }];
    expect(answer(scenario(['Install: pp'], pkgs)).stanzas).toEqual(['Install: 1']);
    // without strict pinning the candidate is still preferred
    expect(answer(scenario(['Install: pp', 'Strict-Pinning: no'], pkgs)).stanzas).toEqual(['Install: 1']);
    // a version no candidate offers cannot satisfy a dependency with strict pinning; without it, it can
    const dep: Pkg[] = [...pkgs, { name: 'qq', version: '1', id: 3, depends: 'pp (>= 2.0)' }];
    expect(answer(scenario(['Install: qq'], dep)).kind).toBe('conflict');
    expect(answer(scenario(['Install: qq', 'Strict-Pinning: no'], dep)).stanzas).toEqual(['Install: 2', 'Install: 3']);
  });

  it('upgrade of all: upgrades, but Forbid-New-Install holds back one that needs a new package', () => {
    const pkgs: Pkg[] = [
      { name: 'aa', version: '1', id: 1, installed: true, candidate: false }, { name: 'aa', version: '2', id: 2 },
      { name: 'bb', version: '1', id: 3, installed: true, candidate: false }, { name: 'bb', version: '2', id: 4, depends: 'newdep' },
      { name: 'newdep', version: '1', id: 5 },
    ];
    expect(answer(scenario(['Upgrade-All: yes'], pkgs)).stanzas).toEqual(['Install: 2', 'Install: 4', 'Install: 5']);
    expect(answer(scenario(['Upgrade-All: yes', 'Forbid-New-Install: yes', 'Forbid-Remove: yes'], pkgs)).stanzas).toEqual(['Install: 2']);
  });

  it('a held package keeps its version', () => {
    const pkgs: Pkg[] = [{ name: 'aa', version: '1', id: 1, installed: true, hold: true, candidate: false }, { name: 'aa', version: '2', id: 2 }];
    expect(answer(scenario(['Upgrade-All: yes'], pkgs)).stanzas).toEqual([]);
  });

  it('Autoremove: automatic packages nothing needs any more are removed when apt asks, else reported', () => {
    const pkgs: Pkg[] = [
      { name: 'top', version: '1', id: 1, installed: true, depends: 'dep' },
      { name: 'dep', version: '1', id: 2, installed: true, automatic: true },
      { name: 'stray', version: '1', id: 3, installed: true, automatic: true },
    ];
    expect(answer(scenario(['Autoremove: yes'], pkgs)).stanzas).toEqual(['Remove: 3']);
    expect(answer(scenario(['Remove: top'], pkgs)).stanzas).toEqual(['Autoremove: 2', 'Autoremove: 3', 'Remove: 1']);
  });

  it('Preferences are criteria: Recommends count only when they say so', () => {
    const pkgs: Pkg[] = [{ name: 'aa', version: '1', id: 1 }, { name: 'rr', version: '1', id: 2 }];
    const text = scenario(['Install: aa'], pkgs).replace('APT-ID: 1\n', 'APT-ID: 1\nRecommends: rr\n');
    expect(answer(text).stanzas).toEqual(['Install: 1']);
    expect(answer(text.replace('Install: aa\n', 'Install: aa\nPreferences: -count(removed),-unsat_recommends(solution),-count(changed)\n')).stanzas).toEqual(['Install: 1', 'Install: 2']);
  });
});

describe('EDSP scenarios: bad input', () => {
  it('a scenario that does not start with a Request stanza', () => {
    const e = parseError('Package: a\nVersion: 1\nArchitecture: all\nAPT-ID: 1\n');
    expect(e.code).toBe('RW_EDSP_PARSE');
    expect(e.message).toMatch(/does not start with a Request stanza/);
    expect(e.position).toEqual({ file: 'scenario.edsp', line: 1, column: 1 });
  });

  it('a package stanza without APT-ID, a bad pin, a bad name in Install: each with its position', () => {
    const noId = parseError(scenario([], [{ name: 'aa', version: '1', id: 1 }]).replace('APT-ID: 1\n', ''));
    expect(noId.message).toMatch(/'aa' has no APT-ID/);
    expect(noId.position?.line).toBe(5);
    const pin = parseError(scenario([], [{ name: 'aa', version: '1', id: 1 }]).replace('APT-Pin: 500', 'APT-Pin: high'));
    expect(pin.message).toMatch(/APT-Pin: expected an integer, found 'high'/);
    expect(pin.position).toEqual({ file: 'scenario.edsp', line: 9, column: 10 });
    const name = parseError(scenario(['Install: ok Bad_Name'], [{ name: 'ok', version: '1', id: 1 }]));
    expect(name.message).toMatch(/'Bad_Name' is not a package name/);
    expect(name.position).toEqual({ file: 'scenario.edsp', line: 4, column: 13 });
  });

  it('a malformed relation is reported at its line and column in the scenario (through the index path)', () => {
    const e = parseError(scenario([], [{ name: 'aa', version: '1', id: 1 }, { name: 'bb', version: '1', id: 2, depends: 'aa (>= 1' }]));
    expect(e.code).toBe('RW_EDSP_PARSE');
    expect(e.message).toMatch(/Depends/);
    expect(e.position?.line).toBe(16); // the Depends line of bb
  });

  it('unusable Preferences are RW_USAGE at the Preferences field', () => {
    const e = parseError(scenario(['Install: aa', 'Preferences: -removed,-sum(solution,installedsize)'], [{ name: 'aa', version: '1', id: 1 }]));
    expect(e.code).toBe('RW_USAGE');
    expect(e.message).toMatch(/^Preferences: criterion '-sum\(solution,installedsize\)' at column 10/);
    expect(e.position).toEqual({ file: 'scenario.edsp', line: 5, column: 14 });
  });

  it('the service writes an Error stanza apt can show, and still fails with the code', async () => {
    const written: string[] = [];
    async function* input(): AsyncGenerator<Buffer> { yield Buffer.from('Package: a\n'); }
    await expect(answerEdsp(input(), (t) => written.push(t))).rejects.toThrow(/Request stanza/);
    expect(written.join('')).toMatch(/^Error: RW_EDSP_PARSE\nMessage: Rollwise: RW_EDSP_PARSE: .*Request stanza/);
  });
});

describe('EDSP answers: stanzas', () => {
  it('Progress and Error stanzas are deb822 (multi-line messages continued, empty lines as " .")', () => {
    expect(edspProgress(42.4, 'solving', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('Progress: Fri, 02 Jan 2026 03:04:05 +0000\nPercentage: 42\nMessage: solving\n\n');
    expect(edspError('x', 'first\nsecond\n\nthird')).toBe('Error: x\nMessage: first\n second\n .\n third\n\n');
  });

  it('a request with no solution: explanation and resolutions in the Error message', async () => {
    const written: string[] = [];
    const text = scenario(['Install: app', 'Forbid-Remove: yes'], LIBS);
    async function* input(): AsyncGenerator<Buffer> { yield Buffer.from(text); }
    const out = await answerEdsp(input(), (t) => written.push(t));
    expect(out.kind).toBe('conflict');
    const all = written.join('');
    expect(all).toMatch(/Progress: .*\nPercentage: 10\n/);
    expect(all).toMatch(/Error: rollwise-no-solution\nMessage: Rollwise: the request has no solution\.\n /);
    expect(all).toMatch(/ app 1\.0/);
  });
});
