/**
 * The synthetic repository of `npm run bench:rollback` (bench/rollback.ts): 20 packages in 2–3
 * versions each, built once by the lab into a local apt repository, and the knowledge-base facts
 * a rollback plan reads (migrations, config files, services) as plain data.
 *
 * What the packages exercise:
 * - relations: Depends with versions, Pre-Depends (gamma 3.0, lambda 2.0), Breaks (libbeta 2.0
 *   breaks alpha-tool << 2.0), Conflicts (delta 2.0 / epsilon << 2.0), a virtual package with
 *   mutually exclusive providers (theta, iota: Provides + Conflicts `mta`; kappa Depends mta), a
 *   file moved between packages (zeta 2.0 takes /usr/share/eta/shared.dat from eta << 2.0 with
 *   Replaces + Breaks);
 * - conffiles (changed between versions; mu 2.0 drops one and adds another), and a knowledge-base
 *   config file that is also a conffile (/etc/webapp/webapp.conf) beside one no package ships
 *   (/etc/worker/worker.env);
 * - maintainer scripts: postinst built to fail (flaky 2.0, brittle 2.0); a postinst that converts
 *   data in place on upgrade and cannot convert it back (dataconv: /var/lib/dataconv/store,
 *   declared with the knowledge base's `convertsData` so the rollback plan flags it); one
 *   that makes state once, with content nobody can reproduce (keeper: /var/lib/keeper/state,
 *   removed only on purge);
 * - runit services (webapp, restarted by its postinst on upgrade; worker, which depends on it)
 *   and PostgreSQL migrations on one
 *   database `app` (webapp 1.0 m001, 2.0 m002, 3.0 m003 irreversible; worker 2.0 w001).
 */
import type { DebSpec } from '../test/lab/index.js';
import { sideFileSuffix, type RollbackKnowledge } from '../src/planner/index.js';

/** What the bench knows about a package besides its .debs: paths its scripts make, conffile paths over every version. */
export interface PackageTraits {
  name: string;
  /** Files maintainer scripts make outside dpkg's knowledge (watched by the verifier, restored by nobody). */
  dataFiles: string[];
  /** Whether an upgrade converts those files in place (no downgrade converts them back). */
  convertsData: boolean;
  /** Conffile paths of every version. */
  conffiles: string[];
  /** Every file path any version ships (conffiles included). */
  shipped: string[];
  /** Versions whose postinst is built to fail. */
  failing: string[];
}

const CONVERT = (v: string): string[] => [
  'if [ "$1" = configure ]; then',
  '  d="$DPKG_ROOT/var/lib/dataconv"; mkdir -p "$d"',
  `  if [ ! -e "$d/store" ]; then echo "format=${v} fresh" > "$d/store"`,
  `  elif [ -n "$2" ] && dpkg --compare-versions "$2" lt "${v}"; then echo "format=${v} converted-from=$2 ($(cat "$d/store"))" > "$d/store"`,
  '  fi',
  'fi',
];
const PURGE_DIR = (dir: string): string[] => [`if [ "$1" = purge ]; then rm -rf "$DPKG_ROOT${dir}"; fi`];
const KEEPER_STATE = (v: string): string[] => [
  'if [ "$1" = configure ] && [ ! -e "$DPKG_ROOT/var/lib/keeper/state" ]; then',
  '  mkdir -p "$DPKG_ROOT/var/lib/keeper"',
  `  echo "id=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ') created-by=${v}" > "$DPKG_ROOT/var/lib/keeper/state"`,
  'fi',
];
/**
 * A runit service made by hand (a run script and the postinst/prerm lines the lab's service
 * packages have): the lab's service packages all ship the same metrics-server file, so two of
 * them cannot be installed together, and a light process (tail -f, its command line naming the
 * root so the bench can find it) keeps this 2-core machine free for dpkg and apt.
 */
const serviceFiles = (name: string, v: string): Record<string, string> => ({
  [`/etc/sv/${name}/run`]: `#!/bin/sh\nexec 2>&1\nROOT=$(cd ../../.. && pwd -P)\nexec tail -f "$ROOT/usr/share/${name}/VERSION"\n`,
  [`/usr/share/${name}/VERSION`]: `${v}\n`,
});
const serviceScripts = (name: string, restartOnUpgrade: boolean): Partial<Record<'postinst' | 'prerm', string[]>> => ({
  postinst: [
    'if [ "$1" = configure ]; then',
    '  mkdir -p "$DPKG_ROOT/etc/service"',
    `  [ -L "$DPKG_ROOT/etc/service/${name}" ] || ln -s ../sv/${name} "$DPKG_ROOT/etc/service/${name}"`,
    ...(restartOnUpgrade ? [`  if [ -n "$2" ] && [ -e "$DPKG_ROOT/etc/service/${name}/supervise/ok" ]; then sv -w 10 restart "$DPKG_ROOT/etc/service/${name}" >/dev/null 2>&1 || true; fi`] : []),
    'fi',
  ],
  prerm: [
    'if [ "$1" = remove ]; then',
    `  if [ -e "$DPKG_ROOT/etc/service/${name}/supervise/ok" ]; then sv -w 10 stop "$DPKG_ROOT/etc/service/${name}" >/dev/null 2>&1 || true; fi`,
    `  rm -f "$DPKG_ROOT/etc/service/${name}"`,
    'fi',
  ],
});
const lib = (name: string, v: string): Record<string, string> => ({ [`/usr/lib/${name}/VERSION`]: `${v}\n` });

export const PACKAGES: DebSpec[] = [
  { name: 'libalpha', version: '1.0', files: lib('libalpha', '1.0') },
  { name: 'libalpha', version: '1.1', files: lib('libalpha', '1.1') },
  { name: 'libalpha', version: '2.0', files: lib('libalpha', '2.0') },
  { name: 'libbeta', version: '1.0', files: lib('libbeta', '1.0') },
  { name: 'libbeta', version: '2.0', files: lib('libbeta', '2.0'), breaks: 'alpha-tool (<< 2.0)' },
  { name: 'alpha-tool', version: '1.0', depends: 'libalpha (>= 1.0)', conffiles: { '/etc/alpha-tool.conf': 'mode=classic\n' } },
  { name: 'alpha-tool', version: '2.0', depends: 'libalpha (>= 2.0), libbeta (>= 2.0)', conffiles: { '/etc/alpha-tool.conf': 'mode=modern\nthreads=4\n' } },
  { name: 'gamma', version: '1.0', conffiles: { '/etc/gamma/gamma.conf': 'level=1\n' } },
  { name: 'gamma', version: '2.0', conffiles: { '/etc/gamma/gamma.conf': 'level=2\n', '/etc/gamma/extra.conf': 'extra=yes\n' } },
  { name: 'gamma', version: '3.0', preDepends: 'libalpha (>= 1.1)', conffiles: { '/etc/gamma/gamma.conf': 'level=3\n', '/etc/gamma/extra.conf': 'extra=more\n' } },
  { name: 'delta', version: '1.0', conffiles: { '/etc/delta.conf': 'd=1\n' } },
  { name: 'delta', version: '2.0', conflicts: 'epsilon (<< 2.0)', conffiles: { '/etc/delta.conf': 'd=2\n' } },
  { name: 'epsilon', version: '1.0', files: lib('epsilon', '1.0') },
  { name: 'epsilon', version: '2.0', files: lib('epsilon', '2.0') },
  { name: 'webapp', version: '1.0', depends: 'libalpha', files: serviceFiles('webapp', '1.0'), scriptLines: serviceScripts('webapp', true), conffiles: { '/etc/webapp/webapp.conf': 'workers=2\n' } },
  { name: 'webapp', version: '2.0', depends: 'libalpha (>= 1.1)', files: serviceFiles('webapp', '2.0'), scriptLines: serviceScripts('webapp', true), conffiles: { '/etc/webapp/webapp.conf': 'workers=4\n' } },
  { name: 'webapp', version: '3.0', depends: 'libalpha (>= 2.0)', files: serviceFiles('webapp', '3.0'), scriptLines: serviceScripts('webapp', true), conffiles: { '/etc/webapp/webapp.conf': 'workers=8\ncache=on\n' } },
  { name: 'worker', version: '1.0', depends: 'webapp', files: serviceFiles('worker', '1.0'), scriptLines: serviceScripts('worker', false) },
  { name: 'worker', version: '2.0', depends: 'webapp (>= 2.0)', files: serviceFiles('worker', '2.0'), scriptLines: serviceScripts('worker', false) },
  { name: 'dataconv', version: '1.0', scriptLines: { postinst: CONVERT('1.0'), postrm: PURGE_DIR('/var/lib/dataconv') } },
  { name: 'dataconv', version: '2.0', scriptLines: { postinst: CONVERT('2.0'), postrm: PURGE_DIR('/var/lib/dataconv') } },
  { name: 'dataconv', version: '3.0', scriptLines: { postinst: CONVERT('3.0'), postrm: PURGE_DIR('/var/lib/dataconv') } },
  { name: 'keeper', version: '1.0', conffiles: { '/etc/keeper.conf': 'keep=1\n' }, scriptLines: { postinst: KEEPER_STATE('1.0'), postrm: PURGE_DIR('/var/lib/keeper') } },
  { name: 'keeper', version: '2.0', conffiles: { '/etc/keeper.conf': 'keep=2\n' }, scriptLines: { postinst: KEEPER_STATE('2.0'), postrm: PURGE_DIR('/var/lib/keeper') } },
  { name: 'flaky', version: '1.0', conffiles: { '/etc/flaky.conf': 'mode=1\n' } },
  { name: 'flaky', version: '2.0', conffiles: { '/etc/flaky.conf': 'mode=2\n' }, fail: ['postinst'] },
  { name: 'flaky', version: '3.0', conffiles: { '/etc/flaky.conf': 'mode=3\n' } },
  { name: 'brittle', version: '1.0', depends: 'libbeta', files: lib('brittle', '1.0') },
  { name: 'brittle', version: '2.0', depends: 'libbeta (>= 2.0)', files: lib('brittle', '2.0'), fail: ['postinst'] },
  { name: 'eta', version: '1.0', files: { '/usr/share/eta/shared.dat': 'eta 1.0\n', ...lib('eta', '1.0') } },
  { name: 'eta', version: '2.0', files: lib('eta', '2.0') },
  { name: 'zeta', version: '1.0', files: lib('zeta', '1.0') },
  { name: 'zeta', version: '2.0', replaces: 'eta (<< 2.0)', breaks: 'eta (<< 2.0)', files: { '/usr/share/eta/shared.dat': 'zeta 2.0\n', ...lib('zeta', '2.0') } },
  { name: 'theta', version: '1.0', provides: 'mta', conflicts: 'mta', files: lib('theta', '1.0') },
  { name: 'theta', version: '2.0', provides: 'mta', conflicts: 'mta', files: lib('theta', '2.0') },
  { name: 'iota', version: '1.0', provides: 'mta', conflicts: 'mta', files: lib('iota', '1.0') },
  { name: 'iota', version: '2.0', provides: 'mta', conflicts: 'mta', files: lib('iota', '2.0') },
  { name: 'kappa', version: '1.0', depends: 'mta', files: lib('kappa', '1.0') },
  { name: 'kappa', version: '2.0', depends: 'mta, libalpha (>= 1.1)', files: lib('kappa', '2.0') },
  { name: 'lambda', version: '1.0', files: lib('lambda', '1.0') },
  { name: 'lambda', version: '2.0', preDepends: 'libbeta (>= 2.0)', files: lib('lambda', '2.0') },
  { name: 'mu', version: '1.0', conffiles: { '/etc/mu/old.conf': 'old=1\n' } },
  { name: 'mu', version: '2.0', conffiles: { '/etc/mu/new.conf': 'new=2\n' } },
  { name: 'nu', version: '1.0', files: lib('nu', '1.0') },
  { name: 'nu', version: '2.0', files: lib('nu', '2.0') },
  { name: 'nu', version: '3.0', depends: 'gamma (>= 2.0)', files: lib('nu', '3.0') },
];

/** The database the migrations act on, and each migration's SQL (the knowledge base names the files; the bench holds their text). */
export const DATABASE = 'app';
export const MIGRATION_SQL: Record<string, { up: string; down?: string }> = {
  m001: { up: 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)', down: 'DROP TABLE items' },
  m002: { up: 'ALTER TABLE items ADD COLUMN price integer', down: 'ALTER TABLE items DROP COLUMN price' },
  // irreversible: the names are gone
  m003: { up: 'ALTER TABLE items DROP COLUMN name' },
  w001: { up: 'CREATE TABLE jobs (id serial PRIMARY KEY, state text)', down: 'DROP TABLE jobs' },
};

export const KNOWLEDGE: RollbackKnowledge = {
  packages: [
    {
      name: 'webapp', scheme: 'deb', versions: [
        { version: '1.0', migrations: [{ id: 'm001', database: DATABASE, down: 'm001.down.sql' }] },
        { version: '2.0', migrations: [{ id: 'm002', database: DATABASE, down: 'm002.down.sql' }] },
        { version: '3.0', migrations: [{ id: 'm003', database: DATABASE, irreversible: true }] },
      ],
    },
    {
      name: 'worker', scheme: 'deb', versions: [
        { version: '1.0', migrations: [] },
        { version: '2.0', migrations: [{ id: 'w001', database: DATABASE, down: 'w001.down.sql' }] },
      ],
    },
    {
      // the knowledge base's `convertsData`: the postinsts of 2.0 and 3.0 convert the store on upgrade, nothing converts it back
      name: 'dataconv', scheme: 'deb', versions: [
        { version: '1.0', migrations: [] },
        { version: '2.0', migrations: [], convertsData: { note: 'the store is rewritten in format 2.0', paths: ['/var/lib/dataconv/store'] } },
        { version: '3.0', migrations: [], convertsData: { note: 'the store is rewritten in format 3.0', paths: ['/var/lib/dataconv/store'] } },
      ],
    },
  ],
  configFiles: [
    { path: '/etc/webapp/webapp.conf', package: 'webapp', reload: 'webapp' },
    { path: '/etc/worker/worker.env', package: 'worker', reload: 'worker' },
  ],
  services: [
    { name: 'webapp', packages: ['webapp'], dependsOn: [], health: false },
    { name: 'worker', packages: ['worker'], dependsOn: ['webapp'], health: false },
  ],
};

/** Down SQL by the script name the knowledge gives (`m002.down.sql` → m002's down). */
export function downSql(script: string): string {
  const id = script.replace(/\.down\.sql$/, '');
  const sql = MIGRATION_SQL[id]?.down;
  if (sql === undefined) throw new Error(`no down script ${script}`);
  return sql;
}

/** Packages whose scripts or services put things the bench must watch or set up. */
export const SERVICE_PACKAGES = new Set(KNOWLEDGE.services.flatMap((s) => s.packages));
export const MIGRATING_PACKAGES = new Set(KNOWLEDGE.packages.filter((p) => p.versions.some((v) => v.migrations.length > 0)).map((p) => p.name));

export function packageTraits(): Map<string, PackageTraits> {
  const out = new Map<string, PackageTraits>();
  for (const spec of PACKAGES) {
    const t = out.get(spec.name) ?? { name: spec.name, dataFiles: [], convertsData: false, conffiles: [], shipped: [], failing: [] };
    out.set(spec.name, t);
    for (const p of Object.keys(spec.conffiles ?? {})) if (!t.conffiles.includes(p)) t.conffiles.push(p);
    for (const p of [...Object.keys(spec.files ?? {}), ...Object.keys(spec.conffiles ?? {})]) if (!t.shipped.includes(p)) t.shipped.push(p);
    if (spec.fail?.includes('postinst')) t.failing.push(spec.version);
  }
  for (const p of KNOWLEDGE.packages) {
    const converting = p.versions.filter((v) => v.convertsData);
    if (converting.length === 0) continue;
    out.get(p.name)!.convertsData = true;
    for (const f of converting.flatMap((v) => v.convertsData!.paths ?? [])) if (!out.get(p.name)!.dataFiles.includes(f)) out.get(p.name)!.dataFiles.push(f);
  }
  out.get('keeper')!.dataFiles.push('/var/lib/keeper/state');
  return out;
}

/**
 * The packages a host path belongs to, for attributing a difference: a file one ships (eta 1.0
 * and zeta 2.0 share one) or its scripts make, dpkg's copy of a conffile beside it (`.dpkg-dist`,
 * `.dpkg-old`, `.dpkg-new`), a knowledge-base config file, or the link that enables its service.
 */
export function ownersOf(traits: ReadonlyMap<string, PackageTraits>, hostPath: string): string[] {
  const suffix = sideFileSuffix(hostPath);
  const base = suffix ? hostPath.slice(0, -suffix.length) : hostPath;
  const out = new Set<string>();
  for (const t of traits.values()) if (t.shipped.includes(base) || t.dataFiles.includes(base)) out.add(t.name);
  for (const f of KNOWLEDGE.configFiles) if (f.path === base) out.add(f.package);
  const svc = /^\/etc\/service\/([^/]+)$/.exec(hostPath)?.[1];
  if (svc) for (const p of KNOWLEDGE.services.find((s) => s.name === svc)?.packages ?? []) out.add(p);
  return [...out];
}
