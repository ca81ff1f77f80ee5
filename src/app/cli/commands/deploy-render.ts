/**
 * Words for the deploy commands: progress lines as waves and hosts advance, the result of a
 * run, a deployment's status (waves and hosts), its log of decisions with their evidence, and the
 * list. Text read from hosts and stores is shown with control characters escaped.
 */
import { escapeControls } from '../../../shared/index.js';
import { isDeploymentFinished, type DeployEvent, type DeploymentListEntry, type EngineResult, type HostReport, type JournalEntry, type DecisionBody } from '../../../deploy/index.js';
import type { DeploymentStatusView } from '../../services/index.js';
import type { Palette } from '../../render/index.js';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const safe = (s: string): string => escapeControls(s);

export function renderDeployEvent(e: DeployEvent, p: Palette): string | undefined {
  switch (e.kind) {
    case 'wave-started':
      return p.bold(`wave ${e.wave}${e.canary ? ' (canary)' : ''}: ${plural(e.hosts.length, 'host')} — ${e.hosts.join(', ')}`);
    case 'host-started':
      return `  ${e.host}: snapshot, then the plan's steps…`;
    case 'host-step':
      return e.status === 'succeeded' ? undefined : `  ${e.host}: ${e.phase} step ${e.index + 1}/${e.total} (${e.step.kind}) ${p.red(e.status)}`;
    case 'host-finished': {
      const colour = e.state === 'healthy' || e.state === 'restored' ? p.green : e.state === 'skipped' || e.state === 'held' || e.state === 'resolved' ? p.yellow : p.red;
      return `  ${e.host}: ${colour(e.state)}${e.reason ? ` (${safe(e.reason)})` : ''}`;
    }
    case 'baking':
      return e.bakeMs > 0 ? `  baking wave ${e.wave} for ${Math.round(e.bakeMs / 1000)} s…` : undefined;
    case 'verdict':
      return `  wave ${e.wave} verdict: ${e.verdict === 'passed' ? p.green(e.verdict) : e.verdict === 'failed' ? p.red(e.verdict) : p.yellow(e.verdict)}`;
    case 'decision':
      return e.body.decision === 'reconcile' || e.body.decision === 'promote' ? `  ${safe(e.body.reason)}` : `${p.bold(e.body.decision)}: ${safe(e.body.reason)}`;
    case 'finished':
      return undefined;
    default:
      return undefined;
  }
}

export function renderEngineResult(id: string, r: EngineResult, p: Palette): string {
  if (r.kind === 'halted') return `Deployment ${id}: ${p.red('stopped')} (${safe(r.reason)}); rollwise deploy resume ${id} continues it\n`;
  const colour = r.status === 'succeeded' || r.status === 'rolled-back' ? p.green : r.status === 'paused' ? p.yellow : p.red;
  const lines = [`Deployment ${id}: ${colour(r.status)}${r.reason ? ` — ${safe(r.reason)}` : ''}`];
  const count = (s: HostReport['state']): number => r.hosts.filter((h) => h.state === s).length;
  // after a rollback or abort, hosts never reached were left untouched (nothing is pending any more)
  const word = (s: HostReport['state']): string => (s === 'pending' && r.status !== 'paused' ? 'untouched' : s);
  const parts = (['healthy', 'restored', 'skipped', 'held', 'needs-attention', 'pending'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${word(s)}`);
  if (parts.length) lines.push(`  hosts: ${parts.join(', ')}`);
  const attention = r.hosts.filter((h) => h.state === 'needs-attention');
  if (attention.length) lines.push(p.red(`  needs a person: ${attention.map((h) => h.host).join(', ')} (rollwise deploy status ${id} says what differs)`));
  if (r.status === 'paused') lines.push(`  rollwise deploy resume ${id} continues; rollwise deploy abort ${id} rolls back`);
  lines.push(`  rollwise deploy log ${id} shows every decision with its evidence`);
  return `${lines.join('\n')}\n`;
}

function describeDifference(d: unknown): string {
  const x = d as { kind: string; name?: string; path?: string; service?: string; database?: string; before?: unknown; after?: unknown; version?: string };
  const what = x.name ?? x.path ?? x.service ?? x.database ?? '';
  const change = x.before !== undefined || x.after !== undefined ? ` ${String(x.before ?? '-')} → ${String(x.after ?? '-')}` : x.version ? ` ${x.version}` : '';
  return safe(`${x.kind} ${what}${change}`);
}

/** What to do about a deployment no live controller runs. */
export function noControllerWords(id: string, expiredAt: string | undefined): string {
  return `no controller is running it (${expiredAt ? `lease expired at ${expiredAt}` : 'lease free'}): rollwise deploy resume ${id} continues, rollwise deploy abort ${id} rolls back`;
}

export function renderDeploymentStatus(v: DeploymentStatusView, p: Palette): string {
  const d = v.deployment;
  const lines = [`Deployment ${d.id} of plan ${d.planId} v${d.planVersion}: ${p.bold(d.status)}${d.statusReason ? ` — ${safe(d.statusReason)}` : ''}`, `  created ${d.createdAt} by ${safe(d.createdBy)}, last change ${d.updatedAt}`];
  const finished = isDeploymentFinished(d.status);
  if (v.controller?.live) lines.push(`  controller ${safe(v.controller.holder)} runs it (lease until ${v.controller.expiresAt})`);
  else if (v.controller) lines.push(p.yellow(`  ${noControllerWords(d.id, v.controller.expiredAt)}`));
  for (const { wave, hosts } of v.waves) {
    lines.push(`wave ${wave.number}${wave.canary ? ' (canary)' : ''}: ${plural(hosts.length, 'host')}, failure budget ${wave.maxFailures}${wave.bakeMs ? `, bake ${Math.round(wave.bakeMs / 1000)} s` : ''}${wave.gate ? ', manual gate after' : ''}`);
    for (const h of hosts) {
      lines.push(`  ${h.host} (group ${h.group.slice(0, 12)}): ${h.state === 'pending' && finished ? 'untouched (not reached)' : h.state}${h.reason ? ` — ${safe(h.reason)}` : ''}`);
      for (const diff of h.differences ?? []) lines.push(`      differs: ${describeDifference(diff)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Evidence that is not a check's verdict, as `path: value` lines (the first 12; `--json` has all). */
function evidenceLines(e: unknown, indent: string): string[] {
  const flat: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v !== null && typeof v === 'object' && !(Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'))) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (k !== 'contentBase64') walk(x, path ? `${path}.${k}` : k);
      return;
    }
    const text = Array.isArray(v) ? v.map((x) => String(x)).join(', ') : String(v);
    flat.push(`${path || 'value'}: ${text.length > 160 ? `${text.slice(0, 160)}…` : text}`);
  };
  walk(e, '');
  const shown = flat.slice(0, 12).map((l) => `${indent}${safe(l)}`);
  if (flat.length > 12) shown.push(`${indent}… ${flat.length - 12} more (deploy log --json has them all)`);
  return shown;
}

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(3));

/** A check's verdict in words: metric, status, query, window, statistic, each host's last values. */
function checkLines(x: unknown): string[] {
  const c = x as { kind?: string; check?: string; status?: string; query?: string; window?: { start: number; end: number }; successCondition?: string; failureCondition?: string; measurements?: number; errors?: number; reasons?: Array<{ kind: string; messages?: string[]; lastError?: string }>; statistic?: { test: string; u: number; pValue: number; shift: number; relativeShift: number; against: string; outcome: string; changedCount?: number; controlCount?: number }; changed?: Array<{ host: string; values: number[] }>; control?: Array<{ host: string; values: number[] }>; hosts?: string[] };
  if (c.kind !== 'check') return ['    evidence:', ...evidenceLines(x, '      ')];
  const out = [`    check ${safe(c.check ?? '')}: ${c.status ?? ''}${c.reasons?.length ? ` (${c.reasons.map((r) => r.kind).join(', ')})` : ''}; ${c.measurements ?? 0} measurement(s), ${c.errors ?? 0} provider error(s)`];
  out.push(`      query: ${safe(c.query ?? '')}${c.successCondition ? `  success: ${safe(c.successCondition)}` : ''}${c.failureCondition ? `  failure: ${safe(c.failureCondition)}` : ''}`);
  for (const m of [...new Set((c.reasons ?? []).flatMap((r) => r.messages ?? (r.lastError ? [r.lastError] : [])))]) out.push(`      provider error: ${safe(m)}`);
  if (c.window) out.push(`      window: ${new Date(c.window.start).toISOString()} – ${new Date(c.window.end).toISOString()}`);
  const st = c.statistic;
  if (st && st.outcome === 'insufficient') out.push(`      ${st.test} against ${st.against}: too few samples to compare (${st.changedCount ?? 0} changed, ${st.controlCount ?? 0} ${st.against}): insufficient`);
  else if (st) out.push(`      ${st.test} against ${st.against}: U=${num(st.u)}, p=${num(st.pValue)}, shift ${num(st.shift)} (${num(st.relativeShift * 100)}%): ${st.outcome}`);
  for (const [side, tallies] of [['changed', c.changed ?? []], ['control', c.control ?? []]] as const) {
    for (const t of tallies) out.push(`      ${side} ${safe(t.host)}: ${t.values.map(num).join(', ') || 'no values'}`);
  }
  if (c.hosts?.length) out.push(`      hosts: ${c.hosts.map(safe).join(', ')}`);
  return out;
}

/** Checks that failed first, then the rest, each kind kept in its order. */
function failedFirst(evidence: readonly unknown[]): unknown[] {
  const failed = (x: unknown): boolean => (x as { status?: string }).status === 'failed';
  return [...evidence.filter(failed), ...evidence.filter((x) => !failed(x))];
}

/** A decision's evidence: a verdict's checks by the failed ones (the verdict entry has them all), anything else as path: value lines. */
function decisionEvidence(e: unknown): string[] {
  const v = e as { verdict?: string; evidence?: unknown[]; hosts?: string[] };
  if (Array.isArray(v.evidence) && v.evidence.length > 0 && v.evidence.every((x) => (x as { kind?: string }).kind === 'check')) {
    const failed = v.evidence.filter((x) => (x as { status?: string }).status === 'failed');
    const shown = failed.length > 0 ? failed : v.evidence;
    return [`    evidence: verdict ${v.verdict ?? ''}${v.hosts?.length ? ` over ${v.hosts.map(safe).join(', ')}` : ''}; ${failed.length} of ${v.evidence.length} check(s) failed${failed.length > 0 ? ':' : ''}`, ...shown.flatMap(checkLines)];
  }
  return ['    evidence:', ...evidenceLines(e, '      ')];
}

export function renderDeploymentLog(v: { deployment: { id: string; status: string }; entries: JournalEntry[] }, p: Palette): string {
  const lines = [`Deployment ${v.deployment.id}: ${v.deployment.status}`];
  for (const e of v.entries) {
    const at = `${e.at} #${e.seq}`;
    if (e.kind === 'decision') {
      const b = e.body as DecisionBody;
      lines.push(`${p.dim(at)} ${p.bold(b.decision)}${b.wave !== undefined ? ` (wave ${b.wave})` : ''}: ${safe(b.reason)}`);
      if (b.hosts?.length) lines.push(`    hosts: ${b.hosts.join(', ')}`);
      if (b.evidence !== undefined) lines.push(...decisionEvidence(b.evidence));
    } else if (e.kind === 'verdict') {
      const b = e.body as { verdict: string; evidence: unknown[]; changedHosts: string[]; bakeMs: number };
      lines.push(`${p.dim(at)} ${p.bold('verdict')} (wave ${e.wave}): ${b.verdict} over ${plural(b.changedHosts.length, 'changed host')}, bake ${Math.round(b.bakeMs / 1000)} s`);
      for (const x of failedFirst(b.evidence)) lines.push(...checkLines(x));
    } else if (e.kind === 'host') {
      const b = e.body as { state: string; reason?: string; differences?: unknown };
      lines.push(`${p.dim(at)} ${e.host}: ${b.state}${b.reason ? ` — ${safe(b.reason)}` : ''}`);
      if (Array.isArray(b.differences)) for (const d of b.differences) lines.push(`    differs: ${describeDifference(d)}`);
    } else if (e.kind === 'operator') {
      lines.push(`${p.dim(at)} controller run ${(e.body as { run?: number }).run ?? ''} started by ${safe(String((e.body as { holder?: string }).holder ?? ''))}`);
    } else {
      lines.push(`${p.dim(at)} ${e.kind} ${e.key} ${e.phase}${e.outcome ? ` ${e.outcome}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function renderDeploymentList(list: readonly DeploymentListEntry[], p: Palette): string {
  if (list.length === 0) return 'No deployments yet (rollwise deploy PLAN starts one).\n';
  return `${list.map((d) => `${p.bold(d.id)}  plan ${d.planId} v${d.planVersion}  ${d.status}  ${d.createdAt}`).join('\n')}\n`;
}
