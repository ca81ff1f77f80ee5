import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURES, requireDebianIndex } from './helpers.js';

const INDEX_ARG = '../shared/data/debian/bookworm-main-amd64.Packages.xz';

describe('rollwise kb stats', () => {
  it('reports the 63,440 packages of Debian 12 main', () => {
    requireDebianIndex();
    const r = runCli(['kb', 'stats', INDEX_ARG]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/debian:bookworm-main-amd64\s+precedence 10\s+distribution\s+63440 packages, 63436 names/);
    expect(r.stdout).toContain('problems: 0 errors, 0 warnings');
  });

  it('--json counts by kind per layer (small index, no default index)', () => {
    const r = runCli(['kb', 'stats', '--json', path.join('test', 'kb', 'fixtures', 'mini')]);
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout) as { layers: Array<{ name: string; counts: Record<string, number> }>; total: Record<string, number>; problems: Record<string, number> };
    expect(stats.layers.map((l) => [l.name, l.counts.packages])).toEqual([['org', 1], ['debian:packages', 3]]);
    expect(stats.total).toEqual({ packages: 4, names: 4, services: 0, functional: 0, knownIssues: 0, migrations: 0, configFiles: 0 });
    expect(stats.problems).toEqual({ errors: 0, warnings: 0 });
  });

  it.each([
    [['--no-index', '--index', 'I']],
    [['--index', 'I', '--no-index']],
  ])('%j: --no-index refuses only the default index, in either order', (opts) => {
    const mini = path.join('test', 'kb', 'fixtures', 'mini');
    const index = path.join(mini, 'Packages');
    const r = runCli(['kb', 'stats', '--json', ...opts.map((o) => (o === 'I' ? index : o)), path.join(mini, 'org.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const stats = JSON.parse(r.stdout) as { total: Record<string, number> };
    expect(stats.total.packages).toBe(4);
  });

  it('a path that does not exist is one line with a code, exit 2', () => {
    const r = runCli(['kb', 'stats', '--no-index', 'nowhere.yaml']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['rollwise: RW_IO: nowhere.yaml: no such file or directory (hint: give a YAML file, a directory of them, or a Debian Packages index)']);
  });

  it('kb validate counts errors and warnings apart, and says a missing path at once without checking the rest', () => {
    const r = runCli(['kb', 'validate', '--no-index', path.join(FIXTURES, 'mistakes')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: 6 errors, 1 warning$/m);
    const m = runCli(['kb', 'validate', 'nowhere.yaml', path.join(FIXTURES, 'mistakes')]);
    expect(m.status).toBe(2);
    expect(m.stdout.trim().split('\n')).toEqual(['nowhere.yaml: RW_KB_IO no such file or directory (nothing else was checked) (hint: give a YAML file, a directory of them, or a Debian Packages index)']);
    expect(m.stderr).toBe('');
  });

  it('a corrupt index is a positioned error, exit 2', () => {
    const r = runCli(['kb', 'stats', path.join(FIXTURES, 'mistakes', 'shop.yaml'), '--index', path.join(FIXTURES, 'mistakes', 'shop.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_INDEX_PARSE: .*shop\.yaml/);
  });
});

describe('rollwise kb show and demo (example KB over the Debian index)', () => {
  it('kb show shopfront: versions, relations, environment, migrations, services, functional, known issue, provenance', () => {
    requireDebianIndex();
    const r = runCli(['kb', 'show', 'shopfront']);
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^package shopfront\n {2}version 1\.8\.3 \(semver, amd64\) {2}from org-shop: .*examples\/kb\/packages\.yaml:23 \(organisation, platform-team, 2026-11-02/);
    expect(out).toContain('    depends: nodejs (>= 18.19), libssl3 (>= 3.0.11), libjemalloc2, adduser');
    expect(out).toContain('    breaks: shop-lb-config (<< 1.5-1)');
    expect(out).toContain('migration shop/0013_split_customer_name: up migrations/shop/0013_split_customer_name.up.sql, IRREVERSIBLE');
    expect(out).toContain('environment: debian, release 12, amd64, kernel >= 5.10, ≥ 1024 MiB memory, ≥ 300 MiB disk, ≥ 2 CPUs');
    expect(out).toContain('functional: shopfront (>= 2.0.0) requires postgresql (>= 15)');
    expect(out).toContain('known issue KI-0001 [high]');
    expect(out).toMatch(/\nservice shopfront \(critical\)/);
    expect(out).toContain('restart: runit shopfront; command [sv, restart, shopfront]');
  });

  it('kb show --json libssl3 merges the Debian layer with the organisation and learned facts', () => {
    const r = runCli(['kb', 'show', '--json', 'libssl3']);
    expect(r.status).toBe(0);
    const view = JSON.parse(r.stdout) as { package: { versions: Array<{ version: string; effective: { provenance: { layer: string } } }>; impacts: Array<{ value: { service: string }; provenance: { layer: string } }> } };
    expect(view.package.versions.map((v) => [v.version, v.effective.provenance.layer])).toEqual([['3.0.20-1~deb12u2', 'debian:bookworm-main-amd64']]);
    expect(view.package.impacts.map((i) => [i.value.service, i.provenance.layer])).toEqual([['loadbalancer', 'org-shop'], ['shopfront', 'org-shop']]);
  });

  it('kb show of an unknown name: RW_NOT_FOUND, exit 2', () => {
    const r = runCli(['kb', 'show', '--no-index', 'no-such-thing']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_NOT_FOUND: 'no-such-thing' is neither a package nor a service/m);
  });

  it('demo prints layers, counts, services with criticality and the known issue', () => {
    requireDebianIndex();
    const r = runCli(['demo', '--no-lab']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/debian:bookworm-main-amd64\s+precedence 10\s+distribution\s+63440 packages/);
    expect(r.stdout).toMatch(/org-shop\s+precedence 50\s+organisation\s+4 packages, 2 names, 4 services/);
    expect(r.stdout).toMatch(/loadbalancer\s+critical\s+haproxy 2\.6\.12-1\+deb12u3, shop-lb-config 1\.5-1\s+needs shopfront/);
    expect(r.stdout).toMatch(/redis\s+medium\s+redis-server 5:7\.0\.15-1~deb12u7/);
    expect(r.stdout).toContain('KI-0001 [high] shopfront 2.x stalls uploads on early 6.1 kernels');
    expect(r.stdout).toContain('The knowledge base is valid.');
    // then the plan with its impact, the way back of one group, and that group rehearsed on a staging root built here
    const out = r.stdout;
    expect(out).toMatch(/Planning install shopfront \(= 2\.0\.0\) on the example fleet/);
    expect(out).toMatch(/ {2}impact: outage critical \d+%.*services reached: loadbalancer, shopfront/);
    expect(out).toMatch(/What the plan is predicted to hurt \(rollwise impact \w+\):\n\nImpact\n {2}plan: outage critical/);
    expect(out).toMatch(/The way back for group 2 \(rollwise rollback-plan \w+ --group 2; every group: without --group\):\n\nRollback plan\n.*\n {2}group 2 [0-9a-f]+: 4 hosts\n {5}1\. stop shopfront\n/);
    expect(out).toContain('downgrade shopfront 2.0.0 → 1.8.3 (from kept .debs: shopfront_1.8.3)');
    expect(out).toMatch(/Rehearsal of group 2 on a staging host \(rollwise rehearse \w+ --on ROOT\):\n {2}built \.rollwise\/staging\/root in [\d.]+ s: 8 synthetic \.debs/);
    expect(out).toMatch(/Rehearsal on the staging host demo-staging .*\n {2}group 2 [0-9a-f]+: 4 hosts; chosen with --group/);
    expect(out).toMatch(/forward 1\. upgrade shopfront=2\.0\.0, install libjemalloc2=5\.3\.0-1: succeeded/);
    expect(out).toMatch(/\d\. restore \/etc\/shopfront\/shopfront\.toml, removing dpkg's other side files \(\.dpkg-dist, \.dpkg-old, \.\.\.\): succeeded/);
    expect(out).toContain('not rehearsed: the schema of shop is not compared');
    expect(out).toContain('result: identical: the root is back to its former state');
    expect(out).toMatch(/rehearsal succeeded; recorded with plan \w+ version 1/);
    expect(out).toMatch(/Rehearse it again: rollwise rehearse \w+ --on \.rollwise\/staging\/root --group 2\n$/);
  });

  it('demo with a missing index: one clear line, exit 2', () => {
    const r = runCli(['demo', '--index', '/nonexistent/Packages.xz']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_IO: Debian index not found: \/nonexistent\/Packages\.xz \(hint: .*--index FILE/);
  });
});
