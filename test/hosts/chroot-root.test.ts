// Real Debian packages on a real Debian root (mmdebstrap, minbase bookworm): the chroot root
// driver runs apt, dpkg and the maintainer scripts inside the root, in fresh namespaces; the
// chrootless directory-root driver refuses the same package. The machine itself never changes.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChrootRootDriver, createDirectoryRootDriver, prepareDirectoryRoot, type HostDriver } from '../../src/hosts/index.js';
import { ensureDebianRootImage, extractDebianRoot, imageRecord, type DebianRootImage, type DownloadedDeb } from '../lab/index.js';
import { recordMachineState, type MachineStateRecord } from './machine-guard.js';

/** A small real package whose postinst acts: it registers the `pager` alternative (update-alternatives). */
const PACKAGE = 'less';
/** What its postinst would change if it ran on the machine instead of in the root. */
const MARKERS = ['/etc/alternatives/pager', '/var/lib/dpkg/alternatives/pager', '/usr/bin/pager'];

let work: string | undefined;
let image: DebianRootImage;
let root: string;
let deb: DownloadedDeb;
let machine: MachineStateRecord;
/** The root's own `pager` alternative before (minbase registers util-linux's more). */
let pagerBefore: string;
const pagerLink = (): string => readlinkSync(path.join(root, 'etc/alternatives/pager'));

beforeAll(async () => {
  machine = recordMachineState(MARKERS);
  image = await ensureDebianRootImage({ suite: 'bookworm', variant: 'minbase', downloads: [PACKAGE] });
  const record = await imageRecord(image);
  console.log(`debian root image: ${image.built ? `built in ${Math.round(image.ms / 1000)} s` : `cached (built in ${Math.round(record.buildMs / 1000)} s at ${record.builtAt}), found in ${Math.round(image.ms)} ms`}`);
  deb = image.debs.find((d) => d.name === PACKAGE)!;
  work = await mkdtemp(path.join(os.tmpdir(), 'rw-chroot-'));
  const t = performance.now();
  root = await extractDebianRoot(image, work);
  console.log(`debian root extracted in ${Math.round(performance.now() - t)} ms`);
  pagerBefore = pagerLink();
}, 20 * 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function installed(d: HostDriver): Promise<Map<string, string>> {
  const r = await d.readInstalled();
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
  return new Map(r.value.map((p) => [p.name, `${p.status} ${p.version}`]));
}

describe('a real Debian package on a real Debian root', () => {
  it('the chrootless directory-root driver refuses it before dpkg runs (its scripts would act on this machine)', async () => {
    await prepareDirectoryRoot(root, { sources: [] });
    const d = createDirectoryRootDriver({ root, name: 'chrootless' });
    const before = readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8');
    const o = await d.apply({ kind: 'packages', changes: [{ name: PACKAGE, action: 'install', to: deb.version, debPath: deb.path }] });
    expect(o.status, JSON.stringify(o)).toBe('failed');
    if (o.status !== 'failed' || o.failure.kind !== 'rejected') throw new Error(JSON.stringify(o));
    expect(o.failure.code).toBe('RW_HOST');
    expect(o.failure.message).toMatch(new RegExp(`${PACKAGE} ${deb.version.replace(/[.+~]/g, '\\$&')} \\([^)]*postinst`));
    expect(o.failure.hint).toMatch(/createChrootRootDriver/);
    expect(readFileSync(path.join(root, 'var/lib/dpkg/status'), 'utf8')).toBe(before);
    expect(pagerLink()).toBe(pagerBefore);
    expect(recordMachineState(MARKERS)).toEqual(machine);
  });

  it('the chroot root driver installs it; its postinst ran inside the root; nothing changed on this machine', async () => {
    const d = createChrootRootDriver({ root, name: 'debian-root' });
    expect((await installed(d)).has(PACKAGE)).toBe(false);
    const o = await d.apply({ kind: 'packages', changes: [{ name: PACKAGE, action: 'install', to: deb.version, debPath: deb.path }] });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(o.status === 'succeeded' && o.packages?.map((p) => `${p.name} ${p.after?.version}`)).toEqual([`${PACKAGE} ${deb.version}`]);
    expect((await installed(d)).get(PACKAGE)).toBe(`ii ${deb.version}`);
    // (ii) the postinst ran inside: update-alternatives made less the root's `pager`
    expect(pagerBefore).not.toBe('/usr/bin/less');
    expect(pagerLink()).toBe('/usr/bin/less');
    expect(readFileSync(path.join(root, 'var/lib/dpkg/alternatives/pager'), 'utf8')).toContain('/usr/bin/less');
    expect(readFileSync(path.join(root, 'var/log/dpkg.log'), 'utf8')).toMatch(new RegExp(`configure ${PACKAGE}:`));
    // (iii) the machine: same packages, same dpkg database and log, same alternatives
    expect(recordMachineState(MARKERS)).toEqual(machine);
    // the proc mount belonged to the command's own mount namespace
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(root);
    expect(existsSync(path.join(root, 'proc/self'))).toBe(false);
  });

  it('removes it again inside the root (its prerm/postrm run there too)', async () => {
    const d = createChrootRootDriver({ root, name: 'debian-root' });
    const o = await d.apply({ kind: 'packages', changes: [{ name: PACKAGE, action: 'purge' }] });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect((await installed(d)).has(PACKAGE)).toBe(false);
    expect(pagerLink()).toBe(pagerBefore);
    expect(readFileSync(path.join(root, 'var/lib/dpkg/alternatives/pager'), 'utf8')).not.toContain('/usr/bin/less');
    expect(recordMachineState(MARKERS)).toEqual(machine);
  });

  it('refuses to run apt in a directory that is not a Debian system', async () => {
    const bare = await mkdtemp(path.join(work!, 'bare-'));
    const o = await createChrootRootDriver({ root: bare }).apply({ kind: 'packages', changes: [{ name: PACKAGE, action: 'install', to: deb.version }] });
    expect(o.status === 'failed' && o.failure.kind).toBe('precondition');
  });
});
