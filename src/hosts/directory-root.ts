/**
 * A host whose system lives in a directory (the staging host and the test host). Preparing one
 * lays out an empty dpkg database, apt's directories and a per-host apt configuration file that
 * points every path of apt and dpkg inside the root; the machine's own package database is
 * never read or written.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { RollwiseError } from '../shared/index.js';
import type { HostFacts } from '../fleet/index.js';
import { makeDirectoryInRoot, writeFileInRoot } from './confine.js';
import { assertArchitecture } from './validate.js';

/** Where the per-host apt configuration lives (loaded with APT_CONFIG, not from etc/apt). */
export function aptConfigPath(root: string): string {
  return `${root}${APT_CONFIG_HOST_PATH}`;
}
const APT_CONFIG_HOST_PATH = '/var/lib/rollwise/apt.conf';
const FACTS_HOST_PATH = '/etc/rollwise/facts.json';

/** Where a directory root's facts (kernel, memory, CPUs, disk, ...) are recorded. */
export function factsFilePath(root: string): string {
  return `${root}${FACTS_HOST_PATH}`;
}

/** dpkg's options for a directory root: every path inside it, maintainer scripts without chroot. */
export function dpkgRootOptions(root: string): string[] {
  return [
    `--root=${root}`,
    `--admindir=${root}/var/lib/dpkg`,
    `--log=${root}/var/log/dpkg.log`,
    '--force-script-chrootless',
    '--force-confdef',
    '--force-confold',
  ];
}

function aptString(value: string): string {
  if (/["\n\\]/.test(value)) throw new RollwiseError('RW_HOST', `path ${JSON.stringify(value)} cannot be written into an apt configuration`, { hint: 'use a path without \'"\', \'\\\' or line breaks' });
  return `"${value}"`;
}

/** The text of the per-host apt configuration file. */
export function renderAptConfig(root: string, architecture: string): string {
  assertArchitecture(architecture);
  const r = root.replace(/\/+$/, '');
  const lines = [
    '// Written by Rollwise: apt for the directory root ' + r,
    `Dir ${aptString(r + '/')};`,
    `Dir::State::status ${aptString(r + '/var/lib/dpkg/status')};`,
    // apt reads its configuration parts after this file: the root's own etc/apt/apt.conf(.d)
    // (written by packages in the root) could name hooks and a dpkg that run on this machine
    `Dir::Etc::parts "/dev/null";`,
    `Dir::Etc::main "/dev/null";`,
    `Dir::Bin::dpkg "/usr/bin/dpkg";`,
    `Debug::NoLocking "true";`,
    `APT::Sandbox::User "root";`,
    `APT::Architecture ${aptString(architecture)};`,
    `APT::Architectures { ${aptString(architecture)}; };`,
    `APT::Install-Recommends "false";`,
    `APT::Install-Suggests "false";`,
    `Acquire::Languages "none";`,
    `Dpkg::Use-Pty "false";`,
    `DPkg::Options { ${dpkgRootOptions(r).map(aptString).join('; ')}; };`,
    '',
  ];
  return lines.join('\n');
}

/** Facts of a directory root, recorded in etc/rollwise/facts.json (the fleet layer's shape). */
export type DirectoryRootFacts = HostFacts;

export interface PrepareDirectoryRootOptions {
  /** apt source lines, e.g. `deb [trusted=yes] file:/srv/repo ./`. */
  sources?: string[];
  /** dpkg architecture of the root (default amd64). */
  architecture?: string;
  /** os-release fields written to etc/os-release (default: Debian 12). */
  osRelease?: Record<string, string>;
  /** Facts recorded in etc/rollwise/facts.json. */
  facts?: DirectoryRootFacts;
}

/** Lay out a fresh directory root (idempotent). Returns the path of its apt configuration. */
export async function prepareDirectoryRoot(root: string, options: PrepareDirectoryRootOptions = {}): Promise<string> {
  if (!path.isAbsolute(root)) throw new RollwiseError('RW_HOST', `a directory root must be an absolute path, got ${JSON.stringify(root)}`, { hint: 'give the root as an absolute path, e.g. /srv/roots/web-1' });
  const arch = options.architecture ?? 'amd64';
  const dirs = [
    'var/lib/dpkg/info',
    'var/lib/dpkg/updates',
    'var/lib/dpkg/triggers',
    'var/lib/dpkg/alternatives',
    'var/lib/rollwise',
    'var/lib/apt/lists/partial',
    'var/cache/apt/archives/partial',
    'var/log/apt',
    'etc/apt/apt.conf.d',
    'etc/apt/preferences.d',
    'etc/apt/sources.list.d',
    'etc/apt/trusted.gpg.d',
    'etc/rollwise',
    'tmp',
  ];
  await mkdir(root, { recursive: true });
  // every path is resolved inside the root: a link the root holds never leads a write out of it
  for (const d of dirs) await makeDirectoryInRoot(root, `/${d}`);
  for (const f of ['/var/lib/dpkg/status', '/var/lib/dpkg/available']) await writeFileInRoot(root, f, '', { keepExisting: true });
  await writeFileInRoot(root, '/etc/apt/sources.list', (options.sources ?? []).map((s) => s + '\n').join(''));
  const osRelease = options.osRelease ?? {
    PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
    NAME: 'Debian GNU/Linux',
    VERSION_ID: '12',
    VERSION_CODENAME: 'bookworm',
    ID: 'debian',
  };
  await writeFileInRoot(
    root,
    '/etc/os-release',
    Object.entries(osRelease)
      .map(([k, v]) => `${k}="${v}"\n`)
      .join(''),
  );
  await writeFileInRoot(root, FACTS_HOST_PATH, JSON.stringify({ ...options.facts, architecture: arch }, null, 2) + '\n');
  const conf = aptConfigPath(root);
  await writeFileInRoot(root, APT_CONFIG_HOST_PATH, renderAptConfig(root, arch));
  return conf;
}
