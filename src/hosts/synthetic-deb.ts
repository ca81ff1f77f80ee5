/**
 * Small synthetic .deb packages and a flat apt repository holding them, built on this machine:
 * the lab's test packages (test/lab/deb.ts adds its guarded maintainer scripts and test
 * services) and the staging roots `rollwise demo` rehearses on (packages standing in for the
 * knowledge base's versions). dpkg-deb builds each package through the local command runner
 * (`dpkg-deb --root-owner-group -Zgzip --build`); the repository's Packages and Release files
 * are written here, so apt-utils is not needed.
 *
 * A spec is data checked by its grammar before anything is written: the name, version and
 * architecture as dpkg reads them, relation fields on one line, file paths absolute inside the
 * package (no `..`). Maintainer scripts are given whole by the caller; a package built without
 * them needs no trust to be installed on a directory root (see maintainer-scripts.ts).
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RollwiseError } from '../shared/index.js';
import { createLocalRunner, type CommandRunner } from './runner.js';
import { toolPackage } from './tools.js';
import { assertArchitecture, assertHostPath, assertPackageName, assertPackageVersion } from './validate.js';

export type SyntheticScriptName = 'preinst' | 'postinst' | 'prerm' | 'postrm';

export interface SyntheticDebSpec {
  name: string;
  version: string;
  /** dpkg architecture (default `all`). */
  architecture?: string;
  /** Multi-Arch field (absent: none, dpkg's `no`). */
  multiArch?: 'same' | 'foreign' | 'allowed';
  depends?: string;
  preDepends?: string;
  recommends?: string;
  conflicts?: string;
  breaks?: string;
  provides?: string;
  replaces?: string;
  /** One line (default: "synthetic package NAME"). */
  description?: string;
  /** Plain files: absolute path inside the package → content. */
  files?: Record<string, string>;
  /** Conffiles: absolute path → content; listed in DEBIAN/conffiles. */
  conffiles?: Record<string, string>;
  /** File modes by path (default 0644). */
  modes?: Record<string, number>;
  /** Maintainer scripts, whole (absent: none). */
  scripts?: Partial<Record<SyntheticScriptName, string>>;
}

export interface BuiltDeb {
  name: string;
  version: string;
  architecture: string;
  /** Absolute path of the .deb. */
  path: string;
  /** The file name in the repository, `name_version_arch.deb` (epoch colon as %3a). */
  fileName: string;
  sha256: string;
  size: number;
  /** The control file as built (the repository's index repeats its fields). */
  control: string;
}

const SCRIPT_NAMES: readonly SyntheticScriptName[] = ['preinst', 'postinst', 'prerm', 'postrm'];
const RELATION_FIELDS = [
  ['preDepends', 'Pre-Depends'],
  ['depends', 'Depends'],
  ['recommends', 'Recommends'],
  ['conflicts', 'Conflicts'],
  ['breaks', 'Breaks'],
  ['provides', 'Provides'],
  ['replaces', 'Replaces'],
] as const;

function oneLine(value: string, field: string, spec: { name: string }): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new RollwiseError('RW_USAGE', `${field} of the synthetic package ${spec.name} holds a line break or control character`, { hint: 'a control field is one line of text' });
  }
  return value.trim();
}

/** The control file of a spec (checked by the grammar; throws RollwiseError on a bad field). */
export function syntheticControl(spec: SyntheticDebSpec): string {
  assertPackageName(spec.name);
  assertPackageVersion(spec.version);
  const arch = spec.architecture ?? 'all';
  assertArchitecture(arch);
  const lines = [`Package: ${spec.name}`, `Version: ${spec.version}`, `Architecture: ${arch}`, 'Maintainer: Rollwise <synthetic@rollwise.invalid>'];
  if (spec.multiArch !== undefined) {
    if (!['same', 'foreign', 'allowed'].includes(spec.multiArch)) throw new RollwiseError('RW_BAD_NAME', `${JSON.stringify(spec.multiArch)} is not a Multi-Arch value`, { hint: 'Multi-Arch is same, foreign or allowed' });
    lines.push(`Multi-Arch: ${spec.multiArch}`);
  }
  for (const [key, field] of RELATION_FIELDS) {
    const v = spec[key];
    if (v !== undefined && v.trim() !== '') lines.push(`${field}: ${oneLine(v, field, spec)}`);
  }
  lines.push('Section: misc', 'Priority: optional', `Description: ${oneLine(spec.description ?? `synthetic package ${spec.name}`, 'Description', spec)}`, ' Built by Rollwise (a stand-in for tests and rehearsals).', '');
  return lines.join('\n');
}

/** `name_version_arch.deb`, the epoch's colon written %3a as Debian's archive does. */
export function debFileName(d: { name: string; version: string; architecture: string }): string {
  return `${d.name}_${d.version.replace(/:/g, '%3a')}_${d.architecture}.deb`;
}

/** Build one .deb into outDir (created when missing). */
export async function buildSyntheticDeb(spec: SyntheticDebSpec, outDir: string, options: { runner?: CommandRunner } = {}): Promise<BuiltDeb> {
  const control = syntheticControl(spec);
  const arch = spec.architecture ?? 'all';
  const contents: Record<string, string> = { ...spec.files, ...spec.conffiles };
  for (const p of [...Object.keys(contents), ...Object.keys(spec.modes ?? {})]) assertHostPath(p);
  for (const s of Object.keys(spec.scripts ?? {})) {
    if (!(SCRIPT_NAMES as readonly string[]).includes(s)) throw new RollwiseError('RW_USAGE', `unknown maintainer script '${s}' for the synthetic package ${spec.name}`, { hint: `scripts are ${SCRIPT_NAMES.join(', ')}` });
  }
  const runner = options.runner ?? createLocalRunner();
  const work = await mkdtemp(path.join(os.tmpdir(), 'rw-deb-'));
  try {
    const tree = path.join(work, 'tree');
    const debian = path.join(tree, 'DEBIAN');
    await mkdir(debian, { recursive: true });
    for (const [p, content] of Object.entries(contents)) {
      const dest = path.join(tree, p);
      if (!dest.startsWith(tree + path.sep)) throw new RollwiseError('RW_USAGE', `${JSON.stringify(p)} leaves the package tree`, { hint: 'give absolute paths inside the package, e.g. /etc/app/app.conf' });
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, content);
      await chmod(dest, spec.modes?.[p] ?? 0o644);
    }
    await writeFile(path.join(debian, 'control'), control);
    const conffiles = Object.keys(spec.conffiles ?? {});
    if (conffiles.length > 0) await writeFile(path.join(debian, 'conffiles'), conffiles.map((c) => c + '\n').join(''));
    for (const [s, text] of Object.entries(spec.scripts ?? {})) {
      const p = path.join(debian, s);
      await writeFile(p, text);
      await chmod(p, 0o755);
    }
    await mkdir(outDir, { recursive: true });
    const fileName = debFileName({ name: spec.name, version: spec.version, architecture: arch });
    const out = path.join(outDir, fileName);
    const r = await runner.run(['dpkg-deb', '--root-owner-group', '-Zgzip', '--build', tree, out], { timeoutMs: 120_000 });
    if (r.kind === 'not-started') {
      throw new RollwiseError('RW_HOST', `cannot build ${fileName}: dpkg-deb could not be started (${r.reason})`, { hint: `install the Debian package '${toolPackage('dpkg-deb')}'` });
    }
    if (r.kind !== 'exited' || r.exitCode !== 0) {
      const output = [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n').slice(-2000);
      throw new RollwiseError('RW_HOST', `dpkg-deb could not build ${fileName}: ${r.kind === 'exited' ? `exit ${r.exitCode}` : r.reason}: ${output}`, { hint: 'check the spec; dpkg-deb says what it refused' });
    }
    const bytes = await readFile(out);
    return { name: spec.name, version: spec.version, architecture: arch, path: out, fileName, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, control };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Write a flat repository's index for `debs` (each inside `dir`): Packages (their control
 * fields, Filename, Size, SHA256, MD5sum) and a Release listing its digest, so that the apt
 * source `deb [trusted=yes] file:DIR ./` reads it. Returns that source line.
 */
export async function writeFlatRepository(dir: string, debs: readonly BuiltDeb[]): Promise<string> {
  const root = path.resolve(dir);
  const stanzas: string[] = [];
  for (const d of [...debs].sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0))) {
    if (path.dirname(path.resolve(d.path)) !== root) throw new RollwiseError('RW_USAGE', `${d.fileName} is not in the repository folder ${root}`, { hint: 'build the packages into the repository folder' });
    const bytes = await readFile(d.path);
    const control = d.control.trimEnd().split('\n').filter((l) => l.trim() !== '');
    // Description's continuation lines come last in the control: the index keeps them there
    const at = control.findIndex((l) => l.startsWith('Description:'));
    const head = at < 0 ? control : control.slice(0, at);
    const tail = at < 0 ? [] : control.slice(at);
    stanzas.push([
      ...head,
      `Filename: ./${d.fileName}`,
      `Size: ${bytes.length}`,
      `MD5sum: ${createHash('md5').update(bytes).digest('hex')}`,
      `SHA256: ${createHash('sha256').update(bytes).digest('hex')}`,
      ...tail,
    ].join('\n'));
  }
  const packages = stanzas.map((s) => s + '\n').join('\n');
  const sha = createHash('sha256').update(packages).digest('hex');
  const date = new Date().toUTCString().replace('GMT', 'UTC');
  const release = ['Origin: rollwise', 'Label: rollwise synthetic', `Date: ${date}`, 'SHA256:', ` ${sha} ${Buffer.byteLength(packages)} Packages`, ''].join('\n');
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'Packages.tmp'), packages);
  await rename(path.join(root, 'Packages.tmp'), path.join(root, 'Packages'));
  await writeFile(path.join(root, 'Release.tmp'), release);
  await rename(path.join(root, 'Release.tmp'), path.join(root, 'Release'));
  return `deb [trusted=yes] file:${root} ./`;
}
