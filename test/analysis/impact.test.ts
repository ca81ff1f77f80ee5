/**
 * Impact prediction on the example knowledge base (examples/kb) over a small Debian index, with
 * hand-made plans: reach and its paths, the risk reasons, the resource headroom, the history.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Knowledge } from '../../src/app/index.js';
import {
  HISTORY_PRIOR, predictImpact, smoothedFailureRate,
  type DeploymentHistoryEntry, type GroupImpact, type ImpactReason, type PlanImpact,
} from '../../src/analysis/index.js';
import type { PlanGroup } from '../../src/planner/index.js';
import {
  APP_FACTS, APP_HOST, DB_HOST, KI_0001, createGroup, describeHop, describeImpactReason, install, loadExampleKnowledge, upgrade,
} from './helpers.js';

let k: Knowledge;

beforeAll(async () => {
  k = await loadExampleKnowledge();
});

function predict(groups: PlanGroup[], history?: DeploymentHistoryEntry[]): PlanImpact {
  return predictImpact({ plan: { groups }, kb: k.kb, universe: k.universe.universe, ...(history ? { history } : {}) });
}

function one(group: PlanGroup, history?: DeploymentHistoryEntry[]): GroupImpact {
  return predict([group], history).groups[0]!;
}

const shopfront2 = upgrade('shopfront', '1.8.3', '2.0.0');
const lessUpdate = upgrade('less', '590-2.1~deb12u1', '590-2.1~deb12u2');

describe('reach', () => {
  it('finds the critical service with the reverse-dependency path that leads to it', () => {
    // libuv1 changes: libnode108 depends on it, nodejs on libnode108, shopfront 1.8.3 on nodejs
    const g = one(createGroup({ installed: APP_HOST, changes: [upgrade('libuv1', '1.44.2-1', '1.44.2-1+deb12u1')] }));
    const shopfront = g.reach.find((s) => s.service === 'shopfront')!;
    expect(shopfront).toMatchObject({ criticality: 'critical', impacts: ['outage'], onGroupHosts: true });
    expect(shopfront.paths[0]!.hops).toEqual([
      { kind: 'changed', package: 'libuv1', action: 'upgrade' },
      { kind: 'depends', package: 'libnode108', version: '18.20.4+dfsg-1~deb12u2', on: 'libuv1', relation: 'depends' },
      { kind: 'depends', package: 'nodejs', version: '18.20.4+dfsg-1~deb12u2', on: 'libnode108', relation: 'depends' },
      { kind: 'depends', package: 'shopfront', version: '1.8.3', on: 'nodejs', relation: 'depends' },
      { kind: 'service-package', service: 'shopfront', package: 'shopfront' },
    ]);
    // critical services first; the load balancer (which depends on shopfront) is reached through it
    expect(g.reach.map((s) => s.service)).toEqual(['loadbalancer', 'shopfront']);
    expect(g.reach[0]!.paths[0]!.hops.map(describeHop).at(-1)).toBe('service loadbalancer depends on shopfront');
    expect(g.risk.outage.reasons).toContainEqual(expect.objectContaining({ kind: 'service-reached', service: 'shopfront', criticality: 'critical', distance: 4 }));
  });

  it('applies a library functional impact only where the service runs; a service package’s impact crosses hosts', () => {
    // libssl3 → loadbalancer (outage) is written in functional.yaml; haproxy is not on an app host
    const app = one(createGroup({ installed: APP_HOST, changes: [upgrade('libssl3', '3.0.11-1~deb12u2', '3.0.20-1~deb12u2')] }));
    const shop = app.reach.find((s) => s.service === 'shopfront')!;
    expect(shop.paths[0]!.hops.map(describeHop)).toEqual(['upgrade libssl3', 'impact outage on shopfront']);
    const lb = app.reach.find((s) => s.service === 'loadbalancer')!;
    expect(lb.onGroupHosts).toBe(false);
    expect(lb.paths.every((p) => p.hops.some((h) => h.kind === 'service-depends'))).toBe(true);
    // on a load balancer host the same impact applies directly, and haproxy's Depends also leads there
    const lbHost = { ...DB_HOST, 'liblua5.3-0': '5.3.6-2', 'haproxy': '2.6.12-1+deb12u3', 'libssl3': '3.0.11-1~deb12u2' };
    delete (lbHost as Record<string, string>)['postgresql-15'];
    delete (lbHost as Record<string, string>)['postgresql'];
    const onLb = one(createGroup({ installed: lbHost, changes: [upgrade('libssl3', '3.0.11-1~deb12u2', '3.0.20-1~deb12u2')] }));
    const direct = onLb.reach.find((s) => s.service === 'loadbalancer')!;
    expect(direct.onGroupHosts).toBe(true);
    expect(direct.paths[0]!.hops.map(describeHop)).toEqual(['upgrade libssl3', 'impact outage on loadbalancer']);
  });

  it('reaches a service only through another service, with the service hop in its path', () => {
    const g = one(createGroup({ key: 'db', installed: DB_HOST, changes: [upgrade('postgresql-15', '15.5-0+deb12u1', '15.18-0+deb12u1')] }));
    expect(g.reach.map((s) => s.service)).toEqual(['loadbalancer', 'postgresql', 'shopfront']);
    const pg = g.reach.find((s) => s.service === 'postgresql')!;
    expect(pg.onGroupHosts).toBe(true);
    expect(pg.paths[0]!.hops.map(describeHop)).toEqual(['upgrade postgresql-15', 'service postgresql (postgresql-15)']);
    const shop = g.reach.find((s) => s.service === 'shopfront')!;
    expect(shop.onGroupHosts).toBe(false);
    const lb = g.reach.find((s) => s.service === 'loadbalancer')!;
    expect(lb.onGroupHosts).toBe(false);
    expect(lb.paths).toHaveLength(1);
    expect(lb.paths[0]!.hops.at(-1)).toEqual({ kind: 'service-depends', service: 'loadbalancer', dependsOn: 'shopfront' });
    expect(lb.paths[0]!.hops.map(describeHop)).toEqual(['upgrade postgresql-15', 'impact outage on shopfront', 'service loadbalancer depends on shopfront']);
    expect(g.blastRadius).toEqual({
      hosts: ['h1', 'h2'], fleetShare: 1,
      services: [
        { service: 'loadbalancer', criticality: 'critical', onGroupHosts: false },
        { service: 'postgresql', criticality: 'critical', onGroupHosts: true },
        { service: 'shopfront', criticality: 'critical', onGroupHosts: false },
      ],
      criticalServices: 3,
    });
  });

  it('follows Provides and Pre-Depends, and names the relation', () => {
    // redis-server depends on redis-tools, which depends on libjemalloc2 (a medium-criticality service)
    const cache = { 'libc6': '2.36-9+deb12u14', 'libgcc-s1': '12.2.0-14', 'adduser': '3.134', 'libjemalloc2': '5.3.0-1', 'libssl3': '3.0.20-1~deb12u2', 'redis-tools': '5:7.0.15-1~deb12u7', 'redis-server': '5:7.0.15-1~deb12u7' };
    const g = one(createGroup({ installed: cache, changes: [upgrade('libc6', '2.36-9+deb12u13', '2.36-9+deb12u14')] }));
    const redis = g.reach.find((s) => s.service === 'redis')!;
    expect(redis.paths[0]!.hops.map(describeHop)).toEqual(['upgrade libc6', 'redis-tools depends on libc6', 'redis-server depends on redis-tools', 'service redis (redis-server)']);
    // libgcc-s1 pre-depends on libc6
    const lib = one(createGroup({ installed: { ...cache, 'less': '590-2.1~deb12u1' }, changes: [upgrade('libc6', '2.36-9+deb12u13', '2.36-9+deb12u14')] }));
    expect(lib.truncated).toBe(false);
    // the learned impact libjemalloc2 → redis (resources) applies where redis runs
    const jem = one(createGroup({ installed: cache, changes: [upgrade('libjemalloc2', '5.3.0-1', '5.3.0-2')] }));
    expect(jem.reach.find((s) => s.service === 'redis')!.impacts).toEqual(['outage', 'resources']);
    expect(jem.risk.resources.reasons).toContainEqual(expect.objectContaining({ kind: 'service-reached', service: 'redis', impact: 'resources' }));
  });
});

describe('risk', () => {
  it('raises performance risk for a known issue the planner found, with the issue id as reason', () => {
    const plain = one(createGroup({ installed: APP_HOST, changes: [shopfront2, install('libjemalloc2', '5.3.0-1')] }));
    const issue = one(createGroup({ installed: APP_HOST, changes: [shopfront2, install('libjemalloc2', '5.3.0-1')], findings: [KI_0001] }));
    expect(issue.risk.performance.probability).toBeGreaterThan(plain.risk.performance.probability);
    expect(issue.risk.performance.reasons[0]).toEqual({ kind: 'known-issue', issue: 'KI-0001', package: 'shopfront', severity: 'high', effect: 'performance', weight: 0.4 });
    expect(plain.risk.performance.level).toBe('low');
    expect(issue.risk.performance.level).toBe('critical');
    expect(issue.risk.performance.levelRule).toBe('critical-service');
    // the known issue's effect names shopfront: reached with a performance impact, through the issue
    expect(issue.reach.find((s) => s.service === 'shopfront')!.paths.find((p) => p.impact === 'performance')!.hops.map(describeHop))
      .toEqual(['upgrade shopfront', 'KI-0001 on shopfront']);
    // the outage risk is not the known issue's business
    expect(issue.risk.outage.reasons.some((r) => r.kind === 'known-issue')).toBe(false);
  });

  it('rates resources critical when the group’s memory is below what is there plus what the new version adds', () => {
    // shopfront 1.8.3 needs 512 MiB (minMemoryMiB); 2.0.0 adds 256 MiB: 768 > 700
    const small = one(createGroup({ installed: APP_HOST, changes: [shopfront2], facts: { ...APP_FACTS, memoryMiB: 700 } }));
    expect(small.risk.resources.level).toBe('critical');
    expect(small.risk.resources.levelRule).toBe('resource-shortfall');
    expect(small.risk.resources.reasons[0]).toEqual({
      kind: 'resource', resource: 'memory', unit: 'MiB', added: 256, inUse: 512, available: 700, shortfall: true, packages: ['shopfront'], weight: 0.9,
    });
    const roomy = one(createGroup({ installed: APP_HOST, changes: [shopfront2], facts: { ...APP_FACTS, memoryMiB: 800 } }));
    expect(roomy.risk.resources.level).toBe('moderate');
    const memory = roomy.risk.resources.reasons.find((r) => r.kind === 'resource' && r.resource === 'memory')!;
    expect(memory).toMatchObject({ shortfall: false, weight: 0.4 }); // 256 of 288 MiB headroom: clamped to 0.4
    const unknown = one(createGroup({ installed: APP_HOST, changes: [shopfront2], facts: { 'os.id': 'debian' } }));
    expect(unknown.risk.resources.reasons.map((r) => r.kind === 'resource' && [r.resource, r.available, r.weight])).toEqual([
      ['memory', undefined, 0.05], ['disk', undefined, 0.05], ['cpu', undefined, 0.05],
    ]);
  });

  it('weighs the jump, the migrations (irreversible more) and a downgrade’s down migrations', () => {
    const up = one(createGroup({ installed: APP_HOST, changes: [shopfront2] }));
    const byKind = (g: GroupImpact, kind: ImpactReason['kind']) => g.risk.outage.reasons.filter((r) => r.kind === kind);
    expect(up.changes).toEqual([{ package: 'shopfront', action: 'upgrade', from: '1.8.3', to: '2.0.0', jump: 'major' }]);
    expect(byKind(up, 'version-jump')).toEqual([{ kind: 'version-jump', package: 'shopfront', from: '1.8.3', to: '2.0.0', jump: 'major', weight: 0.1 }]);
    expect(byKind(up, 'migration').map((r) => r.kind === 'migration' && [r.migration, r.direction, r.irreversible, r.weight])).toEqual([
      ['0013_split_customer_name', 'up', true, 0.1], ['0012_add_cart_expiry', 'up', false, 0.03],
    ]);
    expect(up.risk.outage.level).toBe('critical'); // p ≥ 0.2 with critical services reached
    const down = one(createGroup({ installed: { ...APP_HOST, shopfront: '2.0.0' }, changes: [{ action: 'downgrade', name: 'shopfront', from: '2.0.0', to: '1.8.3' }] }));
    expect(byKind(down, 'migration').map((r) => r.kind === 'migration' && [r.migration, r.direction, r.irreversible, r.weight])).toEqual([
      ['0013_split_customer_name', 'down', true, 0.3], ['0012_add_cart_expiry', 'down', false, 0.05],
    ]);
    expect(byKind(down, 'change-action')).toEqual([{ kind: 'change-action', package: 'shopfront', action: 'downgrade', weight: 0.05 }]);
    expect(down.risk.resources.reasons).toEqual([]); // a downgrade gives resources back
    expect(down.risk.outage.probability).toBeGreaterThan(up.risk.outage.probability);
  });

  it('rates a change with no path to any service low', () => {
    const g = one(createGroup({ installed: APP_HOST, changes: [lessUpdate] }));
    expect(g.reach).toEqual([]);
    expect(g.changes[0]!.jump).toBe('security');
    for (const kind of ['outage', 'performance', 'resources'] as const) expect(g.risk[kind].level).toBe('low');
    expect(g.risk.outage.reasons.map(describeImpactReason)).toEqual(['less upgrade: 0 failures in 0 runs', 'less 590-2.1~deb12u1 → 590-2.1~deb12u2 (security)']);
    expect(g.blastRadius.services).toEqual([]);
  });

  it('books requirement findings as outage risk', () => {
    const g = one(createGroup({
      installed: APP_HOST, changes: [lessUpdate],
      findings: [{ kind: 'requirement-unknown', rule: 'requirement:shopfront=2.0.0', severity: 'medium', package: 'shopfront', message: 'm', reason: 'r', source: 's' }],
    }));
    expect(g.risk.outage.reasons).toContainEqual({ kind: 'requirement', rule: 'requirement:shopfront=2.0.0', finding: 'requirement-unknown', package: 'shopfront', weight: 0.1 });
  });
});

describe('history', () => {
  const entries = (n: number, failures: number, pkg = 'less', change: DeploymentHistoryEntry['change'] = 'upgrade'): DeploymentHistoryEntry[] =>
    Array.from({ length: n }, (_, i) => ({ package: pkg, change, outcome: i < failures ? (i % 2 ? 'failed' : 'rolled-back') : 'succeeded', at: `2026-10-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z` }));
  const historyReason = (g: GroupImpact) => g.risk.outage.reasons.find((r) => r.kind === 'history')!;

  it('gives the prior without history, raises the risk after 10 failures of 10, lowers it below the prior after 0 of 50', () => {
    const group = createGroup({ installed: APP_HOST, changes: [lessUpdate] });
    const none = one(group);
    expect(historyReason(none)).toEqual({ kind: 'history', package: 'less', change: 'upgrade', runs: 0, failures: 0, priorFailures: 1, priorSuccesses: 49, weight: 0.02 });
    expect(historyReason(none).weight).toBe(HISTORY_PRIOR.failures / (HISTORY_PRIOR.failures + HISTORY_PRIOR.successes));

    const bad = one(group, entries(10, 10));
    expect(historyReason(bad)).toMatchObject({ runs: 10, failures: 10, weight: Number((11 / 60).toFixed(6)) });
    expect(bad.risk.outage.probability).toBeGreaterThan(none.risk.outage.probability);
    expect(bad.risk.outage.level).toBe('moderate');

    const good = one(group, entries(50, 0));
    expect(historyReason(good)).toMatchObject({ runs: 50, failures: 0, weight: 0.01 });
    expect(historyReason(good).weight).toBeLessThan(historyReason(none).weight);
    expect(good.risk.outage.probability).toBeLessThan(none.risk.outage.probability);
  });

  it('counts only the same package and change kind', () => {
    const group = createGroup({ installed: APP_HOST, changes: [lessUpdate] });
    const other = one(group, [...entries(10, 10, 'less', 'remove'), ...entries(10, 10, 'libc6', 'upgrade')]);
    expect(historyReason(other)).toMatchObject({ runs: 0, failures: 0, weight: 0.02 });
    expect(smoothedFailureRate(0, 0)).toBe(0.02);
  });
});

describe('the plan', () => {
  it('merges reach over groups, takes the worst group per kind, and skips groups in conflict', () => {
    const conflict: PlanGroup = { ...createGroup({ key: 'c', hosts: ['h9'], installed: APP_HOST, changes: [] }), outcome: { kind: 'conflict', conflict: 'c1' } };
    const plan = predict([
      createGroup({ key: 'app', hosts: ['a1', 'a2', 'a3'], installed: APP_HOST, changes: [lessUpdate] }),
      createGroup({ key: 'db', hosts: ['d1'], installed: DB_HOST, changes: [upgrade('postgresql-15', '15.5-0+deb12u1', '15.18-0+deb12u1')] }),
      conflict,
    ]);
    expect(plan.model).toBe(1);
    expect(plan.groups.map((g) => [g.group, g.planned, g.blastRadius.fleetShare])).toEqual([['app', true, 0.6], ['db', true, 0.2], ['c', false, 0.2]]);
    expect(plan.groups[2]!.risk.outage).toEqual({ level: 'low', probability: 0, levelRule: 'probability', reasons: [] });
    expect(plan.reach.map((s) => [s.service, s.groups, s.hosts])).toEqual([['loadbalancer', ['db'], 1], ['postgresql', ['db'], 1], ['shopfront', ['db'], 1]]);
    expect(plan.risk.outage.levelRule).toBe('worst-group');
    expect(plan.risk.outage.reasons.map((r) => r.kind === 'group' && r.group)).toEqual(['db', 'app']);
    expect(plan.risk.outage.probability).toBe(plan.groups[1]!.risk.outage.probability);
    // JSON-serialisable as it is
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('gives the same answer on repeated runs', () => {
    const groups = [createGroup({ installed: APP_HOST, changes: [shopfront2, install('libjemalloc2', '5.3.0-1')], findings: [KI_0001] })];
    expect(predict(groups)).toEqual(predict(groups));
  });
});
