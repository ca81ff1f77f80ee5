/**
 * Hosts reached over SSH with the system's OpenSSH client: batch mode (no prompts), strict
 * host-key checking against a known_hosts file, a connection timeout, bounded parallelism.
 * The ssh command line is an argument array; the remote side runs `sh -s` and reads a fixed
 * collection script on stdin (no operator- or host-provided text is ever part of it).
 * A host that cannot be reached becomes a finding, not an error.
 */
import { spawn } from 'node:child_process';
import { RollwiseError } from '../shared/errors.js';
import { parseOsRelease, osFactsFromRelease, parseMeminfoMiB, ARCH_PATTERN, KERNEL_PATTERN, type HostFacts } from './facts.js';
import { parseDpkgQueryOutput } from './installed.js';
import { SSH_HOST_PATTERN, SSH_USER_PATTERN, type FleetHost, type FleetFinding } from './host.js';

export interface SshOptions {
  /** known_hosts file checked strictly (required: no trust-on-first-use). */
  knownHosts: string;
  identity?: string;
  user?: string;
  port?: number;
  /** Seconds (ConnectTimeout and an overall bound of 6x per host). */
  connectTimeout?: number;
  /** At most this many ssh processes at once. */
  parallel?: number;
  /** ssh config file (`-F`); `none` ignores the user's config. */
  configFile?: string;
  /** Extra `-o Key=Value` options (validated: no whitespace). */
  extraOptions?: string[];
  sshBinary?: string;
  onProgress?: (done: number, total: number, host: string) => void;
}

/** The fixed script the remote `sh -s` runs; sections separated by marker lines. */
export const COLLECT_SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  "echo '@@rw:os-release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
  "echo '@@rw:kernel'; uname -r",
  "echo '@@rw:arch'; dpkg --print-architecture 2>/dev/null",
  "echo '@@rw:cpus'; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN",
  "echo '@@rw:meminfo'; cat /proc/meminfo 2>/dev/null",
  "echo '@@rw:df'; df -Pk / 2>/dev/null",
  "echo '@@rw:dpkg'; dpkg-query -W -f='${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n' || echo '@@rw:dpkg-failed'",
  "echo '@@rw:end'",
  '',
].join('\n');

function checkOptionValue(what: string, v: string): void {
  if (/\s/.test(v) || v.startsWith('-') || v === '') throw new RollwiseError('RW_USAGE', `${what} '${v}' must not be empty, contain whitespace or start with '-'`);
}

/** The ssh argument array for one target (exported for tests: nothing here passes through a shell). */
export function buildSshArgs(target: { host: string; port?: number; user?: string }, o: SshOptions): string[] {
  if (!SSH_HOST_PATTERN.test(target.host)) throw new RollwiseError('RW_HOST', `not a valid SSH host '${target.host}'`, { hint: 'a host name or IP address' });
  const user = target.user ?? o.user;
  if (user !== undefined && !SSH_USER_PATTERN.test(user)) throw new RollwiseError('RW_HOST', `not a valid SSH user '${user}'`);
  checkOptionValue('known_hosts path', o.knownHosts);
  const args = [
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${o.knownHosts}`,
    '-o', `ConnectTimeout=${o.connectTimeout ?? 10}`,
    '-o', 'LogLevel=ERROR',
    '-T',
  ];
  if (o.configFile) {
    checkOptionValue('ssh config path', o.configFile);
    args.push('-F', o.configFile);
  }
  if (o.identity) {
    checkOptionValue('identity path', o.identity);
    args.push('-o', 'IdentitiesOnly=yes', '-i', o.identity);
  }
  for (const x of o.extraOptions ?? []) {
    if (!/^[A-Za-z]+=[^\s]+$/.test(x)) throw new RollwiseError('RW_USAGE', `ssh option '${x}' must be Key=Value without spaces`);
    args.push('-o', x);
  }
  const port = target.port ?? o.port;
  if (port !== undefined) args.push('-p', String(port));
  if (user !== undefined) args.push('-l', user);
  args.push('--', target.host, 'sh', '-s');
  return args;
}

function sections(out: string): Map<string, string> {
  const m = new Map<string, string>();
  let cur: string | undefined;
  let buf: string[] = [];
  for (const line of out.split('\n')) {
    const mk = /^@@rw:([a-z-]+)$/.exec(line);
    if (mk) {
      if (cur !== undefined) m.set(cur, buf.join('\n'));
      cur = mk[1]!;
      buf = [];
    } else buf.push(line);
  }
  if (cur !== undefined) m.set(cur, buf.join('\n'));
  return m;
}

/** Turns the collection script's output into facts and an installed set. */
export function parseCollectedOutput(name: string, out: string): { facts: HostFacts; installed: FleetHost['installed']; findings: FleetFinding[] } {
  const s = sections(out);
  const findings: FleetFinding[] = [];
  const facts: HostFacts = {};
  const os = osFactsFromRelease(parseOsRelease(s.get('os-release') ?? ''));
  if (os) facts.os = os;
  const kernel = (s.get('kernel') ?? '').trim();
  if (KERNEL_PATTERN.test(kernel)) facts.kernel = kernel;
  const arch = (s.get('arch') ?? '').trim();
  if (ARCH_PATTERN.test(arch)) facts.architecture = arch;
  const cpus = Number((s.get('cpus') ?? '').trim());
  if (Number.isInteger(cpus) && cpus > 0) facts.cpus = cpus;
  const mem = parseMeminfoMiB(s.get('meminfo') ?? '');
  if (mem !== undefined) facts.memoryMiB = mem;
  const dfLine = (s.get('df') ?? '').trim().split('\n')[1];
  if (dfLine) {
    const cols = dfLine.trim().split(/\s+/);
    const total = Number(cols[1]);
    const avail = Number(cols[3]);
    if (Number.isFinite(total)) facts.diskTotalMiB = Math.floor(total / 1024);
    if (Number.isFinite(avail)) facts.diskFreeMiB = Math.floor(avail / 1024);
  }
  const missing = (['os', 'kernel', 'architecture', 'cpus', 'memoryMiB'] as const).filter((k) => facts[k] === undefined);
  if (missing.length) findings.push({ kind: 'partial-facts', host: name, message: `facts not collected: ${missing.join(', ')}` });
  const parsed = parseDpkgQueryOutput(s.get('dpkg') ?? '');
  for (const p of parsed.problems.slice(0, 5)) findings.push({ kind: 'partial-facts', host: name, message: `dpkg-query line ${p.line}: ${p.message}` });
  return { facts, installed: parsed.packages, findings };
}

interface RunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs ssh with an argument array (no shell), feeds `input` on stdin, and settles on the process's
 * exit (not on its pipes closing: a ProxyCommand's helper may hold them open a little longer).
 */
function runSsh(binary: string, args: string[], input: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (exitCode: number | null, signal: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // let the last buffered output arrive, then stop listening
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ exitCode, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut });
      }, 50);
    };
    child.on('exit', (code, sig) => finish(code, sig));
    child.on('error', (e) => {
      err.push(Buffer.from(String(e.message)));
      finish(null, null);
    });
  });
}

async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!);
    }
  });
  await Promise.all(workers);
}

/**
 * Collects facts and installed sets of hosts over SSH. Hosts that answer are returned with
 * source `ssh` (inventory facts and labels are kept, collected facts override them); hosts that
 * do not are findings (`unreachable` for connection/authentication/host-key failures, ssh's exit
 * status 255; `collection-failed` when the remote commands failed).
 */
export async function collectSshHosts(targets: readonly FleetHost[], options: SshOptions): Promise<{ hosts: FleetHost[]; findings: FleetFinding[] }> {
  const results = new Map<string, FleetHost>();
  const findings: FleetFinding[] = [];
  const timeoutMs = (options.connectTimeout ?? 10) * 6 * 1000;
  let done = 0;
  const argsByHost = new Map(targets.map((t) => [t.name, buildSshArgs(t.ssh ?? { host: t.name }, options)]));
  await runPool(targets, options.parallel ?? 8, async (t) => {
    const args = argsByHost.get(t.name)!;
    const r = await runSsh(options.sshBinary ?? 'ssh', args, COLLECT_SCRIPT, timeoutMs);
    done++;
    options.onProgress?.(done, targets.length, t.name);
    const err = r.stderr.trim().split('\n').filter((l) => l !== '').slice(-1)[0] ?? '';
    if (r.timedOut) {
      findings.push({ kind: 'unreachable', host: t.name, message: `no answer within ${timeoutMs / 1000}s` });
      return;
    }
    if (r.exitCode === 255 || r.exitCode === null) {
      findings.push({ kind: 'unreachable', host: t.name, message: err || `ssh failed (${r.exitCode ?? r.signal ?? 'unknown'})` });
      return;
    }
    const out = r.stdout;
    if (!out.includes('@@rw:end') || out.includes('@@rw:dpkg-failed')) {
      findings.push({ kind: 'collection-failed', host: t.name, message: err || `collection script failed (exit ${r.exitCode})` });
      return;
    }
    const c = parseCollectedOutput(t.name, out);
    findings.push(...c.findings);
    results.set(t.name, { ...t, source: 'ssh', facts: { ...t.facts, ...c.facts }, installed: c.installed, installedFrom: `dpkg-query over ssh (${t.ssh?.host ?? t.name})` });
  });
  // Keep the targets' order so the output is deterministic.
  const hosts = targets.map((t) => results.get(t.name)).filter((h): h is FleetHost => h !== undefined);
  findings.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return { hosts, findings };
}
