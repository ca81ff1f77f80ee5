/**
 * `rollwise why` / `why-not` with `--root DIR` on a package the root cannot see say so as
 * `solve --root` does: a name in a loaded index the root's apt sources do not name says which
 * index has it; a name no index has names the root and every index searched (RW_UNKNOWN_PACKAGE).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';

const record = (name: string, version: string, extra = ''): string => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n${extra}Maintainer: t <t@example.org>\nFilename: pool/${name}_${version}_amd64.deb\nSize: 1\nDescription: ${name}\n\n`;

let dir: string;
let root: string;
let args: string[];

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-why-root-'));
  const repo = path.join(dir, 'indexes');
  root = path.join(dir, 'root');
  mkdirSync(repo, { recursive: true });
  mkdirSync(path.join(root, 'etc/apt'), { recursive: true });
  mkdirSync(path.join(root, 'var/lib/dpkg'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(path.join(root, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
  writeFileSync(path.join(repo, 'bookworm-main-amd64.Packages'), record('mawk', '1.3.4') + record('web', '1.0', 'Depends: mawk\n'));
  writeFileSync(path.join(repo, 'trixie-main-amd64.Packages'), record('openssl', '3.5.1-1'));
  args = ['--index', path.join(repo, 'bookworm-main-amd64.Packages'), '--index', path.join(repo, 'trixie-main-amd64.Packages'), '--root', root, '--install', 'web'];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('why / why-not --root: a package the root cannot see', () => {
  for (const command of ['why', 'why-not']) {
    it(`${command}: a name only another index has names that index and the root's sources`, async () => {
      const r = await cli([command, 'openssl', ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`rollwise: RW_UNKNOWN_PACKAGE: no package openssl for the root ${root}: it is in index trixie-main-amd64.Packages (trixie main), which this root's apt sources do not name (its sources name: bookworm main)`);
      expect(r.stdout).toBe('');
    });

    it(`${command}: a name no index has names the root and the indexes searched`, async () => {
      const r = await cli([command, 'mawq', ...args]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`rollwise: RW_UNKNOWN_PACKAGE: no package mawq for the root ${root}: no index loaded has it (searched: `);
      expect(r.stderr).toContain('index bookworm-main-amd64.Packages (bookworm main)');
      expect(r.stderr).toContain('index trixie-main-amd64.Packages (trixie main)');
      expect(r.stderr).toMatch(/\); did you mean 'mawk'\?/);
    });
  }

  it('why on what the root sees still explains', async () => {
    const r = await cli(['why', 'mawk', ...args]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^mawk 1\.3\.4 is in the solution because:/);
  });
});
