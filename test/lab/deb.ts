/**
 * Builder for small synthetic .deb packages (src/hosts/synthetic-deb.ts builds them). Maintainer
 * scripts write only under $DPKG_ROOT and refuse to run without it, so installing one with
 * chrootless scripts can never touch the machine itself. A script can be told to fail at build
 * time (`fail`) or at run time (a marker file `$DPKG_ROOT/etc/lab-fail/<package>.<script>`).
 */
import { readFile } from 'node:fs/promises';
import { buildSyntheticDeb, type BuiltDeb, type SyntheticDebSpec } from '../../src/hosts/index.js';
import { requireTool } from './process.js';

export type { BuiltDeb };

export type MaintainerScript = 'preinst' | 'postinst' | 'prerm' | 'postrm';

/** What a lab service does; chosen per package version, so an upgrade can really break it. */
export interface ServiceBehaviour {
  /** Fraction of synthetic requests answered with status 500 (0..1). */
  errorRate?: number;
  /** Latency of each synthetic request, milliseconds. */
  latencyMs?: number;
  /** Resident memory grows by this many MiB per second. */
  memoryGrowthMiBPerSecond?: number;
  /** The process exits with status 1 after this many seconds. */
  crashAfterSeconds?: number;
}

export interface LabServiceSpec {
  /** runit service name (also the name of the package's directory under /etc/sv). */
  name: string;
  behaviour?: ServiceBehaviour;
  /** Restart the running service from postinst on upgrade (default true). */
  restartOnUpgrade?: boolean;
}

/** The lab's package: a synthetic .deb (src/hosts/synthetic-deb.ts) with the lab's scripts and services. */
export interface DebSpec extends Pick<SyntheticDebSpec, 'name' | 'version' | 'architecture' | 'multiArch' | 'depends' | 'preDepends' | 'conflicts' | 'breaks' | 'provides' | 'replaces' | 'description' | 'files' | 'conffiles'> {
  /** Maintainer scripts that exit 1 (after logging). */
  fail?: MaintainerScript[];
  /** Extra shell lines appended to a maintainer script (trusted test data). */
  scriptLines?: Partial<Record<MaintainerScript, string[]>>;
  /** A service the package ships: a runit run script starting the lab's metrics server. */
  service?: LabServiceSpec;
  /** false: a package without any maintainer script (default: all four, guarded). */
  scripts?: boolean;
}

const SCRIPTS: MaintainerScript[] = ['preinst', 'postinst', 'prerm', 'postrm'];

/** Path of the metrics server source shipped inside service packages. */
export const METRICS_SERVER_SOURCE = new URL('./service/metrics-server.mjs', import.meta.url);

function scriptText(spec: DebSpec, script: MaintainerScript): string {
  const n = spec.name;
  const lines = [
    '#!/bin/sh',
    'set -e',
    '# Lab package: acts only under $DPKG_ROOT (chrootless maintainer scripts).',
    '[ -n "$DPKG_ROOT" ] || { echo "lab package refuses to run outside a directory root" >&2; exit 1; }',
    'mkdir -p "$DPKG_ROOT/var/lib/lab-scripts"',
    `echo "${script} $*" >> "$DPKG_ROOT/var/lib/lab-scripts/${n}.log"`,
  ];
  if (spec.service) {
    const s = spec.service.name;
    if (script === 'postinst') {
      lines.push(
        'if [ "$1" = configure ]; then',
        '  mkdir -p "$DPKG_ROOT/etc/service"',
        `  [ -L "$DPKG_ROOT/etc/service/${s}" ] || ln -s "../sv/${s}" "$DPKG_ROOT/etc/service/${s}"`,
      );
      if (spec.service.restartOnUpgrade !== false) {
        lines.push(
          `  if [ -n "$2" ] && [ -e "$DPKG_ROOT/etc/service/${s}/supervise/ok" ]; then`,
          `    sv -w 10 restart "$DPKG_ROOT/etc/service/${s}" >/dev/null 2>&1 || true`,
          '  fi',
        );
      }
      lines.push('fi');
    }
    if (script === 'prerm') {
      lines.push(
        'if [ "$1" = remove ]; then',
        `  if [ -e "$DPKG_ROOT/etc/service/${s}/supervise/ok" ]; then sv -w 10 stop "$DPKG_ROOT/etc/service/${s}" >/dev/null 2>&1 || true; fi`,
        `  rm -f "$DPKG_ROOT/etc/service/${s}"`,
        'fi',
      );
    }
  }
  lines.push(...(spec.scriptLines?.[script] ?? []));
  lines.push(`if [ -e "$DPKG_ROOT/etc/lab-fail/${n}.${script}" ]; then echo "${n} ${script}: told to fail" >&2; exit 1; fi`);
  if (spec.fail?.includes(script)) lines.push(`echo "${n} ${script}: built to fail" >&2`, 'exit 1');
  lines.push('exit 0', '');
  return lines.join('\n');
}

function runScript(serviceName: string): string {
  return [
    '#!/bin/sh',
    'exec 2>&1',
    '# cwd is <root>/etc/sv/<name> (runsv changes into the service directory)',
    'ROOT=$(cd ../../.. && pwd -P)',
    `[ -r "$ROOT/etc/lab/${serviceName}.env" ] && . "$ROOT/etc/lab/${serviceName}.env"`,
    `exec ${process.execPath} "$ROOT/usr/lib/lab-services/metrics-server.mjs" "$ROOT/usr/share/lab-services/${serviceName}.json" "\${PORT:-0}" "$ROOT"`,
    '',
  ].join('\n');
}

/** Build one .deb into outDir (the hosts layer's synthetic builder, with the lab's scripts and services). */
export async function buildDeb(spec: DebSpec, outDir: string): Promise<BuiltDeb> {
  requireTool('dpkg-deb');
  const files: Record<string, string> = { ...spec.files };
  const modes: Record<string, number> = {};
  if (spec.service) {
    const s = spec.service.name;
    files[`/etc/sv/${s}/run`] = runScript(s);
    files[`/usr/share/lab-services/${s}.json`] = JSON.stringify({ name: s, package: spec.name, version: spec.version, ...spec.service.behaviour }, null, 2) + '\n';
    files['/usr/lib/lab-services/metrics-server.mjs'] = await readFile(METRICS_SERVER_SOURCE, 'utf8');
  }
  for (const p of Object.keys({ ...files, ...spec.conffiles })) if (p.endsWith('/run')) modes[p] = 0o755;
  const scripts = spec.scripts === false ? {} : Object.fromEntries(SCRIPTS.map((s) => [s, scriptText(spec, s)]));
  return buildSyntheticDeb({
    name: spec.name,
    version: spec.version,
    architecture: spec.architecture ?? 'all',
    ...(spec.multiArch ? { multiArch: spec.multiArch } : {}),
    ...(spec.preDepends ? { preDepends: spec.preDepends } : {}),
    ...(spec.depends ? { depends: spec.depends } : {}),
    ...(spec.conflicts ? { conflicts: spec.conflicts } : {}),
    ...(spec.breaks ? { breaks: spec.breaks } : {}),
    ...(spec.provides ? { provides: spec.provides } : {}),
    ...(spec.replaces ? { replaces: spec.replaces } : {}),
    description: spec.description ?? `synthetic lab package ${spec.name}`,
    files,
    ...(spec.conffiles ? { conffiles: spec.conffiles } : {}),
    modes,
    scripts,
  }, outDir);
}
