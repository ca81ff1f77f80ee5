/**
 * The local host as an inventory source: its own dpkg status, /etc/os-release, kernel,
 * memory, CPUs and disk. Strictly read-only: files are opened for reading and nothing is run
 * that changes state (`dpkg --print-architecture` only prints).
 */
import { readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { RollwiseError } from '../shared/errors.js';
import { parseOsRelease, osFactsFromRelease, parseMeminfoMiB, ARCH_PATTERN, type HostFacts } from './facts.js';
import { parseStatusInstalled } from './installed.js';
import type { FleetHost, FleetFinding } from './host.js';

export interface LocalHostOptions {
  /** Name in the fleet; default: the machine's host name. */
  name?: string;
  /** Root directory the files are read under (default `/`); tests may point it at a copy. */
  root?: string;
  labels?: Record<string, string>;
}

const NODE_TO_DEBIAN_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64el' };

function debianArchitecture(): string | undefined {
  try {
    const out = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    if (ARCH_PATTERN.test(out)) return out;
  } catch (_e) {
    /* fall back to Node's name */
  }
  return NODE_TO_DEBIAN_ARCH[process.arch];
}

/** Reads the local host (read-only). Throws RW_HOST only when the dpkg status cannot be read. */
export function readLocalHost(options: LocalHostOptions = {}): { host: FleetHost; findings: FleetFinding[] } {
  const root = options.root ?? '/';
  const name = options.name ?? os.hostname();
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
  const arch = root === '/' ? debianArchitecture() : undefined;
  if (arch) facts.architecture = arch;
  const kernel = os.release();
  if (/^[0-9]/.test(kernel)) facts.kernel = kernel;
  try {
    const mem = parseMeminfoMiB(readFileSync('/proc/meminfo', 'utf8'));
    facts.memoryMiB = mem ?? Math.floor(os.totalmem() / 1048576);
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
  return {
    host: { name, source: 'local', groups: [], labels: { ...(options.labels ?? {}) }, facts, installed: parsed.packages, installedFrom: statusPath },
    findings,
  };
}
