/**
 * The ssh transport: the system's OpenSSH client, always called with an argument array.
 * BatchMode (never a prompt), strict host-key checking against a known_hosts file, a connect
 * timeout, keep-alives, and ControlMaster/ControlPersist multiplexing. The remote command is
 * built from an argument array with every argument single-quoted for the remote shell
 * (quote.ts); environment variables travel as `env NAME=value` arguments, quoted the same way.
 * ssh's own failure (exit status 255: connection refused, dropped, host key mismatch) makes the
 * result `lost`, so a step's outcome becomes `unknown` rather than `failed`.
 */
import { RollwiseError } from '../shared/errors.js';
import { createHostDriver, type HostDriver } from './driver.js';
import { joinForShell } from './quote.js';
import { spawnCollect, type CommandRunner, type RunOptions } from './runner.js';
import { createRunitServiceControl, createSystemdServiceControl, type ServiceControl } from './services.js';
import { assertHostPath } from './validate.js';

export interface SshConnectionOptions {
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** known_hosts checked strictly (no trust on first use). */
  knownHostsFile: string;
  connectTimeoutSeconds?: number;
  /** Socket for ControlMaster multiplexing (omit to connect for every command). */
  controlPath?: string;
  controlPersistSeconds?: number;
  /** ssh ProxyCommand (trusted configuration, e.g. the lab's path into its namespaces). */
  proxyCommand?: string;
  sshBinary?: string;
}

const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9.:-]*$/;
const USER_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkPathOption(what: string, p: string): void {
  if (!p.startsWith('/') || /[\s\0]/.test(p)) throw new RollwiseError('RW_HOST', `${what} must be an absolute path without spaces, got ${JSON.stringify(p)}`);
}

/** The ssh arguments (everything before the remote command). */
export function buildSshArgs(o: SshConnectionOptions): string[] {
  if (!HOST_RE.test(o.host)) throw new RollwiseError('RW_HOST', `not a valid SSH host ${JSON.stringify(o.host)}`, { hint: 'a host name or IP address' });
  if (o.user !== undefined && !USER_RE.test(o.user)) throw new RollwiseError('RW_HOST', `not a valid SSH user ${JSON.stringify(o.user)}`);
  const port = o.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RollwiseError('RW_HOST', `bad SSH port ${String(o.port)}`);
  checkPathOption('known_hosts file', o.knownHostsFile);
  const args = [
    '-F', 'none',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${o.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${Math.max(1, Math.round(o.connectTimeoutSeconds ?? 10))}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
    '-T',
  ];
  if (o.controlPath !== undefined) {
    checkPathOption('ControlPath', o.controlPath);
    args.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${o.controlPath}`, '-o', `ControlPersist=${Math.max(1, Math.round(o.controlPersistSeconds ?? 60))}`);
  }
  if (o.identityFile !== undefined) {
    checkPathOption('identity file', o.identityFile);
    args.push('-i', o.identityFile, '-o', 'IdentitiesOnly=yes');
  }
  if (o.proxyCommand !== undefined) args.push('-o', `ProxyCommand=${o.proxyCommand}`);
  args.push('-p', String(port));
  if (o.user !== undefined) args.push('-l', o.user);
  return args;
}

/** The remote command line for an argument array and environment (each piece single-quoted). */
export function buildRemoteCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const envArgs = Object.entries(env).map(([k, v]) => {
    if (!ENV_NAME_RE.test(k)) throw new RollwiseError('RW_HOST', `bad environment variable name ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });
  return joinForShell(envArgs.length > 0 ? ['env', ...envArgs, ...argv] : [...argv]);
}

/** The full local argument array: ssh, its options, `--`, the host, the quoted remote command. */
export function buildSshCommand(o: SshConnectionOptions, argv: readonly string[], env: Record<string, string> = {}): string[] {
  return [o.sshBinary ?? 'ssh', ...buildSshArgs(o), '--', o.host, buildRemoteCommand(argv, env)];
}

/**
 * A runner that executes commands on the remote host. `local` is what starts the ssh process
 * (default: spawn on this machine); tests pass a recording runner to see the exact ssh argv.
 */
export function createSshRunner(o: SshConnectionOptions, localRunner?: CommandRunner): CommandRunner {
  buildSshArgs(o); // validate once, early
  return {
    where: `ssh ${o.user ? `${o.user}@` : ''}${o.host}:${o.port ?? 22}`,
    run(argv, options: RunOptions = {}) {
      let argvLocal: string[];
      try {
        argvLocal = buildSshCommand(o, argv, options.env ?? {});
      } catch (e) {
        return Promise.resolve({ kind: 'not-started', reason: (e as Error).message, durationMs: 0 });
      }
      const { env: _remoteEnv, cwd: _cwd, ...rest } = options;
      if (localRunner) {
        return localRunner.run(argvLocal, rest).then((r) =>
          r.kind === 'exited' && r.exitCode === 255 ? { kind: 'lost' as const, reason: r.stderr.trim() || 'ssh exit status 255', stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs } : r,
        );
      }
      return spawnCollect(argvLocal, rest, process.env, (code) => (code === 255 ? 'lost' : 'exited'));
    },
  };
}

/** Close a multiplexed master connection (ssh -O exit); harmless when none is open. */
export async function closeSshMaster(o: SshConnectionOptions): Promise<void> {
  if (o.controlPath === undefined) return;
  await spawnCollect([o.sshBinary ?? 'ssh', '-o', `ControlPath=${o.controlPath}`, '-O', 'exit', '--', o.host], { timeoutMs: 5000 }, process.env);
}

export interface SshDriverOptions {
  name?: string;
  ssh: SshConnectionOptions;
  /** A directory root on the remote machine (the lab); omit for the remote system itself. */
  root?: string;
  services?: ServiceControl;
  commandTimeoutMs?: number;
  /** What starts the ssh processes (default: spawn locally); for tests. */
  localRunner?: CommandRunner;
}

/** A host reached over SSH: the remote system (apt/dpkg/systemd) or a directory root there (runit). */
export function createSshDriver(options: SshDriverOptions): HostDriver {
  const runner = createSshRunner(options.ssh, options.localRunner);
  if (options.root !== undefined) assertHostPath(options.root);
  const root = options.root?.replace(/\/+$/, '');
  return createHostDriver({
    name: options.name ?? options.ssh.host,
    runner,
    target: root !== undefined ? { kind: 'root', root } : { kind: 'system' },
    services: options.services ?? (root !== undefined ? createRunitServiceControl({ svdir: `${root}/etc/service` }) : createSystemdServiceControl()),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
    remote: true,
  });
}
