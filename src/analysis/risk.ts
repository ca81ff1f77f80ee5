/**
 * # The impact model (version 1), line by line
 *
 * 1. Reasons. Every fact that makes a group's change riskier becomes a reason with a weight w in
 *    [0, 1]: the probability that this reason alone makes the change go wrong in one kind of
 *    impact (outage, performance or resources). Per changed package:
 *    - history → outage: the smoothed failure rate of earlier deployments of the same package and
 *      change kind, w = (failures + a) / (runs + a + b) with a = 1, b = 49 (a Beta(1, 49) prior).
 *      No history gives the prior 1/50 = 0.02, neither trusted nor condemned; 10 failures of 10
 *      give 11/60 ≈ 0.18; 0 failures of 50 give 1/100 = 0.01. `failed` and `rolled-back` are failures.
 *    - version jump (./jump.ts) → outage w, performance w/2: epoch 0.15, major 0.10, minor 0.04,
 *      patch 0.02, revision 0.01, security 0.005.
 *    - change action → outage: install 0.01, remove 0.03, downgrade 0.05 (an upgrade: its jump).
 *    - migrations of the KB versions crossed → outage: an up migration 0.03, an irreversible one
 *      0.10; on a downgrade each down migration 0.05, or 0.30 when it cannot be undone
 *      (irreversible, or no down script).
 *    Per group:
 *    - known issues the planner found (its findings; not evaluated again) → the kind of the
 *      issue's effect (data-loss and security count as outage): by severity critical 0.6,
 *      high 0.4, medium 0.2, low 0.1.
 *    - requirement findings → outage: not met 0.5, unknown 0.1.
 *    - resources → resources, one reason per resource whose KB profile the change moves up:
 *      w = added / (available − inUse), clamped to [0, 0.4] (the share of the headroom the change
 *      takes; a tight fit alone stays below the critical threshold); a shortfall (inUse + added >
 *      available) 0.9, which also makes the level critical; headroom unknown (no fact) 0.05.
 *      Memory: available = the `memoryMiB` fact, inUse = the sum of `minMemoryMiB` of the KB
 *      versions installed before. Disk: available = `diskFreeMiB`, inUse = 0 (free is what is
 *      left). CPU: available = `cpus` × 100 percent, inUse = 0. `added` sums the `resources`
 *      profiles (each a change against the previous version) of the KB versions an upgrade
 *      crosses (from, to], minus those a downgrade crosses back, or the installed version's own.
 *    - services reached (./reach.ts) → the kind each is reached with: critical 0.05, high 0.03,
 *      medium 0.02, low 0.01, once per service and kind.
 * 2. Combination: noisy-OR, p = 1 − Π(1 − w). A reason only ever raises p, p stays in [0, 1]
 *    (weights are clamped into [0, 1]).
 * 3. Level: `critical` when p ≥ 0.5, or p ≥ 0.2 and a critical service is reached in that kind,
 *    or (resources) a shortfall; `moderate` when p ≥ 0.1, or p ≥ 0.05 and a critical service is
 *    reached in that kind; otherwise `low`.
 * 4. Plan: per kind, the worst group (highest level, then highest p), each group a reason.
 */
import type { Criticality, ImpactKind, ImpactReason, LevelRule, Risk, RiskLevel, VersionJump } from './model.js';

export const IMPACT_MODEL_VERSION = 1;

export const HISTORY_PRIOR = { failures: 1, successes: 49 } as const;

export const JUMP_WEIGHT: Readonly<Record<VersionJump, number>> = { epoch: 0.15, major: 0.1, minor: 0.04, patch: 0.02, revision: 0.01, security: 0.005 };
/** The performance weight of a jump is its outage weight times this. */
export const JUMP_PERFORMANCE_FACTOR = 0.5;

export const ACTION_WEIGHT = { install: 0.01, remove: 0.03, downgrade: 0.05 } as const;

export const MIGRATION_WEIGHT = { up: 0.03, upIrreversible: 0.1, down: 0.05, downIrreversible: 0.3 } as const;

export const SEVERITY_WEIGHT: Readonly<Record<Criticality, number>> = { critical: 0.6, high: 0.4, medium: 0.2, low: 0.1 };

export const REQUIREMENT_WEIGHT = { 'requirement-not-met': 0.5, 'requirement-unknown': 0.1 } as const;

export const RESOURCE_WEIGHT = { maxShare: 0.4, shortfall: 0.9, unknown: 0.05 } as const;

export const SERVICE_WEIGHT: Readonly<Record<Criticality, number>> = { critical: 0.05, high: 0.03, medium: 0.02, low: 0.01 };

export const LEVEL_THRESHOLDS = {
  critical: 0.5,
  criticalWithCriticalService: 0.2,
  moderate: 0.1,
  moderateWithCriticalService: 0.05,
} as const;

/** The smoothed failure rate (failures + a) / (runs + a + b). */
export function smoothedFailureRate(runs: number, failures: number, prior: { failures: number; successes: number } = HISTORY_PRIOR): number {
  return (failures + prior.failures) / (runs + prior.failures + prior.successes);
}

/** Clamps a weight into [0, 1] (NaN counts as 0). */
export function clampWeight(w: number): number {
  return Number.isNaN(w) ? 0 : Math.min(1, Math.max(0, w));
}

/** Noisy-OR of the weights: 1 − Π(1 − w). */
export function combineWeights(weights: readonly number[]): number {
  let none = 1;
  for (const w of weights) none *= 1 - clampWeight(w);
  return clampWeight(1 - none);
}

/** The level of a probability, given whether a critical service is reached in this kind and whether a resource falls short. */
export function levelOf(p: number, criticalReached: boolean, shortfall: boolean): { level: RiskLevel; rule: LevelRule } {
  const t = LEVEL_THRESHOLDS;
  if (shortfall) return { level: 'critical', rule: 'resource-shortfall' };
  if (p >= t.critical) return { level: 'critical', rule: 'probability' };
  if (criticalReached && p >= t.criticalWithCriticalService) return { level: 'critical', rule: 'critical-service' };
  if (p >= t.moderate) return { level: 'moderate', rule: 'probability' };
  if (criticalReached && p >= t.moderateWithCriticalService) return { level: 'moderate', rule: 'critical-service' };
  return { level: 'low', rule: 'probability' };
}

const LEVEL_RANK: Readonly<Record<RiskLevel, number>> = { critical: 0, moderate: 1, low: 2 };

export function compareLevels(a: RiskLevel, b: RiskLevel): number {
  return LEVEL_RANK[a] - LEVEL_RANK[b];
}

/** Rounds for output (6 decimals), so stored predictions compare equal across runs. */
export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A risk from its reasons (heaviest first; ties keep their order). */
export function riskOf(kind: ImpactKind, reasons: ImpactReason[]): Risk {
  const sorted = reasons.map((r) => ({ ...r, weight: round(clampWeight(r.weight)) })).sort((a, b) => b.weight - a.weight);
  const p = round(combineWeights(reasons.map((r) => r.weight)));
  const criticalReached = reasons.some((r) => r.kind === 'service-reached' && r.criticality === 'critical' && r.impact === kind);
  const shortfall = kind === 'resources' && reasons.some((r) => r.kind === 'resource' && r.shortfall);
  const { level, rule } = levelOf(p, criticalReached, shortfall);
  return { level, probability: p, levelRule: rule, reasons: sorted };
}
