/**
 * The fleet's inventory port (HostCollector, src/fleet/collector.ts) implemented with this layer's
 * tools: hosts over SSH through the one ssh argument builder (ssh.ts) and the command runner
 * (runner.ts), and this machine read-only.
 *
 * Over SSH the remote side runs `sh -s` and reads the fleet's fixed collection script on stdin
 * (no operator- or host-provided text is part of it). What a host sends back is capped
 * (COLLECT_ANSWER_MAX_BYTES): ssh is stopped as soon as the answer passes the cap and the host
 * becomes a `collection-failed` finding, so one misbehaving host can neither exhaust memory nor
 * stop the others from being collected.
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RollwiseError, isRollwiseError } from '../shared/index.js';
import {
  ARCH_PATTERN, COLLECT_ANSWER_MAX_BYTES, COLLECT_SCRIPT, isCompleteAnswer, readHostAptConfig, kernelVersionFromProcVersion, osFactsFromRelease, parseCollectedOutput, parseMeminfoMiB, parseOsRelease, parseStatusInstalled,
  type CollectProgress, type CollectTarget, type FleetFinding, type HostAptConfig, type HostCollection, type HostCollector, type HostFacts, type SshCollectSettings,
} from '../fleet/index.js';
import { createLocalRunner, type CommandRunner, type RunResult } from './runner.js';
import { buildSshArgs, createSshRunner, type SshConnectionOptions } from './ssh.js';

export interface HostCollectorOptions {
  /** What starts processes on this machine (ssh, dpkg); default: spawn. Tests pass a recording runner. */
  runner?: CommandRunner;
  sshBinary?: string;
  /** Most bytes one host's answer may have (default COLLECT_ANSWER_MAX_BYTES). */
  maxAnswerBytes?: number;
  /** Directory the local host's files are read under (default `/`); tests may point it at a copy. */
  localRoot?: string;
}

function sizeText(bytes: number): string {
  return bytes % 1048576 === 0 ? `${bytes / 1048576} MiB` : `${bytes} bytes`;
}

async function runPool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(Math.max(1, limit), items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}

/** The connection options for one target (the target's own user/port win over the settings'). */
export function sshConnectionFor(target: CollectTarget, settings: SshCollectSettings, sshBinary?: string): SshConnectionOptions {
  const port = target.ssh.port ?? settings.port;
  const user = target.ssh.user ?? settings.user;
  return {
    host: target.ssh.host,
    knownHostsFile: settings.knownHosts,
    connectTimeoutSeconds: settings.connectTimeout ?? 10,
    ...(port !== undefined ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(settings.identity !== undefined ? { identityFile: settings.identity } : {}),
    ...(settings.configFile !== undefined ? { configFile: settings.configFile } : {}),
    ...(settings.extraOptions !== undefined ? { extraOptions: settings.extraOptions } : {}),
    ...(sshBinary !== undefined ? { sshBinary: sshBinary } : {}),
  };
}

/** What one ssh run of the collection script means for the host. */
function interpret(target: CollectTarget, r: RunResult, limit: number, timeoutMs: number): HostCollection {
  const name = target.name;
  const notCollected = (kind: FleetFinding['kind'], message: string): HostCollection => ({ kind: 'not-collected', name, finding: { kind, host: name, message } });
  if (r.kind === 'not-started') return notCollected('unreachable', `ssh could not be started: ${r.reason}`);
  if (r.outputTruncated) return notCollected('collection-failed', `answer larger than ${sizeText(limit)}: stopped reading (the collection script answers with os-release, kernel, memory and the dpkg-query list)`);
  const err = r.stderr.trim().split('\n').filter((l) => l !== '').slice(-1)[0] ?? '';
  if (r.kind === 'lost') return notCollected('unreachable', r.reason.startsWith('timed out') ? `no answer within ${timeoutMs / 1000}s` : err || r.reason);
  if (!isCompleteAnswer(r.stdout)) return notCollected('collection-failed', err || `collection script failed (exit ${r.exitCode})`);
  const c = parseCollectedOutput(name, r.stdout);
  return { kind: 'collected', name, facts: c.facts, installed: c.installed, installedFrom: `dpkg-query over ssh (${target.ssh.host})`, findings: c.findings, ...(c.apt ? { apt: c.apt } : {}) };
}

const NODE_TO_DEBIAN_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64el' };

async function debianArchitecture(runner: CommandRunner): Promise<string | undefined> {
  // only prints; nothing on the host changes
  const r = await runner.run(['dpkg', '--print-architecture'], { timeoutMs: 5000, maxOutputBytes: 4096 });
  const out = r.kind === 'exited' && r.exitCode === 0 ? r.stdout.trim() : '';
  return ARCH_PATTERN.test(out) ? out : NODE_TO_DEBIAN_ARCH[process.arch];
}

/** The running kernel's package version: /proc/version names it on Debian; else the installed linux-image package's. */
async function runningKernelVersion(runner: CommandRunner, release: string): Promise<string | undefined> {
  try {
    const v = kernelVersionFromProcVersion(readFileSync('/proc/version', 'utf8'));
    if (v) return v;
  } catch (_e) {
    /* no /proc: ask dpkg */
  }
  if (!/^[0-9][A-Za-z0-9._+~-]*$/.test(release)) return undefined;
  const r = await runner.run(['dpkg-query', '-W', '-f=${Version}', `linux-image-${release}`], { timeoutMs: 5000 });
  const out = r.kind === 'exited' && r.exitCode === 0 ? r.stdout.trim() : '';
  return /^[0-9][A-Za-z0-9.+~:-]*$/.test(out) ? out : undefined;
}

/** The local host: its own dpkg status, os-release, kernel, memory, CPUs, disk and apt configuration; files are only read. */
async function collectLocalHost(runner: CommandRunner, root: string, givenName: string | undefined): Promise<HostCollection> {
  const name = givenName ?? os.hostname();
  const findings: FleetFinding[] = [];
  const statusPath = path.join(root, 'var/lib/dpkg/status');
  let statusText: string;
  try {
    statusText = readFileSync(statusPath, 'utf8');
  } catch (e) {
    throw new RollwiseError('RW_HOST', `cannot read the local dpkg status ${statusPath}: ${(e as Error).message}`, { hint: 'is this a Debian-family host?' });
  }
  const parsed = parseStatusInstalled(statusText);
  for (const p of parsed.problems) findings.push({ kind: 'partial-facts', host: name, message: `${statusPath}:${p.line}:${p.column}: ${p.message}` });
  const facts: HostFacts = {};
  for (const f of ['etc/os-release', 'usr/lib/os-release']) {
    try {
      const o = osFactsFromRelease(parseOsRelease(readFileSync(path.join(root, f), 'utf8')));
      if (o) {
        facts.os = o;
        break;
      }
    } catch (_e) {
      /* try the next */
    }
  }
  if (!facts.os) findings.push({ kind: 'partial-facts', host: name, message: 'no readable os-release' });
  const arch = root === '/' ? await debianArchitecture(runner) : undefined;
  if (arch) facts.architecture = arch;
  const kernel = os.release();
  if (/^[0-9]/.test(kernel)) facts.kernel = kernel;
  const kernelVersion = await runningKernelVersion(runner, kernel);
  if (kernelVersion) facts.kernelVersion = kernelVersion;
  try {
    facts.memoryMiB = parseMeminfoMiB(readFileSync('/proc/meminfo', 'utf8')) ?? Math.floor(os.totalmem() / 1048576);
  } catch (_e) {
    facts.memoryMiB = Math.floor(os.totalmem() / 1048576);
  }
  facts.cpus = Math.max(1, os.availableParallelism());
  try {
    const s = statfsSync(root);
    facts.diskTotalMiB = Math.floor((s.blocks * s.bsize) / 1048576);
    facts.diskFreeMiB = Math.floor((s.bavail * s.bsize) / 1048576);
  } catch (_e) {
    findings.push({ kind: 'partial-facts', host: name, message: 'disk size unknown (statfs failed)' });
  }
  const apt = readLocalAptConfig(root, arch ?? NODE_TO_DEBIAN_ARCH[process.arch] ?? 'amd64', name, findings);
  return { kind: 'collected', name, facts, installed: parsed.packages, installedFrom: statusPath, findings, ...(apt ? { apt } : {}) };
}

/** The local host's apt sources and preferences (etc/apt under its root, as directory roots are read: files only read); none without sources. */
function readLocalAptConfig(root: string, architecture: string, host: string, findings: FleetFinding[]): HostAptConfig | undefined {
  if (!existsSync(path.join(root, 'etc/apt/sources.list')) && !existsSync(path.join(root, 'etc/apt/sources.list.d'))) return undefined;
  try {
    return readHostAptConfig(root, architecture);
  } catch (e) {
    if (!isRollwiseError(e)) throw e;
    const at = e.position ? `${e.position.file}:${e.position.line}:${e.position.column}: ` : '';
    findings.push({ kind: 'partial-facts', host, message: `apt configuration not read: ${at}${e.message}` });
    return undefined;
  }
}

/** The HostCollector the fleet uses (app wires it into collectFleet). */
export function createHostCollector(options: HostCollectorOptions = {}): HostCollector {
  const runner = options.runner ?? createLocalRunner();
  const limit = options.maxAnswerBytes ?? COLLECT_ANSWER_MAX_BYTES;
  return {
    async collectSsh(targets: readonly CollectTarget[], settings: SshCollectSettings, onProgress?: CollectProgress): Promise<HostCollection[]> {
      // Every target's arguments are checked before the first host is contacted.
      const connections = targets.map((t) => {
        const c = sshConnectionFor(t, settings, options.sshBinary);
        buildSshArgs(c);
        return c;
      });
      const timeoutMs = (settings.connectTimeout ?? 10) * 6 * 1000;
      const answers: HostCollection[] = new Array<HostCollection>(targets.length);
      let done = 0;
      await runPool(targets, settings.parallel ?? 8, async (t, i) => {
        const ssh = createSshRunner(connections[i]!, runner);
        const r = await ssh.run(['sh', '-s'], { input: COLLECT_SCRIPT, timeoutMs, maxOutputBytes: limit, onOversizedOutput: 'kill' });
        answers[i] = interpret(t, r, limit, timeoutMs);
        done++;
        onProgress?.(done, targets.length, t.name);
      });
      return answers;
    },
    collectLocal: (name) => collectLocalHost(runner, options.localRoot ?? '/', name),
  };
}
