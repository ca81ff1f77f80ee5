/**
 * Service control behind an adapter: how to ask for a service's state and how to start, stop or
 * restart it. Adapters only build argument arrays and read results; the host driver runs them
 * through its command runner (locally or over SSH).
 * - runit (`sv` on `<svdir>/<name>`, always an absolute path so SVDIR is never consulted):
 *   directory-root hosts and the lab, where systemd is not running.
 * - systemd (`systemctl`): real hosts whose init is systemd.
 */
import type { RunResult } from './runner.js';
import { assertHostPath, assertServiceName } from './validate.js';

export type ServiceState =
  /** Supervised and running. */
  | 'running'
  /** Known to the supervisor and not running (stopped, or failed). */
  | 'stopped'
  | 'failed'
  /** No such service on the host. */
  | 'absent'
  /** The service directory exists but no supervisor watches it. */
  | 'unsupervised'
  /** The state could not be read. */
  | 'unknown';

export type ServiceAction = 'start' | 'stop' | 'restart';

export interface ServiceControl {
  readonly kind: 'runit' | 'systemd';
  statusCommand(service: string): string[];
  parseStatus(result: RunResult): ServiceState;
  actionCommand(action: ServiceAction, service: string): string[];
}

export interface RunitOptions {
  /** The directory runsvdir watches (for a directory root: `<root>/etc/service`). */
  svdir: string;
  /** Seconds `sv -w` waits for the change (default 10). */
  waitSeconds?: number;
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
