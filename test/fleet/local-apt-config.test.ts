/**
 * `--local` hosts read their apt configuration as directory roots do: sources.list,
 * sources.list.d (one-line and deb822), preferences{,.d} and dpkg's foreign architectures under
 * the collector's root (the localRoot seam points it at a temporary directory root, never at the
 * machine's /etc), and nothing under that root is written. A configuration apt could not read
 * either is a finding with file:line:column, and the host is still collected.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostCollector } from '../../src/hosts/index.js';
import { collectFleet } from '../../src/fleet/index.js';
import { registerExitCleanup } from '../lab/cleanup.js';

const work = mkdtempSync(path.join(tmpdir(), 'rw-local-apt-'));
registerExitCleanup(() => rmSync(work, { recursive: true, force: true }));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeRoot(name: string, files: Record<string, string>): string {
  const root = path.join(work, name);
  const all: Record<string, string> = { 'var/lib/dpkg/status': 'Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n', ...files };
  for (const [f, text] of Object.entries(all)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

/** Every file under a root with its content hash and mtime (to show nothing was written). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(root, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mtimeMs}`;
    }
  };
  walk(root);
  return out;
}

describe('--local hosts read their apt configuration', () => {
  it('sources, deb822 sources, preferences and foreign architectures under the root; nothing written', async () => {
    const root = makeRoot('good', {
      'etc/apt/sources.list': 'deb http://deb.debian.org/debian bookworm main\n# a comment\n',
      'etc/apt/sources.list.d/backports.sources': 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\n',
      'etc/apt/preferences.d/backports': 'Package: nginx\nPin: release a=bookworm-backports\nPin-Priority: 600\n',
      'var/lib/dpkg/arch': 'amd64\ni386\n',
    });
    const before = snapshot(root);
    const fleet = await collectFleet({ local: { name: 'me' } }, createHostCollector({ localRoot: root }));
    expect(snapshot(root)).toEqual(before);
    const host = fleet.hosts[0]!;
    expect(host.source).toBe('local');
    expect(host.apt?.sources.map((s) => `${s.uri} ${s.suite} ${s.components.join(',')}`)).toEqual([
      'http://deb.debian.org/debian bookworm main',
      'http://deb.debian.org/debian bookworm-backports main',
    ]);
    expect(host.apt?.preferences).toHaveLength(1);
    expect(host.apt?.preferences[0]).toMatchObject({ packages: ['nginx'], priority: 600, pin: { kind: 'release', spec: { a: 'bookworm-backports' } } });
    expect(host.apt?.foreignArchitectures).toEqual(['i386']);
    expect(fleet.findings.filter((f) => /apt/.test(f.message))).toEqual([]);
  });

  it('a root without apt sources has no apt configuration (planned against every repository, as before)', async () => {
    const root = makeRoot('bare', {});
    const fleet = await collectFleet({ local: { name: 'me' } }, createHostCollector({ localRoot: root }));
    expect(fleet.hosts[0]!.apt).toBeUndefined();
  });

  it('preferences apt cannot read are a finding with file:line:column; the host is still collected', async () => {
    const root = makeRoot('bad', {
      'etc/apt/sources.list': 'deb http://deb.debian.org/debian bookworm main\n',
      'etc/apt/preferences': 'Package: nginx\nPin: release a=bookworm\nPin-Priority: high\n',
    });
    const fleet = await collectFleet({ local: { name: 'me' } }, createHostCollector({ localRoot: root }));
    expect(fleet.hosts.map((h) => h.name)).toEqual(['me']);
    expect(fleet.hosts[0]!.apt).toBeUndefined();
    const f = fleet.findings.find((x) => x.message.startsWith('apt configuration not read'));
    expect(f?.kind).toBe('partial-facts');
    expect(f?.message).toContain(`${path.join(root, 'etc/apt/preferences')}:3:`);
  });
});
