// Test helpers for impact prediction: the example knowledge base over a small index, hand-made groups, and reasons in words.
import path from 'node:path';
import { loadKnowledge, type Knowledge } from '../../src/app/index.js';
import type { EnvFinding, PlanGroup } from '../../src/planner/index.js';
import type { PackageChange } from '../../src/solver/index.js';
import type { ImpactReason, ReachHop } from '../../src/analysis/index.js';
import { repoRoot } from '../helpers/cli.js';

export const EXAMPLE_KB = path.join(repoRoot, 'examples', 'kb');
export const SMALL_INDEX = path.join(repoRoot, 'test', 'analysis', 'fixtures', 'Packages');

export function loadExampleKnowledge(): Promise<Knowledge> {
  return loadKnowledge({ kb: [EXAMPLE_KB], indexes: [SMALL_INDEX] });
}

/** An application host of the example fleet (shopfront 1.8.3 on Node.js), as name → version. */
export const APP_HOST: Record<string, string> = {
  'libc6': '2.36-9+deb12u14', 'libgcc-s1': '12.2.0-14', 'adduser': '3.134', 'passwd': '1:4.13+dfsg1-1+b1', 'less': '590-2.1~deb12u1',
  'libtinfo6': '6.4-4', 'libssl3': '3.0.11-1~deb12u2', 'openssl': '3.0.20-1~deb12u2', 'libuv1': '1.44.2-1+deb12u1',
  'libnode108': '18.20.4+dfsg-1~deb12u2', 'nodejs': '18.20.4+dfsg-1~deb12u2', 'shopfront': '1.8.3',
};

/** A database host: PostgreSQL 15.5 and its client. */
export const DB_HOST: Record<string, string> = {
  'libc6': '2.36-9+deb12u14', 'libgcc-s1': '12.2.0-14', 'adduser': '3.134', 'passwd': '1:4.13+dfsg1-1+b1', 'libssl3': '3.0.20-1~deb12u2',
  'libpq5': '15.18-0+deb12u1', 'postgresql-client-15': '15.18-0+deb12u1', 'postgresql-15': '15.5-0+deb12u1', 'postgresql': '15+248+deb12u1',
};

export const APP_FACTS = { 'architecture': 'amd64', 'os.id': 'debian', 'os.versionId': '12', 'memoryMiB': 4096, 'diskFreeMiB': 22000, 'cpus': 4 };

export function upgrade(name: string, from: string, to: string): PackageChange {
  return { action: 'upgrade', name, architecture: 'amd64', from, to };
}

export function install(name: string, to: string): PackageChange {
  return { action: 'install', name, architecture: 'amd64', to };
}

export function createGroup(init: {
  key?: string; hosts?: string[]; installed: Record<string, string>; changes: PackageChange[];
  facts?: PlanGroup['facts']; findings?: PlanGroup['findings'];
}): PlanGroup {
  return {
    key: init.key ?? 'g1',
    hosts: init.hosts ?? ['h1', 'h2'],
    facts: init.facts ?? APP_FACTS,
    installed: Object.entries(init.installed).map(([name, version]) => ({ name, version, architecture: 'amd64' })),
    request: { items: [] },
    choices: [],
    outcome: { kind: 'transaction', changes: init.changes },
    findings: init.findings ?? [],
  };
}

/** The finding the planner gives the example fleet's early-6.1-kernel hosts. */
export const KI_0001: EnvFinding = {
  kind: 'known-issue', rule: 'KI-0001', severity: 'high', package: 'shopfront',
  message: 'shopfront 2.x stalls uploads on early 6.1 kernels', reason: 'kernelVersion 6.1.55-1', source: 'incident review INC-2291',
};

/** A hop in a few words (for readable assertions). */
export function describeHop(h: ReachHop): string {
  switch (h.kind) {
    case 'changed': return `${h.action} ${h.package}`;
    case 'depends': return `${h.package} ${h.relation} on ${h.via ?? h.on}`;
    case 'service-package': return `service ${h.service} (${h.package})`;
    case 'functional-impact': return `impact ${h.impact} on ${h.service}`;
    case 'known-issue': return `${h.issue} on ${h.service}`;
    case 'service-depends': return `service ${h.service} depends on ${h.dependsOn}`;
  }
}

/** A reason in a few words, for failure messages only (the application's render layer words reasons for people). */
export function describeImpactReason(r: ImpactReason): string {
  switch (r.kind) {
    case 'history': return `${r.package} ${r.change}: ${r.failures} failures in ${r.runs} runs`;
    case 'version-jump': return `${r.package} ${r.from} → ${r.to} (${r.jump})`;
    case 'change-action': return `${r.action} ${r.package}`;
    case 'migration': return `migration ${r.migration} ${r.direction}${r.irreversible ? ' (irreversible)' : ''}`;
    case 'known-issue': return `known issue ${r.issue}`;
    case 'requirement': return `${r.finding} ${r.rule}`;
    case 'resource': return `${r.resource} +${r.added} ${r.unit} (in use ${r.inUse}, available ${r.available ?? '?'})${r.shortfall ? ' short' : ''}`;
    case 'service-reached': return `reaches ${r.service} (${r.criticality ?? '?'}, ${r.impact})`;
    case 'group': return `group ${r.group}: ${r.level}`;
  }
}
