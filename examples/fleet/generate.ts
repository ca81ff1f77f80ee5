/**
 * Generates the example fleet (inventory.yaml + status/*.status) from the bookworm index and the
 * example knowledge base: every installed set is the solver's answer to an install request on an
 * empty host (the base system: Priority required/important + the shop's runtime), so the dpkg
 * status files hold real bookworm package sets. Deterministic; run it again after the index changes:
 *
 *   node --import tsx examples/fleet/generate.ts [INDEX]
 *
 * The Debian 12 hosts' package sets are drawn from the bookworm index, the Debian 11 hosts' from
 * the bullseye index (the base system and the tools; the shop's runtime needs Node.js 18 and
 * OpenSSL 3, which Debian 11 does not have). Each release group names its apt sources, so a plan
 * solves each group against its own release:
 *
 *   node --import tsx examples/fleet/generate.ts [BOOKWORM-INDEX [BULLSEYE-INDEX]]
 */
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKnowledge } from '../../src/app/index.js';
import { createFleetSolver, type FleetSolver } from '../../src/planner/index.js';
import { parseSourcesList, type AptSource, type HostAptConfig } from '../../src/fleet/index.js';
import type { RequestItem } from '../../src/solver/index.js';
import { formatAtom, formatClause, loadDebianIndex, type PackageRecord } from '../../src/kb/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const index = process.argv[2] ?? path.resolve(here, '../../../shared/data/debian/bookworm-main-amd64.Packages.xz');
const bullseyeIndex = process.argv[3] ?? path.resolve(here, '../../../shared/data/debian/bullseye-main-amd64.Packages.xz');

function stanza(r: PackageRecord): string {
  const lines = [`Package: ${r.name}`, 'Status: install ok installed'];
  if (r.priority) lines.push(`Priority: ${r.priority}`);
  if (r.section) lines.push(`Section: ${r.section}`);
  if (r.installedSize !== undefined) lines.push(`Installed-Size: ${r.installedSize}`);
  if (r.essential) lines.push('Essential: yes');
  lines.push(`Architecture: ${r.architecture}`);
  if (r.multiArch) lines.push(`Multi-Arch: ${r.multiArch}`);
  if (r.source) lines.push(`Source: ${r.source}`);
  lines.push(`Version: ${r.version}`);
  const rel = (field: string, clauses: PackageRecord['depends']): void => {
    if (clauses.length) lines.push(`${field}: ${clauses.map(formatClause).join(', ')}`);
  };
  const atoms = (field: string, list: PackageRecord['conflicts']): void => {
    if (list.length) lines.push(`${field}: ${list.map(formatAtom).join(', ')}`);
  };
  atoms('Replaces', r.replaces);
  if (r.provides.length) lines.push(`Provides: ${r.provides.map((p) => (p.version ? `${p.name} (= ${p.version})` : p.name)).join(', ')}`);
  rel('Pre-Depends', r.preDepends);
  rel('Depends', r.depends);
  rel('Recommends', r.recommends);
  rel('Suggests', r.suggests);
  atoms('Breaks', r.breaks);
  atoms('Conflicts', r.conflicts);
  lines.push(`Description: ${(r.description ?? r.name).split('\n')[0]}`);
  return lines.join('\n') + '\n';
}

/** A package the organisation built itself years ago; not in any layer, known only from dpkg's status. */
const LEGACY_AGENT = `Package: legacy-shop-agent
Status: install ok installed
Priority: optional
Section: admin
Installed-Size: 2140
Architecture: amd64
Version: 0.7-2
Depends: libc6 (>= 2.34)
Conflicts: libjemalloc2
Description: shop metrics agent (preloads its own allocator, so it cannot share a host with jemalloc)
`;

/** Solves package sets of one release (with the example knowledge base): its base system plus extra packages. */
async function packageSets(solver: FleetSolver, indexFile: string, apt?: HostAptConfig): Promise<(extra: string[]) => PackageRecord[]> {
  // the index's full stanzas (section, size, description), for status files as dpkg writes them
  const records = (await loadDebianIndex(indexFile)).records;
  const full = new Map(records.map((r) => [`${r.name}=${r.version}`, r]));
  const base = [...new Set(records.filter((r) => r.priority === 'required' || r.priority === 'important').map((r) => r.name))];
  return (extra: string[]): PackageRecord[] => {
    const items: RequestItem[] = [...new Set([...base, ...extra])].map((spec) => {
      const [name, version] = spec.split('=');
      return version ? { kind: 'install', name: name!, op: '=', version } : { kind: 'install', name: name! };
    });
    const out = solver.solveGroup({ key: 'gen', installed: [], facts: {}, request: { items }, ...(apt ? { apt } : {}) });
    if (out.kind !== 'solution') throw new Error(`cannot build a base system: ${JSON.stringify(out).slice(0, 400)}`);
    return out.changes.map((c) => {
      const pv = solver.set.versionsOf(c.name).find((v) => solver.set.versionOf(v) === c.to)!;
      return full.get(`${c.name}=${c.to}`) ?? solver.set.record(pv);
    }).sort((a, b) => (a.name < b.name ? -1 : 1));
  };
}

async function main(): Promise<void> {
  // Debian 12 sets on the bookworm index alone; the Debian 11 set on a universe of both releases,
  // solved with bullseye's sources only (the knowledge base names bookworm packages)
  const bookworm = await loadKnowledge({ kb: [path.join(here, '../kb')], indexes: [index] });
  const solveSet = await packageSets(createFleetSolver({ universe: bookworm.universe.universe, policy: { recommends: false } }), index);
  const both = await loadKnowledge({ kb: [path.join(here, '../kb')], indexes: [index, bullseyeIndex] });
  const solver = createFleetSolver({ universe: both.universe.universe, policy: { recommends: false } });
  const bullseyeOnly = parseSourcesList('deb http://deb.debian.org/debian bullseye main\n', 'generate.ts');
  const aptOf = (sources: AptSource[]): HostAptConfig => ({ sources, preferences: [], architecture: 'amd64', foreignArchitectures: [] });
  const solveBullseye = await packageSets(solver, bullseyeIndex, aptOf(bullseyeOnly));
  const runtime = ['openssh-server', 'ca-certificates', 'curl', 'sudo', 'nodejs', 'adduser', 'shopfront=1.8.3'];
  const states: Record<string, { records: PackageRecord[]; extra?: string }> = {
    'app-base': { records: solveSet(runtime) },
    'app-pgclient': { records: solveSet([...runtime, 'postgresql-client-15']) },
    'app-legacy-agent': { records: solveSet(runtime), extra: LEGACY_AGENT },
    'app-bullseye': { records: solveBullseye(['openssh-server', 'ca-certificates', 'curl', 'sudo', 'adduser']) },
  };
  const statusDir = path.join(here, 'status');
  rmSync(statusDir, { recursive: true, force: true });
  mkdirSync(statusDir, { recursive: true });
  for (const [name, s] of Object.entries(states)) {
    writeFileSync(path.join(statusDir, `${name}.status`), s.records.map(stanza).join('\n') + (s.extra ? `\n${s.extra}` : ''));
    process.stdout.write(`status/${name}.status: ${s.records.length + (s.extra ? 1 : 0)} packages\n`);
  }
  type HostSpec = { name: string; groups: string[]; status: string; facts?: Record<string, unknown>; labels?: Record<string, string> };
  const hosts: HostSpec[] = [];
  const add = (prefix: string, from: number, to: number, spec: Omit<HostSpec, 'name'>): void => {
    for (let i = from; i <= to; i++) hosts.push({ name: `${prefix}-${String(i).padStart(2, '0')}`, ...spec });
  };
  add('app', 1, 8, { groups: ['bookworm', 'eu'], status: 'status/app-base.status', facts: { kernel: '6.6.13+bpo-amd64', kernelVersion: '6.6.13-1~bpo12+1' } });
  add('app', 9, 12, { groups: ['bookworm', 'us'], status: 'status/app-pgclient.status', facts: { kernel: '6.6.13+bpo-amd64', kernelVersion: '6.6.13-1~bpo12+1' } });
  add('app', 13, 18, { groups: ['bookworm', 'eu'], status: 'status/app-base.status', facts: { kernel: '6.1.0-13-amd64', kernelVersion: '6.1.55-1' } });
  add('app', 19, 22, { groups: ['bookworm', 'us'], status: 'status/app-base.status', facts: { kernel: '4.19.0-26-amd64', kernelVersion: '4.19.304-1' }, labels: { note: 'upgraded-from-buster-not-rebooted' } });
  add('app', 23, 28, { groups: ['bullseye', 'eu'], status: 'status/app-bullseye.status' });
  add('app', 29, 32, { groups: ['bookworm', 'us'], status: 'status/app-legacy-agent.status' });
  add('app', 33, 36, { groups: ['bookworm', 'eu'], status: 'status/app-base.status', facts: { memoryMiB: 768, cpus: 2 }, labels: { size: 'small' } });
  const y: string[] = [
    '# The example fleet: the shop application tier, 36 hosts (generated by generate.ts; edit that, not this).',
    '# Several states: Debian 12 and 11, an old kernel left running after an upgrade, a small-memory size,',
    '# a host-local package that conflicts with what shopfront 2.0.0 needs, and one with an extra client.',
    '# app-01..12 run the bookworm-backports kernel; app-13..18 an early 6.1 kernel (6.1.55-1: known issue KI-0001).',
    '# `kernel` is the release uname -r prints (an ABI name); `kernelVersion` the kernel package version.',
    '#   rollwise fleet show --inventory examples/fleet/inventory.yaml',
    '# Each release group names its apt sources: a plan solves Debian 12 hosts against bookworm (+ security)',
    '# and Debian 11 hosts against bullseye, each with apt\'s candidate policy.',
    '#   rollwise plan --kb examples/kb --index ../shared/data/debian/bookworm-main-amd64.Packages.xz \\',
    '#     --index ../shared/data/debian/bookworm-security-main-amd64.Packages.xz \\',
    '#     --index ../shared/data/debian/bullseye-main-amd64.Packages.xz \\',
    '#     --inventory examples/fleet/inventory.yaml --install shopfront=2.0.0',
    'version: 1',
    'defaults:',
    '  labels: { service: shop, tier: app }',
    '  facts: { architecture: amd64, memoryMiB: 4096, cpus: 4, diskTotalMiB: 40960, diskFreeMiB: 22000 }',
    'groups:',
    '  bookworm:',
    '    facts: { os: { id: debian, versionId: "12", codename: bookworm }, kernel: 6.1.0-18-amd64, kernelVersion: 6.1.76-1 }',
    '    apt:',
    '      sources:',
    '        - deb http://deb.debian.org/debian bookworm main',
    '        - deb http://deb.debian.org/debian bookworm-updates main',
    '        - deb http://security.debian.org/debian-security bookworm-security main',
    '  bullseye:',
    '    facts: { os: { id: debian, versionId: "11", codename: bullseye }, kernel: 5.10.0-28-amd64, kernelVersion: 5.10.209-2 }',
    '    apt:',
    '      sources:',
    '        - deb http://deb.debian.org/debian bullseye main',
    '        - deb http://security.debian.org/debian-security bullseye-security main',
    '  eu:',
    '    labels: { region: eu-west }',
    '  us:',
    '    labels: { region: us-east }',
    'hosts:',
  ];
  const flow = (o: Record<string, unknown>): string => `{ ${Object.entries(o).map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`).join(', ')} }`;
  for (const h of hosts) {
    y.push(`  - name: ${h.name}`, `    groups: [${h.groups.join(', ')}]`, `    status: ${h.status}`);
    if (h.facts) y.push(`    facts: ${flow(h.facts)}`);
    if (h.labels) y.push(`    labels: ${flow(h.labels)}`);
  }
  writeFileSync(path.join(here, 'inventory.yaml'), y.join('\n') + '\n');
  writeFileSync(path.join(here, 'request.yaml'), '# The main job\'s request: roll shopfront 2.0.0 out to the app tier.\ninstall:\n  - shopfront=2.0.0\n');
  process.stdout.write(`inventory.yaml: ${hosts.length} hosts\n`);
}

await main();
