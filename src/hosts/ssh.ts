/**
 * The ssh transport: the system's OpenSSH client, always called with an argument array, and the
 * one place ssh's arguments are built (the SSH driver and fleet collection both use it).
 * BatchMode (never a prompt), strict host-key checking against a given known_hosts file (the
 * system-wide one never counts), a connect timeout, keep-alives, optional ControlMaster/ControlPersist
 * multiplexing, and `-F none` unless the operator names a config file. The remote command is
 * built from an argument array with every argument single-quoted for the remote shell (quote.ts);
 * environment variables travel as `env NAME=value` arguments, quoted the same way.
 * ssh's own failure (exit status 255: connection refused, dropped, host key mismatch) makes the
 * result `lost`, so a step's outcome becomes `unknown` rather than `failed`.
 */
import { RollwiseError } from '../shared/index.js';
import { SSH_HOST_PATTERN, SSH_USER_PATTERN } from '../fleet/index.js';
import { createHostDriver, type HostDriver, type RootScripts } from './driver.js';
import type { ChrootlessScripts } from './maintainer-scripts.js';
import { joinForShell } from './quote.js';
import { spawnCollect, type CommandRunner, type RunOptions } from './runner.js';
import { createRunitServiceControl, createSystemdServiceControl, type ServiceControl } from './services.js';
import { assertHostPath } from './validate.js';

export interface SshConnectionOptions {
  /** Host name or address (SSH_HOST_PATTERN of src/fleet: the same names inventories accept). */
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
  /** ssh ProxyCommand (trusted configuration given in code, e.g. the lab's path into its namespaces). */
  proxyCommand?: string;
  /**
   * An ssh config file the operator named (`-F FILE`); trusted, since it may run commands
   * (ProxyCommand, Match exec). Default `-F none`: neither ~/.ssh/config nor /etc/ssh/ssh_config.
   * The options below are given on the command line and so take precedence over the file.
   */
  configFile?: string;
  /** Extra `-o Key=Value` options: only SAFE_SSH_OPTIONS (none can run a program). */
  extraOptions?: readonly string[];
  sshBinary?: string;
}

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Options `extraOptions` may set. An allowlist rather than a list of dangers: OpenSSH keeps adding
 * options that run programs (KnownHostsCommand came in 8.5), and none of these can.
 */
export const SAFE_SSH_OPTIONS: readonly string[] = [
  'AddressFamily', 'BindAddress', 'CASignatureAlgorithms', 'CheckHostIP', 'Ciphers', 'Compression', 'ConnectionAttempts',
  'FingerprintHash', 'HostKeyAlgorithms', 'IPQoS', 'KexAlgorithms', 'LogLevel', 'MACs', 'PreferredAuthentications',
  'PubkeyAcceptedAlgorithms', 'PubkeyAcceptedKeyTypes', 'PubkeyAuthentication', 'RekeyLimit', 'RequiredRSASize',
  'ServerAliveCountMax', 'ServerAliveInterval', 'TCPKeepAlive',
];
const SAFE_BY_LOWER = new Map(SAFE_SSH_OPTIONS.map((k) => [k.toLowerCase(), k]));

/** Why an option is refused, for the options people reach for (keys compared case-insensitively, as ssh does). */
const REFUSED_SSH_OPTIONS = new Map<string, string>(Object.entries({
  proxycommand: 'it runs a program on this machine',
  localcommand: 'it runs a program on this machine',
  permitlocalcommand: 'it lets LocalCommand run a program on this machine',
  knownhostscommand: 'it runs a program on this machine',
  match: "'Match exec' runs a program on this machine",
  include: 'it reads further config files, which may run programs',
  pkcs11provider: 'it loads a shared library into ssh',
  securitykeyprovider: 'it loads a shared library into ssh',
  // ProxyJump runs only ssh, but as `$SHELL -c "exec ssh ... -W [%h]:%p JUMP"`, and that second
  // ssh gets none of these -o options (no BatchMode, no strict checking against our known_hosts).
  proxyjump: 'the jump connection is a second ssh that gets none of these host-key and batch settings; put jump hosts in the --ssh-config file',
  remotecommand: 'it replaces the command rollwise runs',
  forwardagent: 'it hands the agent to the remote host',
  controlmaster: 'rollwise sets multiplexing itself',
  controlpath: 'rollwise sets multiplexing itself',
  userknownhostsfile: 'host keys are checked against --known-hosts',
  globalknownhostsfile: 'host keys are checked against --known-hosts only',
  stricthostkeychecking: 'strict host-key checking is always on',
  batchmode: 'batch mode is always on',
}));

/** Throws unless every option is `Key=Value` with a key of SAFE_SSH_OPTIONS and a plain value. */
export function checkSshExtraOptions(options: readonly string[]): void {
  for (const x of options) {
    const m = /^([A-Za-z0-9]+)=([A-Za-z0-9_.,:@+-]+)$/.exec(x);
    const key = m?.[1]?.toLowerCase() ?? /^\s*([A-Za-z0-9]+)/.exec(x)?.[1]?.toLowerCase();
    const why = key !== undefined ? REFUSED_SSH_OPTIONS.get(key) : undefined;
    if (why) throw new RollwiseError('RW_USAGE', `ssh option ${JSON.stringify(x)} is refused: ${why}`, { hint: `allowed: ${SAFE_SSH_OPTIONS.join(', ')}` });
    if (!m) throw new RollwiseError('RW_USAGE', `ssh option ${JSON.stringify(x)} must be Key=Value (a value of letters, digits and _ . , : @ + -)`, { hint: 'write extra ssh options as Key=Value, e.g. ServerAliveInterval=15' });
    if (!SAFE_BY_LOWER.has(key!)) throw new RollwiseError('RW_USAGE', `ssh option '${m[1]}' is not accepted`, { hint: `allowed: ${SAFE_SSH_OPTIONS.join(', ')}` });
  }
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * A file path as one `-o Key=VALUE` value. ssh splits such values at whitespace (UserKnownHostsFile
 * takes several files) unless double-quoted, and expands `%` tokens (%d home, %h host, ...) in
 * UserKnownHostsFile, IdentityFile and ControlPath, so `%` is written `%%`. A `"` or `\` inside
 * would need escapes older ssh versions do not read; such paths are refused.
 */
export function sshPathValue(what: string, p: string): string {
  if (!p.startsWith('/') || hasControlCharacter(p) || /["\\]/.test(p)) {
    throw new RollwiseError('RW_HOST', `${what} must be an absolute path without control characters, '"' or '\\', got ${JSON.stringify(p)}`, { hint: 'give an absolute path without \'"\', \'\\\' or control characters' });
  }
  return `"${p.replace(/%/g, '%%')}"`;
}

function checkPlainPath(what: string, p: string): void {
  if (!p.startsWith('/') || hasControlCharacter(p)) throw new RollwiseError('RW_HOST', `${what} must be an absolute path without control characters, got ${JSON.stringify(p)}`, { hint: 'give an absolute path without control characters' });
}

/** The ssh arguments (everything before `--`, the host and the remote command). */
export function buildSshArgs(o: SshConnectionOptions): string[] {
  if (!SSH_HOST_PATTERN.test(o.host)) throw new RollwiseError('RW_HOST', `not a valid SSH host ${JSON.stringify(o.host)}`, { hint: 'a host name or IP address' });
  if (o.user !== undefined && !SSH_USER_PATTERN.test(o.user)) throw new RollwiseError('RW_HOST', `not a valid SSH user ${JSON.stringify(o.user)}`, { hint: 'SSH users are letters, digits and . _ -' });
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) throw new RollwiseError('RW_HOST', `bad SSH port ${String(o.port)}`, { hint: 'SSH ports are 1 to 65535' });
  const args: string[] = [];
  if (o.configFile !== undefined) {
    checkPlainPath('ssh config file', o.configFile);
    args.push('-F', o.configFile);
  } else args.push('-F', 'none');
  args.push(
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${sshPathValue('known_hosts file', o.knownHostsFile)}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${Math.max(1, Math.round(o.connectTimeoutSeconds ?? 10))}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
    '-T',
  );
  if (o.controlPath !== undefined) {
    args.push('-o', 'ControlMaster=auto', '-o', `ControlPath=${sshPathValue('ControlPath', o.controlPath)}`, '-o', `ControlPersist=${Math.max(1, Math.round(o.controlPersistSeconds ?? 60))}`);
  }
  if (o.identityFile !== undefined) {
    // -o IdentityFile, not -i: ssh checks an -i path before expanding its % tokens, so a path
    // with `%` could be read neither escaped nor unescaped.
    args.push('-o', `IdentityFile=${sshPathValue('identity file', o.identityFile)}`, '-o', 'IdentitiesOnly=yes');
  }
  if (o.proxyCommand !== undefined) args.push('-o', `ProxyCommand=${o.proxyCommand}`);
  if (o.extraOptions !== undefined) {
    checkSshExtraOptions(o.extraOptions);
    for (const x of o.extraOptions) args.push('-o', x);
  }
  if (o.port !== undefined) args.push('-p', String(o.port));
  if (o.user !== undefined) args.push('-l', o.user);
  return args;
}

/** The remote command line for an argument array and environment (each piece single-quoted). */
export function buildRemoteCommand(argv: readonly string[], env: Record<string, string> = {}): string {
  const envArgs = Object.entries(env).map(([k, v]) => {
    if (!ENV_NAME_RE.test(k)) throw new RollwiseError('RW_HOST', `bad environment variable name ${JSON.stringify(k)}`, { hint: 'environment variable names are letters, digits and _, not starting with a digit' });
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
          r.kind === 'exited' && r.exitCode === 255
            ? { kind: 'lost' as const, reason: r.stderr.trim() || 'ssh exit status 255', stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs, ...(r.outputTruncated ? { outputTruncated: true } : {}) }
            : r,
        );
      }
      return spawnCollect(argvLocal, rest, process.env, (code) => (code === 255 ? 'lost' : 'exited'));
    },
  };
}

/** Close a multiplexed master connection (ssh -O exit); harmless when none is open. */
export async function closeSshMaster(o: SshConnectionOptions): Promise<void> {
  if (o.controlPath === undefined) return;
  await spawnCollect([o.sshBinary ?? 'ssh', '-F', 'none', '-o', `ControlPath=${sshPathValue('ControlPath', o.controlPath)}`, '-O', 'exit', '--', o.host], { timeoutMs: 5000 }, process.env);
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
  /**
   * With `root`: how maintainer scripts run (see createDirectoryRootDriver and
   * createChrootRootDriver). `chroot: true` runs apt, dpkg and the scripts inside the remote root
   * (a complete Debian system); otherwise they run chrootless on the remote machine, and only for
   * packages `chrootlessScripts` trusts (a step that needs another package's scripts is rejected).
   */
  chrootlessScripts?: ChrootlessScripts;
  chroot?: boolean;
}

function rootScriptsFor(options: SshDriverOptions): RootScripts {
  if (options.chroot) return { kind: 'chroot' };
  const trust = options.chrootlessScripts;
  return { kind: 'chrootless', trusted: trust ? trust.trusted.bind(trust) : (): boolean => false };
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
    ...(root !== undefined ? { rootScripts: rootScriptsFor(options) } : {}),
    remote: true,
  });
}
