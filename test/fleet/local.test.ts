import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { createHostCollector } from '../../src/hosts/index.js';

function requireDpkgQuery(): void {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
  } catch (e) {
    throw new Error('dpkg-query is missing: install the Debian package dpkg', { cause: e });
  }
}

describe('the local host source', () => {
  it('reads its own dpkg status, os-release, kernel, memory, CPUs and disk without changing anything', async () => {
    requireDpkgQuery();
    const status = '/var/lib/dpkg/status';
    const before = { hash: createHash('sha256').update(readFileSync(status)).digest('hex'), mtime: statSync(status).mtimeMs };
    const host = await createHostCollector().collectLocal('me');
    if (host.kind !== 'collected') throw new Error(JSON.stringify(host));
    const after = { hash: createHash('sha256').update(readFileSync(status)).digest('hex'), mtime: statSync(status).mtimeMs };
    expect(after).toEqual(before);
    // the installed set agrees with dpkg-query itself
    const out = execFileSync('dpkg-query', ['-W', '-f=${Package} ${Version} ${db:Status-Abbrev}\n'], { encoding: 'utf8' });
    const installed = out.split('\n').filter((l) => /^\S+ \S+ i[iUFWt]/.test(l)).map((l) => l.split(' ').slice(0, 2).join('=')).sort();
    expect(host.installed.map((p) => `${p.name}=${p.version}`).sort()).toEqual(installed);
    expect(host.name).toBe('me');
    expect(host.installedFrom).toBe(status);
    expect(host.facts.kernel).toBe(os.release());
    expect(host.facts.architecture).toBe(execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim());
    const osRelease = readFileSync('/etc/os-release', 'utf8');
    expect(osRelease).toContain(`ID=${host.facts.os!.id}`);
    expect(host.facts.cpus).toBeGreaterThanOrEqual(1);
    expect(host.facts.memoryMiB).toBe(Math.floor(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024));
    expect(host.facts.diskTotalMiB).toBeGreaterThan(host.facts.diskFreeMiB!);
  });
});
