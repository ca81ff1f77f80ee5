/**
 * An in-memory RollwiseStore (plans, history, deployments) for unit tests of pure code (copies
 * in and out, like a real store).
 */
import { RollwiseError } from '../shared/index.js';
import { formatRequest, type Plan, type PlanRecord } from '../planner/index.js';
import type { DeploymentHistoryEntry } from '../analysis/index.js';
import type { RollwiseStore } from './sql-plan-store.js';
import { createMemoryDeploymentStore } from './memory-deployments.js';

const historyRowKey = (e: DeploymentHistoryEntry): string => [e.package, e.change, e.outcome, e.at, e.host ?? ''].join('\u0000');

export function createMemoryPlanStore(): RollwiseStore {
  const plans = new Map<string, Plan[]>();
  const records = new Map<string, PlanRecord[]>();
  const history = new Map<string, DeploymentHistoryEntry>();
  return {
    ...createMemoryDeploymentStore(),
    async savePlan(plan, options = {}) {
      // checked before anything changes, as the SQL stores check inside their transaction
      let parent: Plan | undefined;
      if (options.supersede) {
        const { id, version } = options.supersede;
        parent = plans.get(id)?.find((p) => p.version === version);
        if (!parent) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version} to supersede`, { hint: 'rollwise plan list shows the stored plans' });
        if (parent.status === 'superseded') throw new RollwiseError('RW_STORE', `plan ${id} v${version} was already superseded by v${plans.get(id)!.at(-1)!.version}; v${plan.version} was not stored`, { hint: `rollwise plan show ${id} shows the latest version` });
      }
      const versions = plans.get(plan.id) ?? [];
      const last = versions[versions.length - 1];
      if (last && plan.version <= last.version) throw new RollwiseError('RW_STORE', `plan ${plan.id} already has version ${last.version}`, { hint: `rollwise plan show ${plan.id} shows it` });
      versions.push(structuredClone(plan));
      plans.set(plan.id, versions);
      if (parent) parent.status = 'superseded';
    },
    async getPlan(id, version) {
      const versions = plans.get(id);
      const p = version === undefined ? versions?.[versions.length - 1] : versions?.find((x) => x.version === version);
      return p ? structuredClone(p) : undefined;
    },
    async findPlanIds(prefix) {
      return [...plans.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async listPlans() {
      return [...plans.values()].flat().sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version)).map((p) => ({ id: p.id, version: p.version, status: p.status, createdAt: p.createdAt, request: formatRequest(p.inputs.request), hosts: p.summary.hosts, groups: p.summary.groups, conflicts: p.conflicts.length }));
    },
    async setStatus(id, version, status, approval) {
      const p = plans.get(id)?.find((x) => x.version === version);
      if (!p) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version}`, { hint: 'rollwise plan list shows the stored plans' });
      if (p.status === 'superseded') throw new RollwiseError('RW_STORE', `plan ${id} v${version} was superseded meanwhile; it cannot become ${status}`, { hint: `rollwise plan show ${id} shows the latest version` });
      p.status = status;
      if (approval) p.approval = { ...approval };
    },
    async addRecord(id, version, record) {
      if (!plans.get(id)?.some((x) => x.version === version)) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version}`, { hint: 'rollwise plan list shows the stored plans' });
      const k = `${id}@${version}`;
      records.set(k, [...(records.get(k) ?? []), structuredClone(record)]);
    },
    async getRecords(id, version, kind) {
      return structuredClone((records.get(`${id}@${version}`) ?? []).filter((r) => kind === undefined || r.kind === kind));
    },
    async addHistory(entries) {
      const fresh = entries.filter((e) => !history.has(historyRowKey(e)));
      for (const e of fresh) history.set(historyRowKey(e), structuredClone(e));
      return { added: new Set(fresh.map(historyRowKey)).size, already: entries.length - new Set(fresh.map(historyRowKey)).size };
    },
    async getHistory(packages) {
      return [...history.values()].filter((e) => !packages || packages.includes(e.package)).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.package < b.package ? -1 : 1)).map((e) => structuredClone(e));
    },
    async close() {},
  };
}
