// Wave layout (pure): every selected host in exactly one wave, a canary of every group per
// ordering stage, ordering constraints honoured, sizes and budgets resolved; the host selector.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  layoutWaves, matchesSelector, parseDuration, parseFailureBudget, parseHostSelector, parseWaveSizes,
  type WaveGroupInput, type WaveOptions,
} from '../../src/planner/index.js';
import { isRollwiseError } from '../../src/shared/index.js';

const opts = (sizes = '1,10%,50%,100%', extra: Partial<WaveOptions> = {}): WaveOptions => ({ sizes: parseWaveSizes(sizes), bakeMs: 1000, ...extra });

describe('layoutWaves', () => {
  it('opens with one host of every group, then grows by cumulative shares', () => {
    const groups: WaveGroupInput[] = [
      { key: 'a', hosts: Array.from({ length: 10 }, (_, i) => `a-${String(i).padStart(2, '0')}`) },
      { key: 'b', hosts: Array.from({ length: 8 }, (_, i) => `b-${i}`) },
      { key: 'c', hosts: ['c-0', 'c-1'] },
    ];
    const l = layoutWaves(groups, opts());
    expect(l.hosts).toBe(20);
    expect(l.waves[0]!.canary).toBe(true);
    expect(l.waves[0]!.hosts).toEqual([{ host: 'a-00', group: 'a' }, { host: 'b-0', group: 'b' }, { host: 'c-0', group: 'c' }]);
    // 10% of 20 = 2 is below the canary's 3: skipped; then 50% (10), then 100%
    expect(l.waves.map((w) => w.hosts.length)).toEqual([3, 7, 10]);
    // the second wave mixes groups round-robin
    expect(l.waves[1]!.hosts.slice(0, 3).map((h) => h.group)).toEqual(['a', 'b', 'c']);
  });

  it('resolves budgets, bake and gates', () => {
    const l = layoutWaves([{ key: 'g', hosts: Array.from({ length: 40 }, (_, i) => `h${i}`) }], opts('1,25%,100%', { waveFailures: parseFailureBudget('10%'), rolloutFailures: parseFailureBudget('3'), gateAfter: [1] }));
    expect(l.waves.map((w) => [w.hosts.length, w.maxFailures, w.gate])).toEqual([[1, 0, true], [9, 0, false], [30, 3, false]]);
    expect(l.maxFailures).toBe(3);
  });

  it('refuses a host count larger than the selection instead of clamping it silently', () => {
    const six = [{ key: 'g', hosts: Array.from({ length: 6 }, (_, i) => `h${i}`) }];
    expect(() => layoutWaves(six, opts('1,50'))).toThrow(/wave size of 50 hosts, but only 6/);
    expect(layoutWaves(six, opts('1,6')).waves.map((w) => w.hosts.length)).toEqual([1, 5]);
    expect(layoutWaves(six, opts('1,50%')).waves.map((w) => w.hosts.length)).toEqual([1, 2, 3]);
  });

  it('puts a group after the groups it waits for, each stage with its own canary', () => {
    const l = layoutWaves([
      { key: 'app', hosts: ['app-1', 'app-2', 'app-3'], ordering: [{ after: ['db'] }] },
      { key: 'db', hosts: ['db-1', 'db-2'] },
    ], opts('1,100%'));
    expect(l.waves.map((w) => [w.stage, w.canary, w.hosts.map((h) => h.host)])).toEqual([
      [0, true, ['db-1']], [0, false, ['db-2']], [1, true, ['app-1']], [1, false, ['app-2', 'app-3']],
    ]);
  });

  it('warns when a group waits for one not selected', () => {
    const l = layoutWaves([{ key: 'app', hosts: ['a'], ordering: [{ after: ['db'] }] }, { key: 'db', hosts: ['d'] }], opts(), new Set(['a']));
    expect(l.warnings).toEqual([{ kind: 'prerequisite-not-selected', group: 'app', after: 'db' }]);
  });

  const groupsArb = fc
    .array(fc.record({ n: fc.integer({ min: 1, max: 12 }), after: fc.array(fc.nat(7), { maxLength: 2 }) }), { minLength: 1, maxLength: 8 })
    .map((gs): WaveGroupInput[] => gs.map((g, i) => ({
      key: `g${i}`,
      hosts: Array.from({ length: g.n }, (_, j) => `g${i}-h${j}`),
      // only earlier groups, so there is no cycle
      ordering: g.after.filter((a) => a < i).length ? [{ after: g.after.filter((a) => a < i).map((a) => `g${a}`) }] : [],
    })));
  const sizesArb = fc.array(fc.oneof(fc.integer({ min: 1, max: 20 }).map(String), fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`)), { minLength: 1, maxLength: 5 })
    .map((xs) => {
      const counts = xs.filter((x) => !x.endsWith('%')).map(Number).sort((a, b) => a - b).map(String);
      const shares = xs.filter((x) => x.endsWith('%')).map((x) => Number(x.slice(0, -1))).sort((a, b) => a - b).map((p) => `${p}%`);
      return [...counts, ...shares].join(',');
    });

  it('property: every selected host in exactly one wave; canary covers each group of its stage; ordering honoured', () => {
    fc.assert(
      fc.property(groupsArb, sizesArb, fc.double({ min: 0, max: 1, noNaN: true }), (groups, sizes, keep) => {
        const all = groups.flatMap((g) => g.hosts);
        const selected = new Set(all.filter((_, i) => (i * 7919) % 100 < keep * 100 || i === 0));
        const tooBig = parseWaveSizes(sizes).some((sz) => sz.kind === 'count' && sz.n > selected.size);
        if (tooBig) {
          expect(() => layoutWaves(groups, opts(sizes), selected)).toThrow(/but only/);
          return;
        }
        const l = layoutWaves(groups, opts(sizes), selected);
        const placed = l.waves.flatMap((w) => w.hosts.map((h) => h.host));
        expect(new Set(placed).size).toBe(placed.length);
        expect(new Set(placed)).toEqual(selected);
        const waveOf = new Map(l.waves.flatMap((w) => w.hosts.map((h) => [h.host, w] as const)));
        const groupOf = new Map(groups.flatMap((g) => g.hosts.map((h) => [h, g.key] as const)));
        // canary: the first wave of each stage holds a host of every group with hosts in that stage
        for (const stage of new Set(l.waves.map((w) => w.stage))) {
          const first = l.waves.find((w) => w.stage === stage)!;
          expect(first.canary).toBe(true);
          const groupsInStage = new Set(l.waves.filter((w) => w.stage === stage).flatMap((w) => w.hosts.map((h) => h.group)));
          expect(new Set(first.hosts.map((h) => h.group))).toEqual(groupsInStage);
        }
        // ordering: every host of a group comes in a later wave than every selected host of the groups it waits for
        for (const g of groups) {
          for (const after of (g.ordering ?? []).flatMap((o) => o.after)) {
            for (const h of g.hosts.filter((x) => selected.has(x))) {
              for (const p of [...selected].filter((x) => groupOf.get(x) === after)) expect(waveOf.get(h)!.number).toBeGreaterThan(waveOf.get(p)!.number);
            }
          }
        }
        // waves are numbered 1..n and never empty
        expect(l.waves.map((w) => w.number)).toEqual(l.waves.map((_, i) => i + 1));
        expect(l.waves.every((w) => w.hosts.length > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parsing', () => {
  it('reads sizes, budgets and durations; refuses the rest with a hint', () => {
    expect(parseWaveSizes('1,10%,100%')).toEqual([{ kind: 'count', n: 1 }, { kind: 'percent', p: 10 }, { kind: 'percent', p: 100 }]);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseFailureBudget('10%')).toEqual({ kind: 'percent', p: 10 });
    for (const bad of [() => parseWaveSizes('10%,5%'), () => parseWaveSizes('1,,2'), () => parseWaveSizes('0'), () => parseWaveSizes('150%'), () => parseDuration('soon'), () => parseFailureBudget('-1')]) {
      try {
        bad();
        expect.unreachable();
      } catch (e) {
        expect(isRollwiseError(e) && e.code === 'RW_USAGE' && e.hint.length > 0).toBe(true);
      }
    }
  });

  it('selects hosts by group, label and name pattern, with negation', () => {
    const s = parseHostSelector('group=web,label.tier=canary,!name=web-9*');
    const host = (name: string, tier: string): { name: string; groups: string[]; labels: Record<string, string> } => ({ name, groups: ['web'], labels: { tier } });
    expect(matchesSelector(s, host('web-1', 'canary'))).toBe(true);
    expect(matchesSelector(s, host('web-91', 'canary'))).toBe(false);
    expect(matchesSelector(s, host('web-1', 'main'))).toBe(false);
    expect(matchesSelector(parseHostSelector('app-?'), host('app-1', 'x'))).toBe(true);
    expect(matchesSelector(parseHostSelector('app-?'), host('app-10', 'x'))).toBe(false);
    expect(() => parseHostSelector('colour=red')).toThrow(/unknown term/);
    expect(() => parseHostSelector('a;rm')).toThrow(/not a host-name pattern/);
  });
});
