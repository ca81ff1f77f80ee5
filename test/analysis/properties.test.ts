/** Properties of the model: a reason never lowers a probability; probabilities stay in [0, 1]. */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Knowledge } from '../../src/app/index.js';
import {
  IMPACT_KINDS, combineWeights, compareLevels, predictImpact, riskOf,
  type DeploymentHistoryEntry, type ImpactKind, type ImpactReason,
} from '../../src/analysis/index.js';
import type { GroupFinding } from '../../src/planner/index.js';
import { APP_HOST, KI_0001, createGroup, install, loadExampleKnowledge, upgrade } from './helpers.js';

const weight = fc.double({ min: 0, max: 1, noNaN: true });
const anyNumber = fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Infinity), fc.constant(-Infinity));
const kind = fc.constantFrom<ImpactKind>(...IMPACT_KINDS);
const criticality = fc.constantFrom('critical', 'high', 'medium', 'low') as fc.Arbitrary<'critical' | 'high' | 'medium' | 'low'>;

const reason: fc.Arbitrary<ImpactReason> = fc.oneof(
  weight.map((w): ImpactReason => ({ kind: 'version-jump', package: 'p', from: '1', to: '2', jump: 'major', weight: w })),
  fc.tuple(weight, fc.nat(20), fc.nat(20)).map(([w, runs, failures]): ImpactReason => ({ kind: 'history', package: 'p', change: 'upgrade', runs, failures, priorFailures: 1, priorSuccesses: 49, weight: w })),
  fc.tuple(weight, criticality, kind).map(([w, c, k]): ImpactReason => ({ kind: 'service-reached', service: 's', criticality: c, impact: k, distance: 1, weight: w })),
  fc.tuple(weight, fc.boolean()).map(([w, shortfall]): ImpactReason => ({ kind: 'resource', resource: 'memory', unit: 'MiB', added: 1, inUse: 1, available: 2, shortfall, packages: ['p'], weight: w })),
);

describe('combining reasons', () => {
  it('adding a weight never lowers the noisy-OR, which stays within [0, 1]', () => {
    fc.assert(fc.property(fc.array(weight, { maxLength: 30 }), weight, (ws, w) => {
      const before = combineWeights(ws);
      const after = combineWeights([...ws, w]);
      expect(after).toBeGreaterThanOrEqual(before);
      expect(after).toBeGreaterThanOrEqual(0);
      expect(after).toBeLessThanOrEqual(1);
    }));
  });

  it('stays within [0, 1] whatever numbers it is given', () => {
    fc.assert(fc.property(fc.array(anyNumber, { maxLength: 30 }), (ws) => {
      const p = combineWeights(ws);
      expect(p >= 0 && p <= 1).toBe(true);
    }));
  });

  it('adding a reason never lowers a risk’s probability or level', () => {
    fc.assert(fc.property(kind, fc.array(reason, { maxLength: 12 }), reason, (k, rs, r) => {
      const before = riskOf(k, rs);
      const after = riskOf(k, [...rs, r]);
      expect(after.probability).toBeGreaterThanOrEqual(before.probability);
      expect(after.probability).toBeLessThanOrEqual(1);
      expect(compareLevels(after.level, before.level)).toBeLessThanOrEqual(0);
    }));
  });
});

describe('predictImpact', () => {
  let k: Knowledge;
  beforeAll(async () => {
    k = await loadExampleKnowledge();
  });

  const pool = [
    upgrade('shopfront', '1.8.3', '2.0.0'), install('libjemalloc2', '5.3.0-1'), upgrade('libssl3', '3.0.11-1~deb12u2', '3.0.20-1~deb12u2'),
    upgrade('less', '590-2.1~deb12u1', '590-2.1~deb12u2'), upgrade('libuv1', '1.44.2-1', '1.44.2-1+deb12u1'),
    { action: 'remove' as const, name: 'openssl', architecture: 'amd64', from: '3.0.20-1~deb12u2' },
  ];
  const findings: GroupFinding[] = [
    KI_0001,
    { kind: 'requirement-unknown', rule: 'requirement:shopfront=2.0.0', severity: 'medium', package: 'shopfront', message: 'm', reason: 'r', source: 's' },
  ];
  const entry = (pkg: string, change: DeploymentHistoryEntry['change'], failed: boolean): DeploymentHistoryEntry => ({ package: pkg, change, outcome: failed ? 'failed' : 'succeeded', at: '2026-01-01' });
  const historyArb = fc.array(fc.tuple(fc.constantFrom('shopfront', 'libjemalloc2', 'less', 'libssl3'), fc.constantFrom('upgrade', 'install') as fc.Arbitrary<'upgrade' | 'install'>, fc.boolean()), { maxLength: 20 })
    .map((xs) => xs.map(([p, c, f]) => entry(p, c, f)));

  it('a finding or a failure never lowers a probability, a success never raises one; all stay within [0, 1]', () => {
    fc.assert(fc.property(
      fc.subarray(pool, { minLength: 1 }), fc.subarray(findings), fc.constantFrom(...findings), historyArb, fc.constantFrom(...pool), fc.integer({ min: 0, max: 8192 }),
      (changes, fs, extra, history, changed, memoryMiB) => {
        const facts = { 'os.id': 'debian', 'memoryMiB': memoryMiB, 'diskFreeMiB': 100, 'cpus': 1 };
        const predict = (f: GroupFinding[], h: DeploymentHistoryEntry[]) =>
          predictImpact({ plan: { groups: [createGroup({ installed: APP_HOST, changes, facts, findings: f })] }, kb: k.kb, universe: k.universe.universe, history: h }).groups[0]!;
        const base = predict(fs, history);
        const more = predict([...fs, extra], history);
        const action = changed.action === 'purge' ? 'remove' : changed.action;
        const failed = predict(fs, [...history, entry(changed.name, action, true)]);
        const succeeded = predict(fs, [...history, entry(changed.name, action, false)]);
        for (const kk of IMPACT_KINDS) {
          for (const g of [base, more, failed, succeeded]) {
            expect(g.risk[kk].probability).toBeGreaterThanOrEqual(0);
            expect(g.risk[kk].probability).toBeLessThanOrEqual(1);
          }
          expect(more.risk[kk].probability).toBeGreaterThanOrEqual(base.risk[kk].probability);
          expect(failed.risk[kk].probability).toBeGreaterThanOrEqual(base.risk[kk].probability);
          expect(succeeded.risk[kk].probability).toBeLessThanOrEqual(base.risk[kk].probability);
        }
      },
    ), { numRuns: 60 });
  });
});
