/**
 * A real Debian system in a directory, for the chroot root driver: a minbase bookworm tarball
 * built by mmdebstrap from Debian's mirror, plus a few real .deb files downloaded beside it,
 * cached so it is built once per machine (the first build takes about a minute; then only the
 * extraction, a second or two, is paid).
 *
 * For rehearsals the image can also hold packages installed from the suite alone (`include`),
 * then sources added afterwards (`laterSources`, e.g. bookworm-security) with their apt lists,
 * the upgrades they offer downloaded into /var/cache/apt/archives (`prefetchUpgrades`) beside
 * the .debs the root was installed from (`keepArchives`), so apt inside the root (which has no
 * network) can move between both versions.
 *
 * Cache: $ROLLWISE_CACHE_DIR, else ~/.cache/rollwise, then debian-roots/<key>/ with root.tar,
 * debs/*.deb and image.json (<key> covers the suite, variant, mirror and downloads). Needs root,
 * `mmdebstrap` (scripts/install-test-deps.sh) and Debian's mirror.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireTool, runChecked, runTool } from './process.js';

export interface DebianRootImageOptions {
  suite?: string;
  variant?: 'minbase' | 'essential' | 'apt';
  mirror?: string;
  /** Real packages downloaded (not installed) beside the root, by name. */
  downloads?: string[];
  /** Default: $ROLLWISE_CACHE_DIR or ~/.cache/rollwise. */
  cacheDir?: string;
  /** Packages installed by mmdebstrap (from `suite` at `mirror` only). */
  include?: string[];
  /**
   * One-line apt sources (`deb URL SUITE COMPONENT`) written to
   * /etc/apt/sources.list.d/rollwise-later.list after everything is installed, then `apt-get
   * update`: their versions are offered, not installed.
   */
  laterSources?: string[];
  /** Download (not install) what `apt-get upgrade` would install into /var/cache/apt/archives. */
  prefetchUpgrades?: boolean;
  /** Keep the .debs the root was installed from in /var/cache/apt/archives, and the apt lists. */
  keepArchives?: boolean;
}

export interface DownloadedDeb {
  name: string;
  version: string;
  architecture: string;
  path: string;
}

export interface DebianRootImage {
  tarball: string;
  /** The cache folder of this image (root.tar, debs/, image.json). */
  dir: string;
  debs: DownloadedDeb[];
  /** Whether this call built the image (false: it came from the cache). */
  built: boolean;
  /** Time this call spent (building, or finding the cached image). */
  ms: number;
}

export function rollwiseCacheDir(): string {
  return process.env.ROLLWISE_CACHE_DIR || path.join(os.homedir(), '.cache', 'rollwise');
}

async function readDebs(dir: string): Promise<DownloadedDeb[]> {
  const out: DownloadedDeb[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.deb')).sort()) {
    const p = path.join(dir, f);
    const fields = (await runChecked([requireTool('dpkg-deb'), '-f', p, 'Package', 'Version', 'Architecture'])).split('\n');
    const get = (k: string): string => fields.find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2).trim() ?? '';
    out.push({ name: get('Package'), version: get('Version'), architecture: get('Architecture'), path: p });
  }
  return out;
}

/** The cached image, built with mmdebstrap first if it is not there. */
export async function ensureDebianRootImage(options: DebianRootImageOptions = {}): Promise<DebianRootImage> {
  const t0 = performance.now();
  const suite = options.suite ?? 'bookworm';
  const variant = options.variant ?? 'minbase';
  const mirror = options.mirror ?? 'http://deb.debian.org/debian';
  const downloads = [...(options.downloads ?? [])].sort();
  const include = [...(options.include ?? [])].sort();
  const laterSources = [...(options.laterSources ?? [])];
  for (const d of [...downloads, ...include]) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(d)) throw new Error(`bad package name ${d}`);
  if (!/^[a-z]+$/.test(suite) || !/^https?:\/\/[A-Za-z0-9./:_-]+$/.test(mirror)) throw new Error('bad suite or mirror');
  for (const l of laterSources) if (!/^deb https?:\/\/[A-Za-z0-9./:_-]+ [a-z-]+( [a-z-]+)+$/.test(l)) throw new Error(`bad source line ${JSON.stringify(l)}`);
  // the extras join the key only when used, so images built before them keep their key
  const extras = {
    ...(include.length ? { include } : {}), ...(laterSources.length ? { laterSources } : {}),
    ...(options.prefetchUpgrades ? { prefetchUpgrades: true } : {}), ...(options.keepArchives ? { keepArchives: true } : {}),
  };
  const key = createHash('sha256').update(JSON.stringify({ suite, variant, mirror, downloads, format: 1, ...extras })).digest('hex').slice(0, 16);
  const base = path.join(options.cacheDir ?? rollwiseCacheDir(), 'debian-roots');
  const dir = path.join(base, `${suite}-${variant}-${key}`);
  if (existsSync(path.join(dir, 'image.json'))) {
    return { tarball: path.join(dir, 'root.tar'), dir, debs: await readDebs(path.join(dir, 'debs')), built: false, ms: performance.now() - t0 };
  }
  const mmdebstrap = requireTool('mmdebstrap');
  await mkdir(base, { recursive: true });
  const work = await mkdtemp(path.join(base, '.build-'));
  try {
    await mkdir(path.join(work, 'debs'));
    // downloaded inside the chroot while it still has the mirror's lists (before mmdebstrap cleans them)
    const hooks =
      downloads.length > 0
        ? [
            `--customize-hook=mkdir -p "$1/tmp/rollwise-debs" && chroot "$1" sh -c 'cd /tmp/rollwise-debs && apt-get -q download ${downloads.join(' ')}' && mv "$1"/tmp/rollwise-debs/*.deb '${path.join(work, 'debs')}/' && rm -rf "$1/tmp/rollwise-debs"`,
          ]
        : [];
    // each hook is one shell command mmdebstrap runs with the root as $1; the values in them were checked above
    if (laterSources.length > 0) {
      hooks.push(`--customize-hook=printf '%s\\n' ${laterSources.map((l) => `'${l}'`).join(' ')} > "$1/etc/apt/sources.list.d/rollwise-later.list" && chroot "$1" apt-get -q update`);
    }
    if (options.prefetchUpgrades) hooks.push('--customize-hook=chroot "$1" apt-get -q -y --download-only upgrade');
    const skips = options.keepArchives ? ['--skip=essential/unlink,cleanup/apt'] : [];
    const r = await runTool([mmdebstrap, '--mode=root', `--variant=${variant}`, '--format=tar', ...(include.length ? [`--include=${include.join(',')}`] : []), ...skips, ...hooks, suite, path.join(work, 'root.tar'), mirror]);
    if (r.code !== 0) throw new Error(`mmdebstrap exited ${r.code} (is Debian's mirror reachable?): ${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
    const debs = await readDebs(path.join(work, 'debs'));
    for (const d of downloads) if (!debs.some((x) => x.name === d)) throw new Error(`mmdebstrap did not download ${d}`);
    await writeFile(path.join(work, 'image.json'), JSON.stringify({ suite, variant, mirror, downloads, ...extras, builtAt: new Date().toISOString(), buildMs: Math.round(performance.now() - t0) }, null, 2) + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  return { tarball: path.join(dir, 'root.tar'), dir, debs: await readDebs(path.join(dir, 'debs')), built: true, ms: performance.now() - t0 };
}

/** Unpack the image into a fresh directory under `parent` (owners, modes and device nodes kept). */
export async function extractDebianRoot(image: DebianRootImage, parent: string): Promise<string> {
  const root = await mkdtemp(path.join(parent, 'debian-root-'));
  await runChecked([requireTool('tar'), '--numeric-owner', '-xpf', image.tarball, '-C', root]);
  return root;
}

/** What image.json recorded about the build (its duration, when). */
export async function imageRecord(image: DebianRootImage): Promise<{ buildMs: number; builtAt: string }> {
  return JSON.parse(await readFile(path.join(path.dirname(image.tarball), 'image.json'), 'utf8')) as { buildMs: number; builtAt: string };
}
