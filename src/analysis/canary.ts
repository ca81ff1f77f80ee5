/**
 * The canary judge: are the hosts just changed worse than the hosts not yet changed over the same
 * window (or than themselves before the wave, when no unchanged host remains)? A rank test
 * (Mann-Whitney U, ./canary-stats.ts), one-sided in the direction that hurts, and a minimum
 * effect: the Hodges-Lehmann shift must reach max(minRelativeEffect x |control median|,
 * minAbsoluteEffect). A fleet-wide dip moves both groups and is not blamed on the change.
 */
import { median } from 'simple-statistics';
import { hodgesLehmannShift, mannWhitneyU, type Alternative } from './canary-stats.js';
import type { CanaryOptions, CanaryStatistic, Direction } from './verdict-model.js';

export const DEFAULT_CANARY: CanaryOptions = {
  direction: 'higher-is-worse',
  minRelativeEffect: 0.1,
  minAbsoluteEffect: 0,
  alpha: 0.01,
  minSamples: 5,
};

const ALTERNATIVE: Record<Direction, Alternative> = { 'higher-is-worse': 'greater', 'lower-is-worse': 'less', either: 'two-sided' };

export function judgeCanary(changed: readonly number[], control: readonly number[], options: CanaryOptions, against: 'control' | 'baseline' = 'control'): CanaryStatistic {
  const x = changed.filter(Number.isFinite);
  const y = control.filter(Number.isFinite);
  const base = { test: 'mann-whitney-u' as const, changedCount: x.length, controlCount: y.length, against, direction: options.direction };
  if (x.length < options.minSamples || y.length < options.minSamples) {
    return {
      ...base, method: 'normal', u: 0, pValue: 1, shift: 0, relativeShift: 0,
      changedMedian: x.length > 0 ? median(x) : NaN, controlMedian: y.length > 0 ? median(y) : NaN, outcome: 'insufficient',
    };
  }
  const test = mannWhitneyU(x, y, ALTERNATIVE[options.direction]);
  const shift = hodgesLehmannShift(x, y);
  const controlMedian = median(y);
  const relativeShift = controlMedian !== 0 ? shift / Math.abs(controlMedian) : shift === 0 ? 0 : shift > 0 ? Infinity : -Infinity;
  const needed = Math.max(options.minRelativeEffect * Math.abs(controlMedian), options.minAbsoluteEffect);
  const harmful = options.direction === 'higher-is-worse' ? shift : options.direction === 'lower-is-worse' ? -shift : Math.abs(shift);
  const large = harmful > 0 && harmful >= needed;
  return {
    ...base,
    method: test.method,
    u: test.u1,
    pValue: test.pValue,
    shift,
    relativeShift,
    changedMedian: median(x),
    controlMedian,
    outcome: test.pValue < options.alpha && large ? 'worse' : 'similar',
  };
}
