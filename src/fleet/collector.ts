/**
 * The inventory port: how the fleet learns the facts and installed set of hosts no file
 * describes (hosts over SSH, this machine). The fleet states what it needs here; src/hosts
 * implements it (createHostCollector: the one ssh argument builder, the one process runner) and
 * app wires the two. What stays here is pure: the fixed script a host runs and the parsing of its
 * answer.
 */
import { parseOsRelease, osFactsFromRelease, parseMeminfoMiB, kernelVersionFromProcVersion, ARCH_PATTERN, KERNEL_PATTERN, type HostFacts } from './facts.js';
import { parseDpkgQueryOutput, type InstalledPackage } from './installed.js';
import type { FleetFinding, SshTarget } from './host.js';
import { parseDeb822Sources, parsePreferences, parseSourcesList, type HostAptConfig } from './apt-config.js';
import { isRollwiseError } from '../shared/index.js';

/** How to reach SSH hosts; settings that may run programs on this machine are never among them. */
export interface SshCollectSettings {
  /** known_hosts file checked strictly (no trust on first use); GlobalKnownHostsFile is always /dev/null. */
  knownHosts: string;
  identity?: string;
  user?: string;
  port?: number;
  /** Seconds (ConnectTimeout, and an overall bound of 6x per host). */
  connectTimeout?: number;
  /** At most this many hosts at once (default 8). */
  parallel?: number;
  /**
   * The operator's ssh config file (`--ssh-config` on the command line only, never an inventory):
   * it is trusted, since it may run commands here (ProxyCommand, Match exec). Without it: `-F none`.
   */
  configFile?: string;
  /** Extra `-o Key=Value` options; the builder refuses any option that could run a program. */
  extraOptions?: string[];
}

export interface CollectTarget {
  /** The host's name in the fleet. */
  name: string;
  ssh: SshTarget;
}

/** One host's answer: its facts and installed set, or why it has none (a finding, never an exception). */
export type HostCollection =
  | { kind: 'collected'; name: string; facts: HostFacts; installed: InstalledPackage[]; installedFrom: string; findings: FleetFinding[]; apt?: HostAptConfig }
  | { kind: 'not-collected'; name: string; finding: FleetFinding };

export type CollectProgress = (done: number, total: number, host: string) => void;

export interface HostCollector {
  /**
   * Collects every target over SSH with bounded parallelism: exactly one answer per target, in the
   * targets' order. Throws (RW_USAGE, RW_HOST) only for settings or targets that must not reach ssh,
   * and then before any host is contacted.
   */
  collectSsh(targets: readonly CollectTarget[], settings: SshCollectSettings, onProgress?: CollectProgress): Promise<HostCollection[]>;
  /** This machine, strictly read-only; `name` defaults to its host name. Throws RW_HOST when its dpkg status cannot be read. */
  collectLocal(name?: string): Promise<HostCollection>;
}

/**
 * The most a host's answer to COLLECT_SCRIPT may be. The answer is dominated by the dpkg-query
 * lines (35-60 bytes per package; a Debian 12 base system of 758 packages answers 26 KiB): a large
 * server of 3,000 packages answers under 200 KiB, and even 50,000 packages stay under 3 MiB. 4 MiB
 * keeps that headroom while 8 hosts collected at once hold at most 64 MiB (stdout and stderr);
 * a host that sends more is a finding (`collection-failed`), not a crash of the whole run.
 */
export const COLLECT_ANSWER_MAX_BYTES = 4 * 1024 * 1024;

/** The fixed script the remote `sh -s` runs; sections separated by marker lines. */
export const COLLECT_SCRIPT = [
  'LC_ALL=C; export LC_ALL',
  "echo '@@rw:os-release'; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
  "echo '@@rw:kernel'; uname -r",
  // the running kernel's package version: /proc/version names it on Debian; else its package's
  "echo '@@rw:proc-version'; cat /proc/version 2>/dev/null",
  "echo '@@rw:kernel-package'; dpkg-query -W -f='${Version}' \"linux-image-$(uname -r)\" 2>/dev/null",
  "echo '@@rw:arch'; dpkg --print-architecture 2>/dev/null",
  "echo '@@rw:cpus'; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN",
  "echo '@@rw:meminfo'; cat /proc/meminfo 2>/dev/null",
  "echo '@@rw:df'; df -Pk / 2>/dev/null",
  "echo '@@rw:foreign-arch'; dpkg --print-foreign-architectures 2>/dev/null",
  // apt's sources and preferences, each file's lines prefixed with | so no line can pose as a marker
  "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources /etc/apt/preferences /etc/apt/preferences.d/*; do [ -f \"$f\" ] && { echo '@@rw:apt-file'; printf '%s\\n' \"$f\"; sed 's/^/|/' \"$f\"; }; done",
  "echo '@@rw:dpkg'; dpkg-query -W -f='${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n' || echo '@@rw:dpkg-failed'",
  "echo '@@rw:end'",
  '',
].join('\n');

/** Whether the script ran to its end, with dpkg-query answering (else the answer is not used). */
export function isCompleteAnswer(out: string): boolean {
  return out.includes('@@rw:end') && !out.includes('@@rw:dpkg-failed');
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

/**
 * The host's apt configuration from the script's `apt-file` sections (path, then the file's lines
 * prefixed with `|`); a file that does not parse is a finding, and the host then has none.
 */
function parseCollectedApt(name: string, out: string, architecture: string | undefined, foreign: string, findings: FleetFinding[]): HostAptConfig | undefined {
  const files: Array<{ path: string; lines: string[] }> = [];
  let current: { path: string; lines: string[] } | undefined;
  let wantPath = false;
  for (const line of out.split('\n')) {
    if (line.startsWith('@@rw:')) { current = undefined; wantPath = line === '@@rw:apt-file'; continue; }
    if (wantPath) { current = { path: line, lines: [] }; files.push(current); wantPath = false; continue; }
    if (current && line.startsWith('|')) current.lines.push(line.slice(1));
  }
  if (files.length === 0) return undefined;
  const config: HostAptConfig = {
    sources: [], preferences: [], architecture: architecture ?? 'amd64',
    foreignArchitectures: foreign.split(/\s+/).filter((a) => ARCH_PATTERN.test(a)),
  };
  try {
    for (const f of files) {
      // apt reads preferences.d files with no extension or .pref only
      const base = f.path.slice(f.path.lastIndexOf('/') + 1);
      if (f.path.startsWith('/etc/apt/preferences.d/') && base.includes('.') && !base.endsWith('.pref')) continue;
      const text = f.lines.join('\n') + '\n';
      if (f.path.startsWith('/etc/apt/preferences')) config.preferences.push(...parsePreferences(text, `${name}:${f.path}`));
      else if (f.path.endsWith('.sources')) config.sources.push(...parseDeb822Sources(text, `${name}:${f.path}`));
      else config.sources.push(...parseSourcesList(text, `${name}:${f.path}`));
    }
  } catch (e) {
    if (!isRollwiseError(e)) throw e;
    findings.push({ kind: 'partial-facts', host: name, message: `apt configuration not used: ${e.render()}` });
    return undefined;
  }
  return config;
}

/** Turns the collection script's output into facts, an installed set and the host's apt configuration. */
export function parseCollectedOutput(name: string, out: string): { facts: HostFacts; installed: InstalledPackage[]; findings: FleetFinding[]; apt?: HostAptConfig } {
  const s = sections(out);
  const findings: FleetFinding[] = [];
  const facts: HostFacts = {};
  const os = osFactsFromRelease(parseOsRelease(s.get('os-release') ?? ''));
  if (os) facts.os = os;
  const kernel = (s.get('kernel') ?? '').trim();
  if (KERNEL_PATTERN.test(kernel)) facts.kernel = kernel;
  const kernelVersion = kernelVersionFromProcVersion(s.get('proc-version') ?? '') ?? (s.get('kernel-package') ?? '').trim();
  if (/^[0-9][A-Za-z0-9.+~:-]*$/.test(kernelVersion)) facts.kernelVersion = kernelVersion;
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
  const apt = parseCollectedApt(name, out, facts.architecture, s.get('foreign-arch') ?? '', findings);
  return { facts, installed: parsed.packages, findings, ...(apt ? { apt } : {}) };
}
