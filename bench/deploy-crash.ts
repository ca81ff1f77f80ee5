/**
 * Crash safety for `npm run bench:deploy`: the controller (bench/deploy-controller.ts as a child
 * process) is killed with SIGKILL at seeded points of deployments that succeed and of deployments
 * that roll back (app 2.0's postinst fails on the last host), then started again to resume until
 * the deployment finishes. A kill point is "after the K-th journal entry, plus a delay", so kills
 * land between journal writes and inside host steps alike. Only the controller dies: the apt or
 * dpkg it had started runs on (as on a remote host) and the resume waits for it to end.
 *
 * Counted afterwards: hosts in an unknown state (the journal's last state of the host is not
 * final, or dpkg and the running service disagree with what the deployment's outcome says) and
 * steps done twice (from the journal: a key started twice, a forward packages step that succeeded
 * under its key and its retry key; from the hosts' own logs: a postinst line of the deployment
 * appearing twice).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostStates, type DeploymentSpec, type JournalEntry } from '../src/deploy/index.js';
import { appState, BASE_VERSION, createHostsLab, markStepLog, newDeployment, serviceVersion, stepLog, TARGET, waitForVersion, type World } from './deploy-world.js';
import type { ControllerInput } from './deploy-controller.js';

const CONTROLLER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'deploy-controller.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type Rng = () => number;

export interface CrashTrial {
  n: number;
  kind: 'deploy' | 'rollback';
  killAfterEntries: number;
  delayMs: number;
  /** Where the kill landed: the journal's length and last key, steps open, whether a rollback had begun. */
  killed: boolean;
  journalAtKill: number;
  lastKey: string;
  openSteps: string[];
  inRollback: boolean;
  resumes: number;
  /** Entries in the journal once finished. */
  journalLength: number;
  status: string;
  unknownHosts: string[];
  /** Hosts the journal says were skipped (nothing applied), found as they were. */
  skippedHosts: string[];
  twiceJournal: string[];
  twiceHostLog: string[];
  wallMs: number;
  /** Setting the hosts up, the controller runs (first and resumes), checking the hosts. */
  phasesMs: { setup: number; run: number; verify: number };
}

interface Spawned {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function spawnController(input: ControllerInput): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', CONTROLLER, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Waits until no process of the killed controller's process group is left (the apt or dpkg it started). */
async function waitGroupGone(pgid: number, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`processes of the killed controller (group ${pgid}) still run after ${timeoutMs} ms`);
}

function openSteps(journal: readonly JournalEntry[]): string[] {
  const ended = new Set(journal.filter((e) => e.phase === 'ended').map((e) => e.key));
  return journal.filter((e) => (e.kind === 'step' || e.kind === 'snapshot') && e.phase === 'started' && !ended.has(e.key)).map((e) => e.key);
}

/** Steps done twice as the journal shows them. */
export function twiceInJournal(journal: readonly JournalEntry[]): string[] {
  const out: string[] = [];
  const started = new Map<string, number>();
  for (const e of journal) if (e.phase === 'started') started.set(e.key, (started.get(e.key) ?? 0) + 1);
  for (const [k, n] of started) if (n > 1) out.push(`${k} started ${n} times`);
  const succeeded = new Set(journal.filter((e) => e.kind === 'step' && e.phase === 'ended' && e.outcome === 'succeeded').map((e) => e.key));
  for (const k of succeeded) if (k.endsWith('/retry') && succeeded.has(k.slice(0, -'/retry'.length))) out.push(`${k.slice(0, -'/retry'.length)} succeeded twice (retry)`);
  return out;
}

/** Lines the deployment's postinsts wrote more than once on a host. */
export function twiceInLog(host: string, lines: readonly string[]): string[] {
  const mine = lines.slice(lines.lastIndexOf('--- deployment') + 1);
  const count = new Map<string, number>();
  for (const l of mine) count.set(l, (count.get(l) ?? 0) + 1);
  return [...count].filter(([, n]) => n > 1).map(([l, n]) => `${host}: "${l}" ${n} times`);
}

export interface CrashOptions {
  world: World;
  rng: Rng;
  kills: number;
  onTrial?: (t: CrashTrial) => void;
  verbose?: boolean;
}

export interface CrashReport {
  references: CrashTrial[];
  trials: CrashTrial[];
}

/** One deployment, killed after `killAfter` journal entries (+ delay) unless undefined, then resumed until finished. */
async function trial(world: World, n: number, kind: 'deploy' | 'rollback', killAfter: number | undefined, delayMs: number): Promise<CrashTrial> {
  const t0 = performance.now();
  const names = Array.from({ length: world.hosts }, (_, i) => `host-${i}`);
  const hl = await createHostsLab(world, kind === 'rollback' ? [names[names.length - 1]!] : []);
  try {
    for (const h of hl.lab.hosts) await markStepLog(h);
    const id = `crash-${process.pid}-${n}-${Math.floor(Math.random() * 1e6)}`;
    const spec: DeploymentSpec = await newDeployment(world, 'healthy', id, 0);
    const plan = world.plans.healthy;
    const input: ControllerInput = {
      storeFile: world.storeFile, deployment: id, planId: plan.id, planVersion: plan.version,
      roots: Object.fromEntries(hl.lab.hosts.map((h) => [h.name, h.root])), repoDir: world.repository.dir, debDir: path.join(world.dir, 'debs'),
      trusted: world.repository.built.map((d) => `${d.name}=${d.version}`),
    };
    const t: CrashTrial = { n, kind, killAfterEntries: killAfter ?? 0, delayMs, killed: false, journalAtKill: 0, lastKey: '', openSteps: [], inRollback: false, resumes: 0, journalLength: 0, status: '', unknownHosts: [], skippedHosts: [], twiceJournal: [], twiceHostLog: [], wallMs: 0, phasesMs: { setup: performance.now() - t0, run: 0, verify: 0 } };
    const first = spawnController(input);
    if (killAfter !== undefined) {
      let exited = false;
      void first.done.then(() => (exited = true));
      while (!exited && (await world.store.readJournal(id)).length < killAfter) await sleep(20);
      if (!exited) await sleep(delayMs);
      if (!exited && first.child.pid) {
        process.kill(first.child.pid, 'SIGKILL');
        t.killed = true;
        await first.done;
        const journal = await world.store.readJournal(id);
        t.journalAtKill = journal.length;
        t.lastKey = journal[journal.length - 1]?.key ?? '';
        t.openSteps = openSteps(journal);
        t.inRollback = journal.some((e) => e.kind === 'decision' && (e.body as { decision?: string }).decision === 'roll-back');
        await waitGroupGone(first.child.pid);
      }
    }
    let r = await first.done;
    // resume until the deployment is finished (a resume before the dead controller's lease lapsed is refused: try again)
    for (let attempt = 0; attempt < 40; attempt++) {
      const d = await world.store.getDeployment(id);
      if (d && ['succeeded', 'rolled-back', 'aborted', 'needs-attention'].includes(d.status)) break;
      await sleep(500);
      const again = spawnController(input);
      r = await again.done;
      if (!/RW_LEASE/.test(r.stderr)) t.resumes++;
      else continue;
      if (r.code !== 0) throw new Error(`resume of ${id} failed: ${r.stderr.slice(-1500)}`);
    }
    t.phasesMs.run = performance.now() - t0 - t.phasesMs.setup;
    const d = (await world.store.getDeployment(id))!;
    t.status = d.status;
    const journal = await world.store.readJournal(id);
    t.journalLength = journal.length;
    t.twiceJournal = twiceInJournal(journal);
    const reports = hostStates(spec, journal).flatMap((w) => w.hosts);
    const states = new Map(reports.map((h) => [h.host, h.state] as const));
    const want = d.status === 'succeeded' ? TARGET.healthy : BASE_VERSION;
    for (const h of hl.lab.hosts) {
      const s = states.get(h.name);
      const pkg = await appState(hl.lab, h);
      const port = hl.ports.get(h.name)!;
      const runningWant = s === 'skipped' ? undefined : (await waitForVersion(port, want, 15_000)) ? want : await serviceVersion(port);
      // a skipped host (nothing applied) must be as it was before the deployment
      const expected = s === 'skipped' ? BASE_VERSION : want;
      const running = expected === want ? runningWant : (await waitForVersion(port, expected, 15_000)) ? expected : await serviceVersion(port);
      const finalState = s === 'skipped' || (d.status === 'succeeded' ? s === 'healthy' : s === 'restored' || s === 'pending');
      if (s === 'skipped') t.skippedHosts.push(`${h.name}: ${reports.find((x) => x.host === h.name)?.reason ?? ''}`);
      if (!finalState || pkg?.status !== 'ii' || pkg.version !== expected || running !== expected) {
        t.unknownHosts.push(`${h.name} (journal ${s}, dpkg ${pkg ? `${pkg.status} ${pkg.version}` : 'absent'}, service ${running ?? 'down'}, expected ${expected})`);
      }
      t.twiceHostLog.push(...twiceInLog(h.name, await stepLog(h)));
    }
    t.wallMs = performance.now() - t0;
    t.phasesMs.verify = t.wallMs - t.phasesMs.setup - t.phasesMs.run;
    return t;
  } finally {
    await hl.lab.destroy();
  }
}

export async function runCrashSafety(o: CrashOptions): Promise<CrashReport> {
  // references: one uncrashed deployment of each kind (their journal length bounds the kill points)
  const references = [await trial(o.world, 0, 'deploy', undefined, 0), await trial(o.world, 0, 'rollback', undefined, 0)];
  for (const r of references) o.onTrial?.(r);
  const length = { deploy: references[0]!.journalLength, rollback: references[1]!.journalLength };
  const trials: CrashTrial[] = [];
  let n = 0;
  while (trials.filter((t) => t.killed).length < o.kills && n < o.kills * 2) {
    n++;
    const kind = n % 2 === 0 ? 'rollback' : 'deploy';
    const killAfter = 2 + Math.floor(o.rng() * (length[kind] - 3));
    const delayMs = Math.floor(o.rng() * 800);
    const t = await trial(o.world, n, kind, killAfter, delayMs);
    trials.push(t);
    o.onTrial?.(t);
  }
  return { references, trials };
}
