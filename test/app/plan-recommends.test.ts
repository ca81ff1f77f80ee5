/**
 * `rollwise plan --no-recommends`: an upgrade whose new version recommends a package the host
 * does not have adds that package by default (Recommends count), and adds nothing with the flag,
 * which the stored plan records so that a later resolve solves the same way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';
import { findPlan, openStoreForReading } from '../../src/app/services/index.js';

const PACKAGES = [
  'Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nDescription: C library\n',
  'Package: web\nVersion: 1.0-1\nArchitecture: amd64\nDepends: libc6\nRecommends: mailer\nDescription: a web server\n',
  'Package: web\nVersion: 1.0-1+deb12u1\nArchitecture: amd64\nDepends: libc6\nRecommends: mailer\nDescription: a web server\n',
  'Package: mailer\nVersion: 3.0-1\nArchitecture: amd64\nDepends: libc6\nDescription: what web recommends\n',
].join('\n');

const INVENTORY = `version: 1
hosts:
  - name: web-1
    facts: { architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }
    installed: ["libc6=2.36-9", "web=1.0-1"]
`;

let dir: string;


async function planUpgrade(extra: string[]): Promise<{ changes: Array<{ name: string; action: string }>; recommends: unknown }> {
  const store = path.join(dir, `${extra.length ? 'without' : 'with'}.db`);
  const r = await cli(['plan', '--index', path.join(dir, 'Packages'), '--inventory', path.join(dir, 'inventory.yaml'), '--store', store, '--upgrade', 'web', '--json', ...extra]);
  expect(r.status, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as { id: string; groups: Array<{ outcome: { kind: string; changes?: Array<{ name: string; action: string }> } }> };
  const s = await openStoreForReading(store);
  try {
    const stored = await findPlan(s, json.id);
    return { changes: json.groups[0]!.outcome.changes ?? [], recommends: stored.inputs.recommends };
  } finally {
    await s.close();
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-plan-recommends-'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'inventory.yaml'), INVENTORY);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise plan --no-recommends', () => {
  it('by default an upgrade installs what the new version recommends', async () => {
    const p = await planUpgrade([]);
    expect(p.changes.map((c) => `${c.action} ${c.name}`).sort()).toEqual(['install mailer', 'upgrade web']);
    expect(p.recommends).toBeUndefined();
  });

  it('with --no-recommends the plan is the upgrade alone, and the stored plan says so', async () => {
    const p = await planUpgrade(['--no-recommends']);
    expect(p.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['upgrade web']);
    expect(p.recommends).toBe(false);
  });
});
