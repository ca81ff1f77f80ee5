// The lab itself: packages it builds, its repository, and tear-down (also after a failure).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDeb, cleanStaleNamespaces, createLab, createRepository, requireTool } from '../lab/index.js';

const work = await mkdtemp(path.join(os.tmpdir(), 'rw-labtest-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const namespaces = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
/** Processes whose command line names `dir`, after giving signalled ones up to 10 s to exit. */
async function survivors(dir: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const out = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout.trim();
    if (out === '' || Date.now() > deadline) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const fixture = fileURLToPath(new URL('./fixtures/abandon-lab.ts', import.meta.url));

function runChild(mode: 'exit' | 'hang'): Promise<{ info: { id: string; dir: string; pid: number }; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let info: { id: string; dir: string; pid: number } | undefined;
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!info && out.includes('\n')) {
        info = JSON.parse(out.split('\n')[0]!);
        if (mode === 'hang') child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (info ? resolve({ info, code }) : reject(new Error(`child failed (${code}): ${err}`))));
  });
}

describe('synthetic packages', () => {
  it('builds a .deb with relations, conffiles and guarded maintainer scripts', async () => {
    const deb = await buildDeb(
      { name: 'demo', version: '1:2.0-1', depends: 'libdemo1 (>= 1.0)', conflicts: 'rival', breaks: 'old (<< 2)', provides: 'demo-api', conffiles: { '/etc/demo.conf': 'x=1\n' }, fail: ['prerm'] },
      work,
    );
    expect(deb.fileName).toBe('demo_1%3a2.0-1_all.deb');
    const field = (f: string): string => spawnSync('dpkg-deb', ['-f', deb.path, f], { encoding: 'utf8' }).stdout.trim();
    expect(field('Version')).toBe('1:2.0-1');
    expect(field('Depends')).toBe('libdemo1 (>= 1.0)');
    expect(field('Conflicts')).toBe('rival');
    expect(field('Breaks')).toBe('old (<< 2)');
    expect(field('Provides')).toBe('demo-api');
    const ctrl = path.join(work, 'ctrl');
    spawnSync('dpkg-deb', ['-e', deb.path, ctrl]);
    expect(readFileSync(path.join(ctrl, 'conffiles'), 'utf8')).toBe('/etc/demo.conf\n');
    // a maintainer script run outside a directory root refuses and writes nothing
    const r = spawnSync(path.join(ctrl, 'postinst'), ['configure'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refuses to run outside a directory root');
    expect(existsSync('/var/lib/lab-scripts')).toBe(false);
    const prerm = readFileSync(path.join(ctrl, 'prerm'), 'utf8');
    expect(prerm).toContain('built to fail');
  });

  it('indexes every version in the repository, so downgrades stay possible', async () => {
    const repo = await createRepository(path.join(work, 'repo'), [
      { name: 'demo', version: '1.0' },
      { name: 'demo', version: '2.0' },
    ]);
    const index = readFileSync(path.join(repo.dir, 'Packages'), 'utf8');
    expect(index.match(/^Package: demo$/gm)).toHaveLength(2);
    expect(index).toContain('Version: 1.0');
    expect(index).toContain('Version: 2.0');
    expect(existsSync(path.join(repo.dir, 'Release'))).toBe(true);
    await repo.drop('demo', '1.0');
    expect(readFileSync(path.join(repo.dir, 'Packages'), 'utf8')).not.toContain('Version: 1.0');
  });

  it('names the Debian package to install when a tool is missing', () => {
    expect(() => requireTool('apt-ftparchive', ['/nonexistent'])).not.toThrow();
    expect(() => requireTool('no-such-lab-tool')).toThrow(/install the Debian package/);
  });
});

describe('lab lifecycle', () => {
  it('gives concurrent labs distinct names and removes everything on destroy()', async () => {
    const [a, b] = await Promise.all([createLab({ hosts: 2, ssh: true, updateIndex: false }), createLab({ hosts: 1, ssh: true, updateIndex: false })]);
    expect(a.id).not.toBe(b.id);
    const mine = namespaces().filter((n) => n.startsWith(`${a.id}-`) || n.startsWith(`${b.id}-`));
    expect(mine.sort()).toEqual([`${a.id}-h0`, `${a.id}-h1`, `${a.id}-hub`, `${b.id}-h0`, `${b.id}-hub`].sort());
    a.startSupervisor(a.hosts[0]!);
    await Promise.all([a.destroy(), b.destroy()]);
    expect(namespaces().filter((n) => n.startsWith(`${a.id}-`) || n.startsWith(`${b.id}-`))).toEqual([]);
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(false);
    expect(await survivors(a.dir)).toBe('');
  });

  it('is torn down by the exit hook when the test process dies without destroy()', async () => {
    const { info, code } = await runChild('exit');
    expect(code).toBe(3);
    expect(namespaces().filter((n) => n.startsWith(`${info.id}-`))).toEqual([]);
    expect(existsSync(info.dir)).toBe(false);
    expect(await survivors(info.dir)).toBe('');
  });

  it('cleans namespaces and directories of a killed lab process when a lab starts', async () => {
    const { info } = await runChild('hang');
    expect(namespaces().filter((n) => n.startsWith(`${info.id}-`)).length).toBe(3);
    const supervised = spawnSync('pgrep', ['-f', info.dir], { encoding: 'utf8' }).stdout.trim();
    expect(supervised).not.toBe(''); // its runsvdir outlived it
    const removed = await cleanStaleNamespaces();
    expect(removed).toEqual(expect.arrayContaining([`${info.id}-h0`, `${info.id}-h1`, `${info.id}-hub`]));
    expect(namespaces().filter((n) => n.startsWith(`${info.id}-`))).toEqual([]);
    expect(existsSync(info.dir)).toBe(false);
    expect(await survivors(info.dir)).toBe('');
  });
});
