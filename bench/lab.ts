/**
 * `npm run bench:lab`: how long the lab takes to set up and how long one install takes per host.
 *  - createLab with 10 directory-root hosts (each with `apt-get update`), without and with
 *    network namespaces + sshd; tear-down of each;
 *  - one install (`apt-get install demo=1.0` through the directory-root driver) per host, one
 *    host after another and 10 at once; the same through the ssh driver (first command pays the
 *    connection, later ones are multiplexed);
 *  - peer in the same invocation: a bare `dpkg --root ... -i` of the same .deb (no apt, no checks).
 * Wall-clock times on a shared 2-core machine: read the ratios more than the absolute figures.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDirectoryRootDriver, createSshDriver, dpkgRootOptions, prepareDirectoryRoot } from '../src/hosts/index.js';
import { createLab, createRepository } from '../test/lab/index.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10);
const ms = (t: number): string => `${t.toFixed(0)} ms`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const since = (t0: number): number => performance.now() - t0;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'rw-bench-lab-'));
try {
  const repo = await createRepository(path.join(scratch, 'repo'), [
    { name: 'demo', version: '1.0', conffiles: { '/etc/demo.conf': 'level=1\n' } },
    { name: 'demo', version: '2.0', conffiles: { '/etc/demo.conf': 'level=2\n' } },
  ]);

  let t0 = performance.now();
  const plain = await createLab({ hosts: HOSTS, repository: repo });
  const plainSetup = since(t0);

  const seq: number[] = [];
  for (const h of plain.hosts.slice(0, HOSTS / 2)) {
    const d = createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: plain.chrootlessScripts });
    const t = performance.now();
    const o = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] });
    if (o.status !== 'succeeded') throw new Error(`install failed on ${h.name}`);
    seq.push(since(t));
  }
  t0 = performance.now();
  await Promise.all(
    plain.hosts.slice(HOSTS / 2).map((h) =>
      createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: plain.chrootlessScripts }).apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] }),
    ),
  );
  const parallelHalf = since(t0);

  // peer: bare dpkg -i on fresh roots
  const deb = repo.debs.find((d) => d.version === '1.0')!.path;
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = path.join(scratch, `bare-${i}`);
    await prepareDirectoryRoot(r);
    const t = performance.now();
    const res = spawnSync('dpkg', [...dpkgRootOptions(r), '-i', deb], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(res.stderr);
    bare.push(since(t));
  }
  t0 = performance.now();
  await plain.destroy();
  const plainDestroy = since(t0);

  t0 = performance.now();
  const net = await createLab({ hosts: HOSTS, ssh: true, repository: repo });
  const netSetup = since(t0);
  const sshFirst: number[] = [];
  const sshNext: number[] = [];
  for (const h of net.hosts.slice(0, 5)) {
    const d = createSshDriver({ name: h.name, ssh: net.sshOptionsFor(h), root: h.root, chrootlessScripts: net.chrootlessScripts });
    let t = performance.now();
    const a = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'install', to: '1.0' }] });
    sshFirst.push(since(t));
    t = performance.now();
    const b = await d.apply({ kind: 'packages', changes: [{ name: 'demo', action: 'upgrade', to: '2.0' }] });
    sshNext.push(since(t));
    if (a.status !== 'succeeded' || b.status !== 'succeeded') throw new Error(`ssh install failed on ${h.name}`);
  }
  t0 = performance.now();
  await net.destroy();
  const netDestroy = since(t0);

  const load = os.loadavg()[0]!.toFixed(1);
  console.log(`lab bench: ${HOSTS} hosts, load average ${load} on ${os.cpus().length} cores`);
  console.log(`set-up, directory roots only      : ${ms(plainSetup)}  (repo ${ms(plain.timings.repositoryMs)}, roots + apt-get update ${ms(plain.timings.rootsMs)})`);
  console.log(`set-up, roots + netns + sshd      : ${ms(netSetup)}  (roots ${ms(net.timings.rootsMs)}, namespaces ${ms(net.timings.networkMs)}, keys + sshd ${ms(net.timings.sshdMs)})`);
  console.log(`tear-down                         : ${ms(plainDestroy)} / ${ms(netDestroy)} (with netns)`);
  console.log(`one install per host, sequential  : median ${ms(median(seq))}  (driver: guard, dpkg-query before/after, apt-get)`);
  console.log(`${HOSTS / 2} installs at once                : ${ms(parallelHalf)} total, ${ms(parallelHalf / (HOSTS / 2))} per host`);
  console.log(`one install over ssh              : median ${ms(median(sshFirst))} first (connects), ${ms(median(sshNext))} multiplexed`);
  console.log(`peer: bare dpkg -i on a root      : median ${ms(median(bare))}`);
  console.log(
    `ratios: netns+sshd/plain set-up ${(netSetup / plainSetup).toFixed(2)}x; driver install/bare dpkg ${(median(seq) / median(bare)).toFixed(2)}x; ` +
      `ssh (multiplexed)/local install ${(median(sshNext) / median(seq)).toFixed(2)}x`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
