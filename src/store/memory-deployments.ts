/**
 * An in-memory DeploymentStore for tests and examples: the rules of deployment-rules.ts, as the
 * SQL stores apply them, on maps in one process (copies in and out, times from this process's
 * clock). Each method checks everything before it changes anything, so a refused write leaves
 * no trace, as a rolled-back transaction does.
 */
import { RollwiseError } from '../shared/index.js';
import type { DeploymentRecord, DeploymentStore, JournalEntry } from '../deploy/index.js';
import {
  checkEntries, checkStatus, checkTtl, decideAcquire, DEPLOYMENT_SCOPE, deploymentExists, duplicateEntry, fenceHolds, isoAt, leaseLost, noDeployment, onceKey, type LeaseState,
} from './deployment-rules.js';

interface Deployment {
  record: DeploymentRecord;
  journal: JournalEntry[];
  once: Map<string, number>;
  leases: Map<string, LeaseState>;
  control?: { action: 'pause' | 'abort'; by: string; at: string };
}

export function createMemoryDeploymentStore(clock: () => number = Date.now): DeploymentStore {
  const deployments = new Map<string, Deployment>();
  const get = (id: string): Deployment => {
    const d = deployments.get(id);
    if (!d) throw noDeployment(id);
    return d;
  };
  const fenced = (id: string, scope: string, fence: { holder: string; token: number }, doing: string): Deployment => {
    const d = get(id);
    const lease = d.leases.get(scope);
    if (!fenceHolds(lease, fence)) throw leaseLost(id, scope, fence, lease, doing);
    return d;
  };
  return {
    async createDeployment(r) {
      checkStatus(r.status);
      if (deployments.has(r.id)) throw deploymentExists(r.id);
      const record = structuredClone(r);
      if (record.spec === undefined) record.spec = null;
      deployments.set(r.id, { record, journal: [], once: new Map(), leases: new Map() });
    },
    async getDeployment(id) {
      const d = deployments.get(id);
      return d ? structuredClone(d.record) : undefined;
    },
    async findDeploymentIds(prefix) {
      return [...deployments.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async listDeployments(planId) {
      return [...deployments.values()].map((d) => d.record).filter((r) => planId === undefined || r.planId === planId)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((r) => ({ id: r.id, planId: r.planId, planVersion: r.planVersion, createdAt: r.createdAt, status: r.status }));
    },
    async setDeploymentStatus(id, status, fence, reason) {
      checkStatus(status);
      const d = fenced(id, DEPLOYMENT_SCOPE, fence, `setting the status ${status}`);
      d.record.status = status;
      if (reason === undefined) delete d.record.statusReason;
      else d.record.statusReason = reason;
      d.record.updatedAt = isoAt(clock());
    },
    async appendJournal(id, entries, fence, scope = DEPLOYMENT_SCOPE) {
      checkEntries(id, entries);
      if (entries.length === 0) return [];
      const d = fenced(id, scope, fence, `appending ${entries.length} journal entr${entries.length === 1 ? 'y' : 'ies'}`);
      for (const e of entries) {
        const seq = e.phase === 'event' ? undefined : d.once.get(onceKey(e.key, e.phase));
        if (seq !== undefined) throw duplicateEntry(id, e.key, e.phase, entries.length, `already (seq ${seq})`);
      }
      const at = isoAt(clock());
      const first = d.journal.length + 1;
      const stored = entries.map((e, i): JournalEntry => {
        const { host, wave, outcome, ...rest } = structuredClone(e);
        return { ...rest, ...(host !== undefined ? { host } : {}), ...(wave !== undefined ? { wave } : {}), ...(outcome !== undefined ? { outcome } : {}), body: rest.body ?? null, deployment: id, seq: first + i, at };
      });
      for (const e of stored) {
        d.journal.push(e);
        if (e.phase !== 'event') d.once.set(onceKey(e.key, e.phase), e.seq);
      }
      return structuredClone(stored);
    },
    async readJournal(id, options = {}) {
      const j = deployments.get(id)?.journal ?? [];
      return structuredClone(j.filter((e) => (options.afterSeq === undefined || e.seq > options.afterSeq) && (options.host === undefined || e.host === options.host)));
    },
    async acquireLease(id, holder, ttlMs, scope = DEPLOYMENT_SCOPE) {
      checkTtl(ttlMs);
      const d = get(id);
      const { next, result } = decideAcquire(d.leases.get(scope), holder, clock(), ttlMs);
      if (next) d.leases.set(scope, next);
      return result;
    },
    async renewLease(id, fence, ttlMs, scope = DEPLOYMENT_SCOPE) {
      checkTtl(ttlMs);
      const lease = get(id).leases.get(scope);
      if (!lease || !fenceHolds(lease, fence)) return false;
      lease.expiresAt = isoAt(clock() + ttlMs);
      return true;
    },
    async releaseLease(id, fence, scope = DEPLOYMENT_SCOPE) {
      const lease = deployments.get(id)?.leases.get(scope);
      if (!lease || !fenceHolds(lease, fence)) return;
      lease.holder = undefined;
      lease.expiresAt = isoAt(clock());
    },
    async requestControl(id, action, by) {
      if (action !== 'pause' && action !== 'abort') throw new RollwiseError('RW_USAGE', `unknown request '${String(action)}'`, { hint: 'pause or abort' });
      const d = get(id);
      if (d.control?.action === 'abort' && action === 'pause') return;
      d.control = { action, by, at: isoAt(clock()) };
    },
    async readLease(id, scope = DEPLOYMENT_SCOPE) {
      const l = deployments.get(id)?.leases.get(scope);
      return l ? { ...(l.holder !== undefined ? { holder: l.holder } : {}), expiresAt: l.expiresAt } : undefined;
    },
    async readControl(id) {
      const c = deployments.get(id)?.control;
      return c ? { ...c } : undefined;
    },
    async clearControl(id, fence, seen) {
      const d = fenced(id, DEPLOYMENT_SCOPE, fence, 'clearing an operator request');
      if (!d.control || (seen && (seen.action !== d.control.action || seen.at !== d.control.at))) return;
      delete d.control;
    },
  };
}
