/** Plans of any size for store tests (deterministic content). */
import type { Plan, PlanGroup } from '../../src/planner/index.js';

export function createSamplePlan(id: string, version: number, groups: number, packagesPerGroup = 50): Plan {
  const gs: PlanGroup[] = [];
  for (let g = 0; g < groups; g++) {
    gs.push({
      key: `${id}-${g.toString(16).padStart(8, '0')}`,
      hosts: [`host-${g}-a`, `host-${g}-b`],
      facts: { architecture: 'amd64', 'os.id': 'debian', 'os.versionId': '12', kernel: '6.1.0-18-amd64' },
      installed: Array.from({ length: packagesPerGroup }, (_, i) => ({ name: `pkg${i}`, version: `1.${g}-${i}`, architecture: 'amd64' })),
      request: { items: [{ kind: 'install', name: 'nginx' }] },
      choices: [],
      outcome: g % 7 === 3 ? { kind: 'conflict', conflict: 'c1' } : { kind: 'transaction', changes: [{ action: 'install', name: 'nginx', architecture: 'amd64', to: '1.22.1-9' }] },
      findings: [],
    });
  }
  const conflicted = gs.filter((g) => g.outcome.kind === 'conflict');
  return {
    id, version, status: conflicted.length ? 'needs-review' : 'ready', createdAt: new Date(Date.UTC(2026, 10, 27, 12, 0, version)).toISOString(),
    origin: version === 1 ? { kind: 'initial' } : { kind: 'resolution', parentVersion: version - 1, choices: [{ conflict: 'c1', resolution: 'r1', edit: { kind: 'skip', item: { kind: 'install', name: 'nginx' } }, fromVersion: version - 1 }] },
    inputs: { kb: ['/kb'], indexes: ['/index'], inventories: ['/inv.yaml'], local: false, sshHosts: [], request: { items: [{ kind: 'install', name: 'nginx' }] } },
    summary: {
      hosts: groups * 2, groups, groupsReady: groups - conflicted.length, groupsInConflict: conflicted.length, hostsReady: (groups - conflicted.length) * 2, hostsInConflict: conflicted.length * 2,
      changes: { install: (groups - conflicted.length) * 2, upgrade: 0, downgrade: 0, remove: 0 }, findings: { requirementNotMet: 0, requirementUnknown: 0, knownIssue: 0, heldBack: 0, unreachable: 0 },
    },
    groups: gs,
    conflicts: conflicted.length ? [{ id: 'c1', groups: conflicted.map((g) => g.key), hosts: conflicted.length * 2, explanation: { facts: [{ kind: 'request', key: 'request:0', requestIndex: 0, item: { kind: 'install', name: 'nginx' } }], minimal: true }, resolutions: [{ id: 'r1', edit: { kind: 'skip', item: { kind: 'install', name: 'nginx' } }, requests: {}, preview: [] }] }] : [],
    fleetFindings: [],
  };
}
