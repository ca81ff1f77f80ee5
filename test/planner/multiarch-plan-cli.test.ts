/**
 * `rollwise plan --install libc6:i386` on a fleet whose hosts enable i386 (inventory apt
 * architectures, one index per architecture): hosts are grouped by state, each group solved
 * under its apt view, and a held-back finding names the i386 package (not its amd64 twin), with
 * the exact request that would get the newest version.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from '../app/cli-in-process.js';
import { writeMultiarchFleet } from './multiarch-fleet.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-ma-plan-'));
  writeMultiarchFleet(dir, [
    '{ name: a-1, groups: [ma], installed: ["libc6=2.36-9", "libgcc-s1=12"] }',
    '{ name: a-2, groups: [ma], installed: ["libc6=2.36-9", "libgcc-s1=12"] }',
    '{ name: b-1, groups: [ma], installed: ["libc6=2.36-9", "libgcc-s1=12", "libc6:i386=2.36-9", "libgcc-s1:i386=12"] }',
  ]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rollwise plan with a foreign-architecture package', () => {
  it('plans libc6:i386 per group and names the i386 package in its findings', async () => {
    const r = await cli([
      'plan', '--index', path.join(dir, 'idx/bookworm-main-amd64.Packages'), '--index', path.join(dir, 'idx/bookworm-main-i386.Packages'),
      '--inventory', path.join(dir, 'inv.yaml'), '--store', path.join(dir, 'store.db'), '--install', 'libc6:i386',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Request: install libc6:i386$/m);
    expect(out).toMatch(/^Fleet: 3 hosts in 2 groups/m);
    // apt's candidate of libc6:i386 is 2.36-10, and Multi-Arch: same takes the amd64 twin along
    expect(out).toMatch(/ready: 2 hosts \(a-1, a-2\).*\n\s+upgrade libc6 2\.36-9 → 2\.36-10; install libc6:i386 2\.36-10; install libgcc-s1:i386 12\n/);
    expect(out).toMatch(/ready: 1 host \(b-1\).*\n\s+nothing to change\n/);
    expect(out).toMatch(/held back \[medium\] libc6:i386 kept back at 2\.36-9, not the newest 2\.36-10/);
    expect(out).toMatch(/ask for it exactly: libc6:i386=2\.36-10/);
    expect(out).not.toMatch(/held back \[medium\] libc6 kept/);
  });
});
