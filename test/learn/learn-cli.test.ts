// `rollwise learn` at the edges: its help teaches the method and where the fact goes; a deployment
// that is not in the store is refused by code with a hint, and nothing is written.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/app/index.js';
import { runCliInProcess } from '../app/cli-in-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-learn-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise learn', () => {
  it('--help explains how the culprit is found and where it is recorded', async () => {
    const r = await runCliInProcess(['learn', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--write <file>');
    expect(r.stdout).toContain('ROLLWISE_LEARNED_KB');
    expect(r.stdout).toContain('How the culprit is found');
    expect(r.stdout).toContain('"one of"');
    expect(r.stdout).toContain('Example: rollwise learn');
  });

  it('an unknown deployment: RW_NOT_FOUND with a hint, and no learned file is created', async () => {
    const db = path.join(dir, 'rollwise.db');
    await (await openStore(db)).close();
    const out = path.join(dir, 'learned.yaml');
    const r = await runCliInProcess(['learn', 'abcdef12', '--write', out, '--store', db]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('RW_NOT_FOUND');
    expect(r.stderr).toContain('rollwise deploy list');
    expect(existsSync(out)).toBe(false);
  });
});
