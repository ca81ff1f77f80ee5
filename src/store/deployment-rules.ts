/**
 * The rules of the deployment store that every implementation (SQL and in memory) applies the
 * same way: what a lease acquisition decides, which fence may write, which journal entries are
 * valid, and the errors a caller sees. Pure: each implementation reads its rows under its own
 * lock, asks here, and writes what was decided.
 */
import { RollwiseError } from '../shared/index.js';
import { DEPLOYMENT_STATUSES, type DeploymentStatus, type JournalEntryInput, type JournalKind, type LeaseAcquisition, type LeaseFence } from '../deploy/index.js';

export const DEPLOYMENT_SCOPE = 'deployment';

/** A lease as stored: `holder` undefined once released or never held; `token` only grows. */
export interface LeaseState {
  holder: string | undefined;
  token: number;
  /** ISO 8601 UTC with milliseconds (toISOString), so that text order is time order. */
  expiresAt: string;
}

export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * What acquiring decides at time `nowMs`: a free, released or expired lease goes to `holder` with
 * token + 1 (also when `holder` held it before it expired: a new tenure, so a fence from the
 * old one is dead); the holder of a live lease renews it with the same token; anyone else is
 * told who holds it until when.
 */
export function decideAcquire(lease: LeaseState | undefined, holder: string, nowMs: number, ttlMs: number): { next?: LeaseState; result: LeaseAcquisition } {
  const now = isoAt(nowMs);
  const expiresAt = isoAt(nowMs + ttlMs);
  const live = lease !== undefined && lease.holder !== undefined && lease.expiresAt > now;
  if (live && lease.holder !== holder) return { result: { kind: 'held', holder: lease.holder!, expiresAt: lease.expiresAt } };
  const token = live ? lease.token : (lease?.token ?? 0) + 1;
  return { next: { holder, token, expiresAt }, result: { kind: 'acquired', fence: { holder, token }, expiresAt } };
}

/**
 * Whether `fence` may write under `lease`. Safety comes from the token, not from clocks: a
 * lease that expired but was taken by nobody still accepts its holder's writes (no one else can
 * have written meanwhile); once anyone acquires it the token grows and the old fence is refused.
 */
export function fenceHolds(lease: LeaseState | undefined, fence: LeaseFence): boolean {
  return lease !== undefined && lease.holder === fence.holder && lease.token === fence.token;
}

export function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RollwiseError('RW_USAGE', `a lease lasts a positive number of milliseconds, not ${ttlMs}`, { hint: 'pass the lease time in ms, e.g. 30000' });
}

export function noDeployment(id: string): RollwiseError {
  return new RollwiseError('RW_NOT_FOUND', `no deployment ${id}`, { hint: 'rollwise deploy list shows the stored deployments' });
}

export function deploymentExists(id: string): RollwiseError {
  return new RollwiseError('RW_STORE', `deployment ${id} already exists; nothing was stored`, { hint: 'a new deployment needs a new id' });
}

/** The refusal of a write whose fence no longer holds the lease. */
export function leaseLost(id: string, scope: string, fence: LeaseFence, lease: LeaseState | undefined, doing: string): RollwiseError {
  const now = lease === undefined
    ? 'it was never acquired'
    : lease.holder === undefined
      ? `it was released (token ${lease.token})`
      : lease.holder === fence.holder
        ? `${fence.holder} holds it again under token ${lease.token} (a new tenure)`
        : `${lease.holder} holds it (token ${lease.token}, until ${lease.expiresAt})`;
  return new RollwiseError('RW_LEASE', `${doing} of deployment ${id} was refused: the ${scope} lease is not held by ${fence.holder} with token ${fence.token}; ${now}`, {
    hint: 'another controller took the deployment over (or this one was paused past its lease): stop writing; rollwise deploy status shows who holds it',
  });
}

const KINDS: readonly JournalKind[] = ['step', 'snapshot', 'host', 'wave', 'verdict', 'decision', 'operator'];
const PHASES: readonly JournalEntryInput['phase'][] = ['started', 'ended', 'event'];
const OUTCOMES: ReadonlyArray<NonNullable<JournalEntryInput['outcome']>> = ['succeeded', 'failed', 'unknown', 'skipped'];

export function checkStatus(status: DeploymentStatus): void {
  if (!DEPLOYMENT_STATUSES.includes(status)) throw new RollwiseError('RW_USAGE', `unknown deployment status '${String(status)}'`, { hint: `one of ${DEPLOYMENT_STATUSES.join(', ')}` });
}

/** `started`/`ended` entries a key may have only once. */
export function isOnce(e: Pick<JournalEntryInput, 'phase'>): boolean {
  return e.phase !== 'event';
}

export const onceKey = (key: string, phase: string): string => `${phase}\u0000${key}`;

/**
 * Refuses a batch (RW_STORE, nothing stored) with an entry of an unknown kind, phase or outcome,
 * or naming the same `started`/`ended` key twice.
 */
export function checkEntries(id: string, entries: readonly JournalEntryInput[]): void {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const bad = !KINDS.includes(e.kind) ? `kind '${String(e.kind)}'` : !PHASES.includes(e.phase) ? `phase '${String(e.phase)}'` : e.outcome !== undefined && !OUTCOMES.includes(e.outcome) ? `outcome '${String(e.outcome)}'` : typeof e.key !== 'string' || e.key === '' ? 'an empty key' : e.wave !== undefined && !Number.isInteger(e.wave) ? `wave ${String(e.wave)}` : undefined;
    if (bad) throw new RollwiseError('RW_STORE', `journal entry ${i + 1} of ${entries.length} for deployment ${id} has ${bad}; none of the entries were stored`, { hint: `kinds: ${KINDS.join(', ')}; phases: ${PHASES.join(', ')}; outcomes: ${OUTCOMES.join(', ')}` });
    if (!isOnce(e)) return;
    const k = onceKey(e.key, e.phase);
    if (seen.has(k)) throw duplicateEntry(id, e.key, e.phase, entries.length, 'twice in this batch');
    seen.add(k);
  });
}

/** A second `started` or `ended` entry for a key. */
export function duplicateEntry(id: string, key: string, phase: string, batch: number, where: string): RollwiseError {
  return new RollwiseError('RW_STORE', `deployment ${id}: the journal has a '${phase}' entry for ${key} ${where}; a key is ${phase} once, so none of the ${batch} entries were stored`, {
    hint: 'a resumed controller reconciles a step that started and never ended (fresh snapshot) instead of starting it again; journal a retry under a new key',
  });
}
