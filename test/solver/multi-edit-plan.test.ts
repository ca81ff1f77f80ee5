/**
 * A resolution of two edits through the planner and the application: three requested mail
 * agents that conflict pairwise on every host of the planner's test fleet make one conflict whose
 * resolutions each leave two agents out (`all-of` edits in the plan, worded as both edits);
 * choosing one makes a ready version whose groups install the agent kept and say, for each of the
 * two left out, which chosen resolution did it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../planner/fixture.js';
import { runCliInProcess as cli } from '../app/cli-in-process.js';

let world: World;
let dir: string;
let extra: string;

beforeAll(() => {
  world = createWorld();
  dir = mkdtempSync(join(tmpdir(), 'rw-multi-edit-plan-'));
  extra = join(dir, 'Packages.mta');
  const stanza = (name: string) => `Package: ${name}\nVersion: 1\nArchitecture: amd64\nProvides: mta\nConflicts: mta\nMaintainer: T <t@example.org>\nDescription: ${name}\n`;
  writeFileSync(extra, ['mta-a', 'mta-b', 'mta-c'].map(stanza).join('\n'));
});
afterAll(() => {
  world?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a plan conflict whose resolutions need two edits', () => {
  it('lists them as all-of edits in words, and choosing one makes a ready version', async () => {
    const store = join(dir, 'store.db');
    const base = ['--kb', world.kb, '--index', world.index, '--index', extra, '--inventory', world.inventory, '--store', store];
    const created = await cli(['plan', ...base, '--install', 'mta-a', '--install', 'mta-b', '--install', 'mta-c', '--json']);
    expect(created.stderr).toBe('');
    const plan = JSON.parse(created.stdout) as {
      id: string;
      conflicts: Array<{ id: string; resolutions: Array<{ id: string; edit: { kind: string; edits?: Array<{ kind: string; item: { name: string } }> }; description: string }> }>;
    };
    expect(plan.conflicts).toHaveLength(1);
    const c = plan.conflicts[0]!;
    expect(c.resolutions.map((r) => r.description)).toEqual([
      'skip install mta-b, and skip install mta-c',
      'skip install mta-a, and skip install mta-c',
      'skip install mta-a, and skip install mta-b',
    ]);
    for (const r of c.resolutions) {
      expect(r.edit.kind).toBe('all-of');
      expect(r.edit.edits!.map((e) => e.kind)).toEqual(['skip', 'skip']);
    }
    const resolved = await cli(['plan', 'resolve', plan.id, '--choose', `${c.id}=r2`, '--store', store]);
    expect(resolved.status, resolved.stderr).toBe(0);
    expect(resolved.stdout).toContain('No conflicts.');
    expect(resolved.stdout).toContain('chosen: skip install mta-a, and skip install mta-c (v1 c1=r2)');
    expect(resolved.stdout).toContain('install mta-b 1');
    expect(resolved.stdout).not.toMatch(/install mta-[ac] 1/);
    // each item left out is attributed to the chosen resolution
    expect(resolved.stdout).toContain('mta-a is not installed instead of install mta-a');
    expect(resolved.stdout).toContain('mta-c is not installed instead of install mta-c');
  });
});
