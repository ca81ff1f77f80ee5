import { describe, expect, it } from 'vitest';
import { evaluateCondition, factsReadBy, groupHosts, type FleetHost, type HostFacts } from '../../src/fleet/index.js';
import { environmentCondition, rangeConditions } from '../../src/planner/index.js';
import { parseVersionRange } from '../../src/kb/index.js';

const bookworm: HostFacts = { os: { id: 'debian', versionId: '12', codename: 'bookworm' }, architecture: 'amd64', kernel: '6.1.0-18-amd64', memoryMiB: 4096, cpus: 4, diskFreeMiB: 9000 };

describe('fact conditions', () => {
  it('compares kernels and releases in dpkg order and numbers as numbers', () => {
    const s = { facts: bookworm, labels: { role: 'web' } };
    expect(evaluateCondition({ fact: 'kernel', op: '>=', value: '6.1' }, s).truth).toBe('true');
    expect(evaluateCondition({ fact: 'kernel', op: '<<', value: '6.1.0-13' }, s).truth).toBe('false');
    expect(evaluateCondition({ fact: 'memoryMiB', op: '>=', value: 1024 }, s).truth).toBe('true');
    expect(evaluateCondition({ fact: 'cpus', op: '>>', value: 4 }, s).truth).toBe('false');
    expect(evaluateCondition({ fact: 'os.versionId', op: 'in', value: ['11', '12'] }, s).truth).toBe('true');
    expect(evaluateCondition({ fact: 'label.role', op: '=', value: 'db' }, s).truth).toBe('false');
  });

  it('is three-valued: a missing fact is unknown, and all/any/not combine accordingly', () => {
    const s = { facts: { architecture: 'amd64' }, labels: {} };
    const r = evaluateCondition({ fact: 'kernel', op: '>=', value: '6.1' }, s);
    expect(r).toEqual({ truth: 'unknown', reason: 'fact kernel is not known for this host' });
    expect(evaluateCondition({ all: [{ fact: 'architecture', op: '=', value: 'arm64' }, { fact: 'kernel', op: '>=', value: '6' }] }, s).truth).toBe('false');
    expect(evaluateCondition({ any: [{ fact: 'architecture', op: '=', value: 'amd64' }, { fact: 'kernel', op: '>=', value: '6' }] }, s).truth).toBe('true');
    expect(evaluateCondition({ not: { fact: 'kernel', op: '>=', value: '6' } }, s).truth).toBe('unknown');
  });

  it('evaluates package conditions against an installed set', () => {
    const installed = new Map([['libssl3', { name: 'libssl3', version: '3.0.9-1', architecture: 'amd64' }]]);
    const s = { facts: bookworm, labels: {}, installed };
    expect(evaluateCondition({ package: 'libssl3', op: '<<', version: '3.0.11' }, s).truth).toBe('true');
    expect(evaluateCondition({ package: 'nginx' }, s).truth).toBe('false');
  });

  it('reads the KB environment blocks (kernel ranges, releases by number or codename, minimums)', () => {
    const range = parseVersionRange('>= 6.1, << 6.1.76');
    if (!range.ok) throw new Error(range.problem.message);
    const kernel = { kernel: range.value };
    const env = environmentCondition({ os: 'debian', releases: ['bookworm'], kernel: '>= 6.1, << 6.1.76', minMemoryMiB: 8192 }, kernel);
    const r = evaluateCondition(env, { facts: bookworm, labels: {} });
    expect(r).toEqual({ truth: 'false', reason: 'memoryMiB 4096 >= 8192 is false' });
    expect(evaluateCondition(environmentCondition({ releases: ['bookworm'], kernel: '>= 6.1, << 6.1.76' }, kernel), { facts: bookworm, labels: {} }).truth).toBe('true');
    expect(rangeConditions('kernel', range.value)).toEqual([{ fact: 'kernel', op: '>=', value: '6.1' }, { fact: 'kernel', op: '<<', value: '6.1.76' }]);
    expect([...factsReadBy(env)].sort()).toEqual(['kernel', 'memoryMiB', 'os.codename', 'os.id', 'os.versionId']);
  });

  it('matches a package condition by architecture and compares by the package\'s scheme', () => {
    const installed = new Map([['shopfront', { name: 'shopfront', version: '2.0.0-rc.1', architecture: 'amd64' }]]);
    const subject = { facts: bookworm, labels: {}, installed, schemeOf: (n: string) => (n === 'shopfront' ? 'semver' as const : 'deb' as const) };
    // a pre-release is below its release in semver, above it in dpkg's order
    expect(evaluateCondition({ package: 'shopfront', op: '<<', version: '2.0.0' }, subject).truth).toBe('true');
    expect(evaluateCondition({ package: 'shopfront', op: '<<', version: '2.0.0' }, { ...subject, schemeOf: () => 'deb' as const }).truth).toBe('false');
    expect(evaluateCondition({ package: 'shopfront', arch: 'i386' }, subject).truth).toBe('false');
    expect(evaluateCondition({ package: 'shopfront', arch: 'any' }, subject).truth).toBe('true');
    expect(evaluateCondition({ package: 'shopfront', arch: 'amd64', op: '>=', version: '2.0.0-beta' }, subject).truth).toBe('true');
  });
});

describe('grouping', () => {
  const host = (name: string, installed: Array<[string, string]>, facts: HostFacts = bookworm, labels: Record<string, string> = {}): FleetHost => ({
    name, source: 'inventory', groups: [], labels, facts, installedFrom: '', installed: installed.map(([n, v]) => ({ name: n, version: v, architecture: 'amd64' })),
  });

  it('puts hosts with the same installed set (in any order) and relevant facts in one group with a stable key', () => {
    const hosts = [
      host('a', [['bash', '5.2'], ['libc6', '2.36-9']]),
      host('b', [['libc6', '2.36-9'], ['bash', '5.2']], { ...bookworm, memoryMiB: 1 }),
      host('c', [['bash', '5.2'], ['libc6', '2.36-9']], { ...bookworm, os: { id: 'debian', versionId: '11' } }),
      host('d', [['bash', '5.3'], ['libc6', '2.36-9']]),
    ];
    const g1 = groupHosts(hosts);
    expect(g1.map((g) => g.hosts)).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(groupHosts([...hosts].reverse()).find((g) => g.hosts.includes('a'))!.key).toBe(g1[0]!.key);
    // memory becomes relevant when a rule reads it
    expect(groupHosts(hosts, ['memoryMiB']).map((g) => g.hosts)).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(groupHosts([host('x', [], bookworm, { rack: '1' }), host('y', [], bookworm, { rack: '2' })], ['label.rack'])).toHaveLength(2);
  });
});

describe('the running kernel: its release (uname -r) and its package version', () => {
  it('reads the package version Debian puts in /proc/version, and conditions compare it in dpkg order', async () => {
    const { kernelVersionFromProcVersion, parseCollectedOutput } = await import('../../src/fleet/index.js');
    const proc = 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)';
    expect(kernelVersionFromProcVersion(proc)).toBe('6.1.76-1');
    expect(kernelVersionFromProcVersion('Linux version 6.18.44 (builder@sandbox) #1 SMP')).toBeUndefined();
    const out = ['@@rw:kernel', '6.1.0-18-amd64', '@@rw:proc-version', proc, '@@rw:kernel-package', '6.1.76-1', '@@rw:dpkg', '@@rw:end'].join('\n');
    expect(parseCollectedOutput('h', out).facts).toMatchObject({ kernel: '6.1.0-18-amd64', kernelVersion: '6.1.76-1' });
    // a kernel that does not say: its linux-image package's version
    const other = ['@@rw:kernel', '6.1.0-13-amd64', '@@rw:proc-version', 'Linux version 6.1.0-13-amd64 #1 SMP', '@@rw:kernel-package', '6.1.55-1', '@@rw:dpkg', '@@rw:end'].join('\n');
    expect(parseCollectedOutput('h', other).facts.kernelVersion).toBe('6.1.55-1');
    // the fix is in 6.1.76: the ABI name 6.1.0-18-amd64 can never say so, the package version does
    const early = { kernel: '6.1.0-13-amd64', kernelVersion: '6.1.55-1' };
    const fixed = { kernel: '6.1.0-18-amd64', kernelVersion: '6.1.76-1' };
    const cond = { all: [{ fact: 'kernelVersion' as const, op: '>=' as const, value: '6.1' }, { fact: 'kernelVersion' as const, op: '<<' as const, value: '6.1.76' }] };
    expect(evaluateCondition(cond, { facts: early, labels: {} }).truth).toBe('true');
    expect(evaluateCondition(cond, { facts: fixed, labels: {} }).truth).toBe('false');
    expect(evaluateCondition({ fact: 'kernel', op: '<<', value: '6.1.76' }, { facts: fixed, labels: {} }).truth).toBe('true'); // why the release cannot be used
  });
});
