/**
 * The rollback plan of a multiarch fleet through the CLI: `rollwise plan --upgrade libc6
 * --upgrade libc6:i386` on a host with both copies (inventory apt architectures amd64 and i386,
 * one index per architecture), then `rollwise rollback-plan` and `rollwise rehearse`: each copy
 * goes back to its former version under its own name, and the rehearsal in the model restores
 * the start state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from '../app/cli-in-process.js';
import { writeMultiarchFleet } from './multiarch-fleet.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-ma-rollback-'));
  writeMultiarchFleet(dir, [
    '{ name: b-1, groups: [ma], installed: ["libc6=2.36-9", "libgcc-s1=12", "libc6:i386=2.36-9", "libgcc-s1:i386=12"] }',
  ]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Change { action: string; name: string; architecture?: string; to?: string }

describe('rollwise rollback-plan with both architectures of a package', () => {
  it('downgrades libc6 and libc6:i386 each to 2.36-9, and the model rehearsal restores the start', async () => {
    const store = path.join(dir, 'store.db');
    const planned = await cli([
      'plan', '--index', path.join(dir, 'idx/bookworm-main-amd64.Packages'), '--index', path.join(dir, 'idx/bookworm-main-i386.Packages'),
      '--inventory', path.join(dir, 'inv.yaml'), '--store', store, '--upgrade', 'libc6', '--upgrade', 'libc6:i386', '--json',
    ]);
    expect(planned.status, planned.stderr).toBe(0);
    const id = (JSON.parse(planned.stdout) as { id: string }).id;
    const rb = await cli(['rollback-plan', id, '--store', store, '--json']);
    expect(rb.status, rb.stderr).toBe(0);
    const groups = (JSON.parse(rb.stdout) as { groups: Array<{ rollback: { steps: Array<{ kind: string; changes?: Change[] }>; target: Array<{ name: string; version: string; architecture: string }> } }> }).groups;
    expect(groups).toHaveLength(1);
    const changes = groups[0]!.rollback.steps.flatMap((s) => s.changes ?? []).map((c) => `${c.action} ${c.name} ${c.architecture ?? ''} ${c.to ?? ''}`).sort();
    expect(changes).toEqual(['downgrade libc6 amd64 2.36-9', 'downgrade libc6:i386 i386 2.36-9']);
    expect(groups[0]!.rollback.target.map((p) => `${p.name} ${p.architecture} ${p.version}`)).toEqual([
      'libc6 amd64 2.36-9', 'libc6:i386 i386 2.36-9', 'libgcc-s1 amd64 12', 'libgcc-s1:i386 i386 12',
    ]);
    const re = await cli(['rehearse', id, '--store', store]);
    expect(re.status, re.stderr + re.stdout).toBe(0);
    expect(re.stdout).toMatch(/restored exactly/);
    expect(re.stdout).not.toMatch(/silent difference/);
  });
});
