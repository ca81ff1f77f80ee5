/**
 * `rollwise cudf` on CUDF problems made from bookworm (test/helpers/peers-cudf.ts), against the
 * Mancoosi peers: every solution passes cudf-check (cudf-tools), and its criteria values
 * (evaluated here, independently of every solver) equal those of mccs (mccs) and aspcud
 * under the same lexicographic criteria, and are never worse than aspcud's (aspcud) (aspcud is
 * not always optimal on these problems). A problem without a solution is FAIL for all.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { ensureBaseStatus, runAspcud, runCudfCheck, runMccs } from '../../helpers/peers.js';
import { createCudfFromDebian, criteriaVector, evaluateCriteria, type CudfFromDebianRequest } from '../../helpers/peers-cudf.js';
import { loadIndexRecords, type LoadedIndex } from './fixture.js';

let index: LoadedIndex;
let baseNames: string[];
let dir: string;

beforeAll(async () => {
  index = loadIndexRecords();
  baseNames = (await ensureBaseStatus(index.file)).names;
  dir = mkdtempSync(join(tmpdir(), 'rw-peers-cudf-'));
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compareLex(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

interface Case {
  title: string;
  request: (base: string[]) => CudfFromDebianRequest;
  criteria: string;
  peers: Array<'mccs' | 'aspcud'>;
}

const cases: Case[] = [
  { title: 'install curl on an empty system, paranoid', request: () => ({ install: ['curl'] }), criteria: '-removed,-changed', peers: ['mccs', 'aspcud'] },
  { title: 'install task-gnome-desktop on an empty system, paranoid', request: () => ({ install: ['task-gnome-desktop'] }), criteria: '-removed,-changed', peers: ['mccs', 'aspcud'] },
  { title: 'install kde-full on an empty system, -removed,-notuptodate,-new', request: () => ({ install: ['kde-full'] }), criteria: '-removed,-notuptodate,-new', peers: ['mccs', 'aspcud'] },
  { title: 'base system: install postfix (replaces nothing installed), paranoid', request: (b) => ({ install: ['postfix'], installed: b }), criteria: '-removed,-changed', peers: ['mccs', 'aspcud'] },
  { title: 'base system: remove libnftables1 and install curl, paranoid', request: (b) => ({ install: ['curl'], remove: ['libnftables1'], installed: b }), criteria: '-removed,-changed', peers: ['mccs', 'aspcud'] },
  { title: 'base system: install exim4-daemon-heavy, -removed,-new', request: (b) => ({ install: ['exim4-daemon-heavy'], installed: b }), criteria: '-removed,-new', peers: ['mccs', 'aspcud'] },
  // Recommends as the CUDF `recommends` property; mccs 1.1 segfaults on nunsat criteria here, so aspcud only
  { title: 'install texlive-full with Recommends on an empty system, -removed,-unmet_recommends,-changed', request: () => ({ install: ['texlive-full'], recommends: true }), criteria: '-removed,-unmet_recommends,-changed', peers: ['aspcud'] },
];

describe('rollwise cudf against mccs and aspcud on problems made from bookworm', () => {
  for (const c of cases) {
    it(c.title, async () => {
      const gen = createCudfFromDebian(index.records, c.request(baseNames));
      expect(gen.collisions).toBe(0);
      const problem = join(dir, `${c.title.replace(/[^a-z0-9]+/gi, '-')}.cudf`);
      writeFileSync(problem, gen.text);
      const out = `${problem}.rollwise`;
      const r = runCli(['cudf', '--criteria', c.criteria, problem, out]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const ours = readFileSync(out, 'utf8');
      expect(ours).not.toMatch(/^FAIL/m);
      expect(ours).not.toMatch(/not proven optimal/);
      const check = await runCudfCheck(problem, ours);
      expect(check.output).toContain('is_solution: true');
      const oursValues = criteriaVector(evaluateCriteria(gen.text, ours), c.criteria);
      for (const peer of c.peers) {
        const p = peer === 'mccs' ? await runMccs(problem, c.criteria) : await runAspcud(problem, c.criteria);
        expect(p.solution, `${peer} found a solution`).toBeDefined();
        const peerCheck = await runCudfCheck(problem, p.solution!);
        expect(peerCheck.ok, `${peer}'s solution passes cudf-check`).toBe(true);
        const peerValues = criteriaVector(evaluateCriteria(gen.text, p.solution!), c.criteria);
        console.log(`${c.title} [${c.criteria}] (${gen.packages} packages): rollwise ${oursValues.join(',')}; ${peer} ${peerValues.join(',')} (${Math.round(p.run.wallMs)} ms)`);
        if (peer === 'mccs') expect(oursValues, `criteria ${c.criteria}: rollwise vs mccs`).toEqual(peerValues);
        // aspcud is not always optimal here (on the kde-full problem it reports OPTIMUM FOUND for
        // -count(new) = 1121 where mccs and rollwise find valid solutions with 1110): a peer must
        // never beat us, lexicographically
        else expect(compareLex(oursValues, peerValues), `criteria ${c.criteria}: rollwise ${oursValues} not worse than ${peer} ${peerValues}`).toBeLessThanOrEqual(0);
      }
    }, 600_000);
  }

  it('a problem without a solution (postfix and exim4-daemon-heavy together): FAIL for rollwise, mccs and aspcud', async () => {
    const gen = createCudfFromDebian(index.records, { install: ['postfix', 'exim4-daemon-heavy'] });
    const problem = join(dir, 'impossible.cudf');
    writeFileSync(problem, gen.text);
    const r = runCli(['cudf', problem]);
    expect(r.stdout).toMatch(/^FAIL/);
    expect(r.stdout).toMatch(/postfix|exim4/);
    expect((await runMccs(problem, '-removed,-changed')).solution).toBeUndefined();
    expect((await runAspcud(problem, '-removed,-changed')).solution).toBeUndefined();
  }, 600_000);
});
