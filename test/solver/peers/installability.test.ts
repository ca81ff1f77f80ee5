/**
 * Whole-archive installability against dose-distcheck (package dose-distcheck), with dose's
 * meaning (Essential packages installed with each package checked, Breaks as Conflicts):
 * - bookworm main amd64 as shipped (dose finds 16 non-installable package versions);
 * - the same index without a few widely used, non-Essential libraries (BROKEN_ARCHIVE_DELETIONS),
 *   where thousands of packages cannot be installed.
 * The resolver's broken set must equal dose's exactly. dose runs once per input and its answer
 * is cached under .bench-cache/peers by the input's sha256 (regenerated when absent). On the
 * shipped archive, libsolv's installcheck (libsolv-tools) is a second witness.
 */
import { describe, expect, it } from 'vitest';
import { checkInstallable } from '../../../src/solver/index.js';
import {
  BROKEN_ARCHIVE_DELETIONS,
  cachedDoseDistcheck,
  ensureBookwormPackages,
  ensureIndexWithout,
  keyOfId,
  runInstallcheck,
  solvableKey,
  type PackageId,
} from '../../helpers/peers.js';
import { loadIndexRecords, loadProblem } from './fixture.js';
import { renderBrokenChain } from '../../helpers/words.js';

function ours(file: string): { broken: PackageId[]; complete: boolean; explanations: Map<string, string> } {
  const { problem } = loadProblem(loadIndexRecords(file));
  const report = checkInstallable(problem.set, { explain: true, timeBudgetMs: 600_000 });
  const broken = report.broken.map((b) => ({ package: b.package, version: b.version, architecture: b.architecture }));
  return { broken, complete: report.complete, explanations: new Map(report.broken.map((b) => [keyOfId(b), renderBrokenChain(b.explanation)])) };
}

function diff(a: readonly PackageId[], b: readonly PackageId[]): { onlyA: string[]; onlyB: string[] } {
  const sa = new Set(a.map(keyOfId));
  const sb = new Set(b.map(keyOfId));
  return { onlyA: [...sa].filter((k) => !sb.has(k)).sort(), onlyB: [...sb].filter((k) => !sa.has(k)).sort() };
}

describe('whole-archive installability equals dose-distcheck', () => {
  it('bookworm main amd64 as shipped: same non-installable set as dose-distcheck and installcheck', async () => {
    const file = ensureBookwormPackages();
    const dose = await cachedDoseDistcheck(file);
    expect(dose.total).toBe(63440);
    expect(dose.broken.length).toBeGreaterThan(0);
    const mine = ours(file);
    expect(mine.complete).toBe(true);
    const d = diff(mine.broken, dose.broken);
    expect({ onlyRollwise: d.onlyA, onlyDose: d.onlyB }).toEqual({ onlyRollwise: [], onlyDose: [] });
    // every broken package comes with a non-empty explanation
    for (const b of mine.broken) expect(mine.explanations.get(keyOfId(b))?.length ?? 0).toBeGreaterThan(0);

    const ic = await runInstallcheck(file, { timeoutMs: 300_000 });
    expect(ic.run.timedOut).toBe(false);
    expect(new Set(ic.broken)).toEqual(new Set(mine.broken.map(solvableKey)));
  }, 600_000);

  it(`bookworm without ${BROKEN_ARCHIVE_DELETIONS.join(', ')}: thousands broken, same set as dose-distcheck`, async () => {
    const file = ensureIndexWithout(ensureBookwormPackages(), BROKEN_ARCHIVE_DELETIONS);
    const dose = await cachedDoseDistcheck(file);
    expect(dose.total).toBe(63440 - BROKEN_ARCHIVE_DELETIONS.length);
    expect(dose.broken.length).toBeGreaterThan(1000);
    const mine = ours(file);
    expect(mine.complete).toBe(true);
    const d = diff(mine.broken, dose.broken);
    expect({ onlyRollwise: d.onlyA.slice(0, 20), onlyDose: d.onlyB.slice(0, 20), counts: [d.onlyA.length, d.onlyB.length] }).toEqual({ onlyRollwise: [], onlyDose: [], counts: [0, 0] });
  }, 900_000);
});
