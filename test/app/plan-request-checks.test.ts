/**
 * A plan's request is checked against the loaded packages and the fleet before anything is
 * solved: a pin to a version no index carries is refused like an install of one (RW_UNKNOWN_PACKAGE
 * listing the versions there are, with file:line:column in a request file), not reported as a
 * conflict; a hold of a package no host has installed is said in a warning (it only keeps the
 * package from being installed). Nothing is stored when the request is refused.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';

const stanza = (name: string, version: string, extra = ''): string => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n${extra}Description: ${name}\n`;
const PACKAGES = [
  stanza('libc6', '2.36-9'),
  stanza('libx', '1.0-1'),
  stanza('libx', '1.1-1'),
  stanza('web', '1.0-1', 'Depends: libx\n'),
  stanza('web', '1.1-1', 'Depends: libx\n'),
  stanza('tool', '2.0-1'),
].join('\n');

const INVENTORY = `version: 1
hosts:
  - name: h1
    installed: ["libc6=2.36-9", "libx=1.0-1", "web=1.0-1"]
  - name: h2
    installed: ["libc6=2.36-9", "libx=1.0-1"]
`;

let dir: string;
let n = 0;

async function plan(args: string[]): Promise<{ status: number; stdout: string; stderr: string; store: string }> {
  const store = path.join(dir, `p${n++}.db`);
  return { ...(await cli(['plan', '--index', path.join(dir, 'Packages'), '--inventory', path.join(dir, 'inventory.yaml'), '--store', store, '--no-recommends', ...args])), store };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-plan-checks-'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'inventory.yaml'), INVENTORY);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise plan: pins and holds checked before solving', () => {
  it('refuses --pin NAME=VERSION of a version no index has, listing the versions there are (as --install does)', async () => {
    const r = await plan(['--upgrade-all', '--pin', 'web=9.9-1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no version 9\.9-1 of web in any layer \(pinned\).*available: 1\.1-1, 1\.0-1/s);
    expect(r.stdout).toBe('');
    expect(existsSync(r.store)).toBe(false);
    // the same words as an exact install of a missing version
    const install = await plan(['--install', 'web=9.9-1']);
    expect(install.status).toBe(2);
    expect(install.stderr).toMatch(/RW_UNKNOWN_PACKAGE: no version 9\.9-1 of web in any layer.*available: 1\.1-1, 1\.0-1/s);
  });

  it('a request file\'s pin: names the file, line and column of the item', async () => {
    const file = path.join(dir, 'patch-day.yaml');
    writeFileSync(file, 'upgrade-all: true\npin:\n  - libx=1.0-1\n  - web=9.9-1\n');
    const r = await plan(['--request', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:4:5: no version 9.9-1 of web in any layer (pinned)`);
    expect(r.stderr).toMatch(/available: 1\.1-1, 1\.0-1/);
    // an unknown name in a request file is positioned too
    writeFileSync(file, 'install:\n  - web\n  - nosuch\n');
    const unknown = await plan(['--request', file]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`${file}:3:5: no package nosuch`);
  });

  it('a pin to a version an index has still plans', async () => {
    const r = await plan(['--upgrade-all', '--pin', 'libx=1.0-1']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('warns about a hold of a package no host has installed, and plans', async () => {
    const r = await plan(['--upgrade-all', '--hold', 'tool']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: hold tool: no host of the fleet has tool installed, so the hold keeps nothing; it only keeps tool from being installed/);
    // a hold of a package some host has is said nothing about
    const held = await plan(['--upgrade-all', '--hold', 'web']);
    expect(held.status, held.stderr).toBe(0);
    expect(held.stderr).not.toMatch(/warning: hold/);
  });
});
