/**
 * `rollwise fleet show` says per group what its apt sees: the sources, and the apt preferences
 * (pins), the default release and the foreign architectures when the group has them, in the text and in --json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';

const INVENTORY = `version: 1
groups:
  pinned:
    apt:
      sources:
        - deb http://deb.debian.org/debian bookworm main
        - deb http://deb.debian.org/debian bookworm-backports main
      preferences:
        - { package: "*", pin: "release a=bookworm-backports", priority: 100 }
        - { package: "openssl libssl3", pin: "version 3.0.20*", priority: 1001 }
        - { package: "nginx", pin: "origin deb.debian.org", priority: 600 }
      defaultRelease: bookworm
      architectures: [amd64, i386]
  plain:
    apt:
      sources:
        - deb http://deb.debian.org/debian bookworm main
hosts:
  - name: pinned-1
    groups: [pinned]
    installed: ["libc6=2.36-9"]
  - name: plain-1
    groups: [plain]
    installed: ["libc6=2.36-9"]
  - name: bare-1
    installed: ["libc6=2.36-9"]
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-fleet-apt-'));
  writeFileSync(path.join(dir, 'inventory.yaml'), INVENTORY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise fleet show: a group\'s apt preferences and default release', () => {
  it('shows the pins and the default release of the groups that have them, and nothing for the others', async () => {
    const r = await cli(['fleet', 'show', '--inventory', path.join(dir, 'inventory.yaml')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const pinned = lines.find((l) => l.includes('(pinned-1)'))!;
    expect(pinned).toContain('sources bookworm, bookworm-backports; pins: *: release a=bookworm-backports 100, openssl libssl3: version 3.0.20* 1001, nginx: origin deb.debian.org 600; default release bookworm; foreign architectures i386; 1 package');
    const plain = lines.find((l) => l.includes('(plain-1)'))!;
    expect(plain).toContain('sources bookworm; 1 package');
    expect(plain).not.toMatch(/pins:|default release|foreign architectures/);
    const bare = lines.find((l) => l.includes('(bare-1)'))!;
    expect(bare).not.toMatch(/sources|pins:|default release|; ;/);
  });

  it('--json gives each group its apt configuration', async () => {
    const r = await cli(['fleet', 'show', '--inventory', path.join(dir, 'inventory.yaml'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { groups: Array<{ hosts: string[]; apt?: { defaultRelease?: string; preferences: Array<{ packages: string[] | '*'; priority: number }> } }> };
    const pinned = j.groups.find((g) => g.hosts.includes('pinned-1'))!;
    expect(pinned.apt!.defaultRelease).toBe('bookworm');
    expect(pinned.apt!.preferences.map((p) => [p.packages, p.priority])).toEqual([['*', 100], [['openssl', 'libssl3'], 1001], [['nginx'], 600]]);
    expect(j.groups.find((g) => g.hosts.includes('bare-1'))!.apt).toBeUndefined();
  });
});
