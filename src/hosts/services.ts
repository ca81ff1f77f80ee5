/**
 * Service control behind an adapter: how to ask for a service's state and how to start, stop or
 * restart it. Adapters only build argument arrays and read results; the host driver runs them
 * through its command runner (locally or over SSH).
 * - runit (`sv` on `<svdir>/<name>`, always an absolute path so SVDIR is never consulted):
 *   directory-root hosts and the lab, where systemd is not running. `sv -w`'s own "ok" is not
 *   proof (see `settled`): the driver reads the status until it shows the change.
 * - systemd (`systemctl`): real hosts whose init is systemd.
 */
import type { ServiceState } from '../planner/index.js';
import type { RunResult } from './runner.js';
import { assertHostPath, assertServiceName } from './validate.js';

export type ServiceAction = 'start' | 'stop' | 'restart';

export interface ServiceControl {
  readonly kind: 'runit' | 'systemd';
  statusCommand(service: string): string[];
  parseStatus(result: RunResult): ServiceState;
  actionCommand(action: ServiceAction, service: string): string[];
  /**
   * Whether a status read (`statusCommand`) taken after `action` shows the change done; `before`
   * is the status read just before the action was asked for. Absent when the action command
   * itself returns only once the change is complete (systemctl waits for its job).
   */
  settled?(action: ServiceAction, service: string, before: RunResult, after: RunResult): boolean;
  /** How long (ms) the driver waits for `settled` after the action command succeeded. */
  readonly settleTimeoutMs?: number;
}

export interface RunitOptions {
  /** The directory runsvdir watches (for a directory root: `<root>/etc/service`). */
  svdir: string;
  /** Seconds `sv -w` waits for the change (default 10). */
  waitSeconds?: number;
}

/** One service's part of `sv status` output: `run|down|finish: <dir>: [(pid N)] Ns[, flag]...`. */
interface RunitStatus {
  phase: 'run' | 'down' | 'finish';
  pid?: number;
  /** "normally up|down", "paused", "want up|down", "got TERM". */
  flags: string[];
}

function parseRunitStatus(result: RunResult, dir: string): RunitStatus | undefined {
  if (result.kind !== 'exited') return undefined;
  for (const line of result.stdout.split('\n')) {
    for (const phase of ['run', 'down', 'finish'] as const) {
      const prefix = `${phase}: ${dir}: `;
      if (!line.startsWith(prefix)) continue;
      // after "; " comes the log service's own status
      const own = line.slice(prefix.length).split(';')[0] ?? '';
      const pid = /^\(pid (\d+)\) /.exec(own)?.[1];
      return { phase, ...(pid ? { pid: Number(pid) } : {}), flags: own.split(',').slice(1).map((f) => f.trim()) };
    }
  }
  return undefined;
}

export function createRunitServiceControl(options: RunitOptions): ServiceControl {
  assertHostPath(options.svdir);
  const svdir = options.svdir.replace(/\/+$/, '');
  const wait = String(Math.max(1, Math.round(options.waitSeconds ?? 10)));
  const dirOf = (service: string): string => {
    assertServiceName(service);
    return `${svdir}/${service}`;
  };
  return {
    kind: 'runit',
    statusCommand: (service) => ['sv', 'status', dirOf(service)],
    actionCommand: (action, service) => ['sv', '-w', wait, action === 'start' ? 'up' : action === 'stop' ? 'down' : 'restart', dirOf(service)],
    settleTimeoutMs: Number(wait) * 1000,
    /*
     * `sv -w` judges by supervise/status, which lags the commands queued to runsv: runsv reads its
     * control fifo one byte per loop, and sleeps a whole second (reading nothing) after a process
     * that lived under a second. So `sv -w restart` says "ok" with the old pid when that process
     * started in the same second (its check compares whole seconds), and `sv -w down` says "ok"
     * on a stale "down, want up" while its 'd' still waits in the fifo (a later `sv up` then sends
     * nothing: the stale status already says "want up"). Done means: the status itself shows it.
     */
    settled(action, service, before, after) {
      const dir = dirOf(service);
      const now = parseRunitStatus(after, dir);
      if (!now) return false;
      if (action === 'stop') return now.phase === 'down' && !now.flags.includes('want up');
      const up = now.phase === 'run' && now.pid !== undefined && !now.flags.includes('want down') && !now.flags.includes('got TERM');
      if (action === 'start') return up;
      const was = parseRunitStatus(before, dir);
      return up && (was?.pid === undefined || was.pid !== now.pid);
    },
    parseStatus(result) {
      if (result.kind !== 'exited') return 'unknown';
      const text = `${result.stdout}\n${result.stderr}`;
      if (/^run: /m.test(text)) return 'running';
      if (/^(down|finish): /m.test(text)) return 'stopped';
      if (/unable to change to service directory: file does not exist/.test(text)) return 'absent';
      if (/supervise\/ok: file does not exist|runsv not running/.test(text)) return 'unsupervised';
      return 'unknown';
    },
  };
}

export function createSystemdServiceControl(): ServiceControl {
  const unit = (service: string): string => {
    assertServiceName(service);
    return service;
  };
  return {
    kind: 'systemd',
    statusCommand: (service) => ['systemctl', 'is-active', '--', unit(service)],
    actionCommand: (action, service) => ['systemctl', action, '--', unit(service)],
    parseStatus(result) {
      if (result.kind !== 'exited') return 'unknown';
      const word = result.stdout.trim().split('\n')[0] ?? '';
      if (word === 'active' || word === 'reloading' || word === 'activating') return 'running';
      if (word === 'failed') return 'failed';
      if (word === 'inactive' || word === 'deactivating') return 'stopped';
      return 'unknown';
    },
  };
}
