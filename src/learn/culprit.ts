/**
 * Culprit analysis after a rollback, as pure code over data: the deployment's journal (verdicts
 * with their evidence, host states, failed steps, re-solved hosts), its plan's per-group package
 * changes and installed sets, and which services each change reaches (the plan's impact).
 *
 * Method, in three named passes:
 * 1. hosts: which changed hosts failed (named by a failed check, or failed their steps or health
 *    checks) and which stayed healthy through the same checks; a host the deployment reached and
 *    changed nothing on (re-solved: it already had what the plan installs) is neither, and when
 *    only such hosts failed the analysis says the fault is not the deployment's doing;
 * 2. separation: per package change on a failing host, on how many failing hosts it is and whether
 *    healthy hosts got it too; when they did, the packages installed on every failing host with it
 *    and on no healthy one (the change hurts only together with them: an interaction);
 * 3. correlation: whether the change reaches a service whose check failed (or a failed step's
 *    output names the package).
 * Each candidate gets a score (coverage × exclusivity × link); candidates the evidence cannot tell
 * apart (same hosts, same interaction, same link) share it, and the conclusion then says "one of
 * a, b" and that bisecting the change set on staging would separate them. Reasons are typed data;
 * the application words them.
 */
import type { PackageChange } from '../solver/index.js';
import type { Criticality } from '../kb/index.js';
import type { DecisionBody, DeploymentSpec, DeploymentStatus, JournalEntry } from '../deploy/index.js';

export interface CulpritGroup {
  key: string;
  hosts: readonly string[];
  /** The installed set the group was planned on (before the deployment). */
  installed: ReadonlyArray<{ name: string; version: string }>;
  changes: readonly PackageChange[];
}

/** A service one or more changed packages of a group reach (from the plan's impact). */
export interface CulpritReach {
  group: string;
  service: string;
  criticality?: Criticality;
  /** Changed packages a path to the service starts from. */
  packages: readonly string[];
}

export interface CulpritInput {
  deployment: { id: string; status: DeploymentStatus; updatedAt: string; planId?: string; planVersion?: number; spec: unknown };
  journal: readonly JournalEntry[];
  groups: readonly CulpritGroup[];
  reach?: readonly CulpritReach[];
}

/** One failed check's evidence, summarised: failing hosts' values against the healthy ones'. */
export interface FailedCheck {
  check: string;
  /** The KB service it belongs to (checks of services are named SERVICE/METRIC). */
  service?: string;
  query?: string;
  hosts: string[];
  /** Median of the failing hosts' last values. */
  failingValue?: number;
  /** Median of the comparison (the canary statistic's control median, else the other hosts' values). */
  baselineValue?: number;
  against?: 'control' | 'baseline' | 'other-hosts';
  wave?: number;
}

export interface FailingHost {
  host: string;
  group: string;
  /** What made it a failing host. */
  because: Array<{ kind: 'check'; check: string } | { kind: 'host-failed'; reason: string }>;
}

export type CandidateReason =
  | { kind: 'on-failing-hosts'; hosts: string[]; of: number }
  | { kind: 'absent-from-healthy'; healthy: string[] }
  | { kind: 'also-on-healthy'; hosts: string[] }
  /** Installed on every failing host with the change and on no healthy one with it. */
  | { kind: 'only-with'; packages: string[] }
  | { kind: 'reaches-failed-service'; service: string; checks: string[] }
  | { kind: 'reaches-no-failed-service'; services: string[] }
  | { kind: 'named-by-step-output'; hosts: string[] }
  | { kind: 'indistinguishable-from'; packages: string[] };

export interface Candidate {
  package: string;
  action: PackageChange['action'];
  from?: string;
  to?: string;
  /** 0..1: coverage × exclusivity × link, shared among candidates the evidence cannot tell apart. */
  confidence: number;
  /** Packages installed alongside that the fault needs (an interaction), when the change alone does not explain it. */
  context: string[];
  reasons: CandidateReason[];
}

export type Conclusion =
  | { kind: 'culprit'; candidate: Candidate }
  /** The evidence cannot separate these; bisecting the change set on staging would. */
  | { kind: 'ambiguous'; candidates: Candidate[] }
  /**
   * Nothing failed that a change could be blamed for: a healthy deployment or an operator's abort
   * (`no-failure`), failures on hosts the deployment did not reach (`no-changed-failing-host`), or
   * failing hosts it reached and changed nothing on (`failing-hosts-unchanged`: each already had
   * what the plan installs, so the fault is not the deployment's doing).
   */
  | { kind: 'none'; why: 'no-failure' | 'no-changed-failing-host' | 'failing-hosts-unchanged'; hosts?: string[] };

/** A host the deployment reached and changed nothing on (re-solved to no change: it already had what the plan installs). */
export interface UnchangedHost {
  host: string;
  group: string;
  /** A failed check named it, or its steps or health checks failed. */
  failed: boolean;
}

export interface CulpritAnalysis {
  deployment: string;
  status: DeploymentStatus;
  at: string;
  plan?: { id: string; version: number };
  failing: FailingHost[];
  healthy: string[];
  /** Hosts reached with no change: neither failing nor healthy hosts of a change, never blamed, never history. */
  unchanged: UnchangedHost[];
  checks: FailedCheck[];
  candidates: Candidate[];
  conclusion: Conclusion;
  /** Whether a bisection would help (ambiguous), and why it is not run here. */
  bisect?: { packages: string[]; note: 'rehearsal-runs-health-checks-only' };
}

interface CheckEvidenceLike {
  kind?: string;
  check?: string;
  status?: string;
  query?: string;
  hosts?: string[];
  changed?: Array<{ host: string; values?: number[] }>;
  control?: Array<{ host: string; values?: number[] }>;
  statistic?: { controlMedian?: number; changedMedian?: number; against?: 'control' | 'baseline' };
}

interface VerdictBodyLike {
  verdict?: string;
  evidence?: unknown[];
  changedHosts?: string[];
}

const changeKey = (c: Pick<PackageChange, 'name' | 'action' | 'to'>): string => `${c.name}\0${c.action}\0${c.to ?? ''}`;

export function median(values: readonly number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** Pass 1: the hosts, their groups, and which failed by which evidence. */
function readHosts(input: CulpritInput): { groupOf: Map<string, string>; failing: FailingHost[]; healthy: string[]; unchanged: UnchangedHost[]; checks: FailedCheck[]; changesOf: Map<string, PackageChange[]>; stepNames: Map<string, Set<string>> } {
  const spec = input.deployment.spec as Partial<DeploymentSpec> | undefined;
  const groupOf = new Map<string, string>();
  for (const w of spec?.layout?.waves ?? []) for (const h of w.hosts) groupOf.set(h.host, h.group);
  for (const g of input.groups) for (const h of g.hosts) if (!groupOf.has(h)) groupOf.set(h, g.key);
  const groupByKey = new Map(input.groups.map((g) => [g.key, g]));

  const changesOf = new Map<string, PackageChange[]>();
  const touched = new Set<string>();
  const failedReason = new Map<string, string>();
  const healthyState = new Set<string>();
  const stepNames = new Map<string, Set<string>>();
  const checks: FailedCheck[] = [];
  const byCheck = new Map<string, Set<string>>();
  for (const e of input.journal) {
    if (e.kind === 'host' && e.host) {
      const body = e.body as { state?: string; reason?: string } | undefined;
      if (body?.state === 'healthy') healthyState.add(e.host);
      if (body?.state === 'failed' && !failedReason.has(e.host)) failedReason.set(e.host, body.reason ?? 'failed');
      if (body?.state === 'healthy' || body?.state === 'failed') touched.add(e.host);
    }
    if (e.kind === 'decision') {
      const d = e.body as DecisionBody;
      if (d.decision === 're-solve' && d.hosts) {
        const ch = (d.evidence as { changes?: PackageChange[] } | undefined)?.changes;
        if (ch) for (const h of d.hosts) changesOf.set(h, ch);
      }
    }
    if (e.kind === 'step' && e.phase === 'ended' && e.outcome === 'failed' && e.host) {
      // dpkg names the package whose maintainer script or unpacking failed
      const text = JSON.stringify(e.body ?? '');
      for (const m of text.matchAll(/error processing (?:package|archive) ([a-z0-9][a-z0-9+.-]*)/g)) {
        const s = stepNames.get(e.host) ?? new Set<string>();
        s.add(m[1]!.replace(/:[a-z0-9-]+$/, ''));
        stepNames.set(e.host, s);
      }
    }
    if (e.kind === 'verdict') {
      const v = e.body as VerdictBodyLike;
      if (v.verdict !== 'failed') continue;
      for (const raw of v.evidence ?? []) {
        const c = raw as CheckEvidenceLike;
        if (c.status !== 'failed' || !c.check) continue;
        const hosts = sorted((c.hosts ?? []).filter((h) => groupOf.has(h)));
        const failingSet = new Set(hosts);
        const lastValues = (t: { values?: number[] }): number[] => (t.values ?? []).slice(-3);
        const failingValue = median((c.changed ?? []).filter((t) => failingSet.has(t.host)).flatMap(lastValues));
        const others = [...(c.changed ?? []).filter((t) => !failingSet.has(t.host)), ...(c.control ?? [])].flatMap(lastValues);
        const baselineValue = c.statistic?.controlMedian ?? median(others);
        const service = c.check.includes('/') ? c.check.slice(0, c.check.indexOf('/')) : undefined;
        checks.push({
          check: c.check, ...(service ? { service } : {}), ...(c.query ? { query: c.query } : {}), hosts,
          ...(failingValue !== undefined ? { failingValue: round(failingValue) } : {}), ...(baselineValue !== undefined ? { baselineValue: round(baselineValue) } : {}),
          ...(c.statistic?.controlMedian !== undefined ? { against: c.statistic.against ?? 'control' } : baselineValue !== undefined ? { against: 'other-hosts' as const } : {}),
          ...(e.wave !== undefined ? { wave: e.wave } : {}),
        });
        for (const h of hosts) {
          const s = byCheck.get(h) ?? new Set<string>();
          s.add(c.check);
          byCheck.set(h, s);
        }
      }
      for (const h of v.changedHosts ?? []) touched.add(h);
    }
  }
  for (const h of touched) {
    if (changesOf.has(h)) continue;
    const g = groupByKey.get(groupOf.get(h) ?? '');
    if (g) changesOf.set(h, [...g.changes]);
  }
  // a host re-solved to no change (or of a group with nothing to change) was reached, not changed
  const changed = (h: string): boolean => (changesOf.get(h)?.length ?? 0) > 0;
  const named = new Set([...byCheck.keys(), ...failedReason.keys()]);
  const unchanged = sorted([...changesOf.keys()].filter((h) => !changed(h) && (touched.has(h) || named.has(h))))
    .map((host): UnchangedHost => ({ host, group: groupOf.get(host) ?? '?', failed: named.has(host) }));
  const failingNames = sorted([...named].filter(changed));
  const failing = failingNames.map((host): FailingHost => ({
    host, group: groupOf.get(host) ?? '?',
    because: [
      ...[...(byCheck.get(host) ?? [])].sort().map((check) => ({ kind: 'check' as const, check })),
      ...(failedReason.has(host) ? [{ kind: 'host-failed' as const, reason: failedReason.get(host)! }] : []),
    ],
  }));
  const failingSet = new Set(failingNames);
  const healthy = sorted([...touched].filter((h) => !failingSet.has(h) && changed(h) && (healthyState.has(h) || !failedReason.has(h))));
  return { groupOf, failing, healthy, unchanged, checks, changesOf, stepNames };
}

/** The package changes the deployment made on each host it reached (a re-solved host's own; none: reached, unchanged). */
export function changesByHost(input: CulpritInput): Map<string, PackageChange[]> {
  return readHosts(input).changesOf;
}

/** Runs the three passes; see the header for the method. */
export function analyseCulprit(input: CulpritInput): CulpritAnalysis {
  const base = {
    deployment: input.deployment.id, status: input.deployment.status, at: input.deployment.updatedAt,
    ...(input.deployment.planId !== undefined && input.deployment.planVersion !== undefined ? { plan: { id: input.deployment.planId, version: input.deployment.planVersion } } : {}),
  };
  const { groupOf, failing, healthy, unchanged, checks, changesOf, stepNames } = readHosts(input);
  if (failing.length === 0) {
    const anyFailure = checks.length > 0 || input.journal.some((e) => e.kind === 'host' && (e.body as { state?: string } | undefined)?.state === 'failed');
    const unchangedFailing = unchanged.filter((u) => u.failed).map((u) => u.host);
    const conclusion: Conclusion = unchangedFailing.length > 0
      ? { kind: 'none', why: 'failing-hosts-unchanged', hosts: unchangedFailing }
      : { kind: 'none', why: anyFailure ? 'no-changed-failing-host' : 'no-failure' };
    return { ...base, failing, healthy, unchanged, checks, candidates: [], conclusion };
  }
  const installedOf = new Map(input.groups.map((g) => [g.key, new Set(g.installed.map((p) => p.name))]));
  const installedOn = (h: string): Set<string> => installedOf.get(groupOf.get(h) ?? '') ?? new Set();
  const failedServices = new Map<string, string[]>();
  for (const c of checks) if (c.service) failedServices.set(c.service, sorted([...(failedServices.get(c.service) ?? []), c.check]));

  // pass 2: every distinct change on a failing host
  const changes = new Map<string, PackageChange>();
  for (const f of failing) for (const c of changesOf.get(f.host) ?? []) if (!changes.has(changeKey(c))) changes.set(changeKey(c), c);
  const scored: Array<Candidate & { signature: string; raw: number }> = [];
  for (const [key, c] of changes) {
    const has = (h: string): boolean => (changesOf.get(h) ?? []).some((x) => changeKey(x) === key);
    const onFailing = failing.map((f) => f.host).filter(has);
    const onHealthy = healthy.filter(has);
    const reasons: CandidateReason[] = [{ kind: 'on-failing-hosts', hosts: onFailing, of: failing.length }];
    let context: string[] = [];
    let exclusivity = 1;
    if (onHealthy.length === 0) {
      if (healthy.length > 0) reasons.push({ kind: 'absent-from-healthy', healthy });
      else exclusivity = 0.8; // no healthy host to compare with: the change is not ruled out, nor singled out
    } else {
      reasons.push({ kind: 'also-on-healthy', hosts: onHealthy });
      const common = [...installedOn(onFailing[0]!)].filter((p) => p !== c.name && onFailing.every((h) => installedOn(h).has(p)) && !onHealthy.some((h) => installedOn(h).has(p)));
      context = common.sort();
      if (context.length > 0) {
        reasons.push({ kind: 'only-with', packages: context });
        exclusivity = 0.9;
      } else {
        exclusivity = 0.2 * (1 - onHealthy.length / healthy.length) + 0.1;
      }
    }
    // pass 3: correlation with the failed checks' services, or a failed step naming the package
    let link = 0.7;
    const named = onFailing.filter((h) => stepNames.get(h)?.has(c.name));
    const groupsWith = new Set(onFailing.map((h) => groupOf.get(h)));
    const reached = new Set((input.reach ?? []).filter((r) => groupsWith.has(r.group) && r.packages.includes(c.name)).map((r) => r.service));
    const hitServices = [...failedServices.keys()].filter((s) => reached.has(s)).sort();
    if (named.length > 0) {
      reasons.push({ kind: 'named-by-step-output', hosts: named });
      link = 1;
    } else if (hitServices.length > 0) {
      for (const s of hitServices) reasons.push({ kind: 'reaches-failed-service', service: s, checks: failedServices.get(s)! });
      link = 1;
    } else if (failedServices.size > 0 && input.reach !== undefined) {
      reasons.push({ kind: 'reaches-no-failed-service', services: [...failedServices.keys()].sort() });
      link = 0.3;
    }
    const coverage = onFailing.length / failing.length;
    const raw = coverage * exclusivity * link;
    const signature = JSON.stringify([onFailing, onHealthy, context, link, named]);
    scored.push({
      package: c.name, action: c.action, ...(c.from !== undefined ? { from: c.from } : {}), ...(c.to !== undefined ? { to: c.to } : {}),
      confidence: 0, context, reasons, signature, raw,
    });
  }
  // candidates with the same evidence share its weight
  const bySignature = new Map<string, typeof scored>();
  for (const s of scored) bySignature.set(s.signature, [...(bySignature.get(s.signature) ?? []), s]);
  for (const same of bySignature.values()) {
    for (const s of same) {
      s.confidence = round(s.raw / same.length);
      if (same.length > 1) s.reasons.push({ kind: 'indistinguishable-from', packages: same.filter((x) => x !== s).map((x) => x.package).sort() });
    }
  }
  // ranked by the evidence's strength; the shared confidence says how sure the pick among equals is
  scored.sort((a, b) => b.raw - a.raw || b.confidence - a.confidence || (a.package < b.package ? -1 : a.package > b.package ? 1 : 0));
  const candidates: Candidate[] = scored.map(({ signature: _s, raw: _r, ...c }) => c);
  const top = scored[0];
  if (!top) return { ...base, failing, healthy, unchanged, checks, candidates: [], conclusion: { kind: 'none', why: 'failing-hosts-unchanged', hosts: failing.map((f) => f.host) } };
  const tied = scored.filter((s) => s.signature === top.signature).map((s) => candidates[scored.indexOf(s)]!);
  if (tied.length > 1) {
    return { ...base, failing, healthy, unchanged, checks, candidates, conclusion: { kind: 'ambiguous', candidates: tied }, bisect: { packages: tied.map((c) => c.package), note: 'rehearsal-runs-health-checks-only' } };
  }
  return { ...base, failing, healthy, unchanged, checks, candidates, conclusion: { kind: 'culprit', candidate: candidates[0]! } };
}
