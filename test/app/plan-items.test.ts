/**
 * `rollwise plan` takes every request item `rollwise solve` takes (issue 12 §5): `--upgrade-all`
 * (a patch day: each group upgrades what it can), `--hold NAME`, `--pin SPEC`, also as keys of a
 * request file (`upgrade-all: true`, `hold:`, `pin:`), read by the one reader both commands use;
 * and `--threads N`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';

const stanza = (name: string, version: string, extra = ''): string => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\n${extra}Description: ${name}\n`;
const PACKAGES = [
  stanza('libc6', '2.36-9'),
  stanza('libx', '1.0-1', 'Depends: libc6\n'),
  stanza('libx', '1.1-1', 'Depends: libc6\n'),
  stanza('web', '1.0-1', 'Depends: libx\n'),
  stanza('web', '1.1-1', 'Depends: libx (>= 1.1)\n'),
  stanza('tool', '2.0-1', 'Depends: libc6\n'),
  stanza('tool', '2.1-1', 'Depends: libc6\n'),
].join('\n');

const INVENTORY = `version: 1
hosts:
  - name: web-1
    facts: { architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }
    installed: ["libc6=2.36-9", "libx=1.0-1", "web=1.0-1", "tool=2.0-1"]
  - name: web-2
    facts: { architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }
    installed: ["libc6=2.36-9", "libx=1.0-1", "tool=2.0-1"]
`;

let dir: string;
let n = 0;

async function plan(args: string[]): Promise<{ status: number; stderr: string; changes: Record<string, string[]> }> {
  const store = path.join(dir, `p${n++}.db`);
  const r = await cli(['plan', '--index', path.join(dir, 'Packages'), '--inventory', path.join(dir, 'inventory.yaml'), '--store', store, '--json', '--no-recommends', ...args]);
  if (r.status !== 0 && r.status !== 1) return { status: r.status, stderr: r.stderr, changes: {} };
  const json = JSON.parse(r.stdout) as { groups: Array<{ hosts: string[]; outcome: { kind: string; changes?: Array<{ action: string; name: string; to?: string }> } }> };
  const changes: Record<string, string[]> = {};
  for (const g of json.groups) for (const h of g.hosts) changes[h] = (g.outcome.changes ?? []).map((c) => `${c.action} ${c.name}${c.to ? ` ${c.to}` : ''}`).sort();
  return { status: r.status, stderr: r.stderr, changes };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-plan-items-'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'inventory.yaml'), INVENTORY);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise plan: every request item rollwise solve takes', () => {
  it('--upgrade-all upgrades what each group has, and only that', async () => {
    const p = await plan(['--upgrade-all']);
    expect(p.status, p.stderr).toBe(0);
    expect(p.changes['web-1']).toEqual(['upgrade libx 1.1-1', 'upgrade tool 2.1-1', 'upgrade web 1.1-1']);
    // web-2 has no web: a patch day installs nothing new
    expect(p.changes['web-2']).toEqual(['upgrade libx 1.1-1', 'upgrade tool 2.1-1']);
  });

  it('--hold keeps a package as installed on every host', async () => {
    const p = await plan(['--upgrade-all', '--hold', 'tool']);
    expect(p.status, p.stderr).toBe(0);
    expect(p.changes['web-1']).toEqual(['upgrade libx 1.1-1', 'upgrade web 1.1-1']);
    expect(p.changes['web-2']).toEqual(['upgrade libx 1.1-1']);
  });

  it('--pin allows only matching versions: what needs another version stays where it can', async () => {
    const p = await plan(['--upgrade-all', '--pin', 'libx=1.0-1']);
    expect(p.status, p.stderr).toBe(0);
    // web 1.1 needs libx >= 1.1, which the pin forbids: web stays, tool is upgraded
    expect(p.changes['web-1']).toEqual(['upgrade tool 2.1-1']);
    expect(p.changes['web-2']).toEqual(['upgrade tool 2.1-1']);
  });

  it('a request file takes upgrade-all:, hold: and pin: with the same meaning', async () => {
    const file = path.join(dir, 'patch-day.yaml');
    writeFileSync(file, 'upgrade-all: true\nhold: [tool]\npin: ["libx (<< 1.1)"]\n');
    const p = await plan(['--request', file]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.changes['web-1']).toEqual([]);
    expect(p.changes['web-2']).toEqual([]);
  });

  it('refuses a hold with a version, a pin without one, holds alone, and items beside --request', async () => {
    const hold = await plan(['--install', 'web', '--hold', 'tool=2.0-1']);
    expect(hold.status).toBe(2);
    expect(hold.stderr).toMatch(/RW_REQUEST.*--hold takes a package name, not a version/s);
    const pin = await plan(['--install', 'web', '--pin', 'libx']);
    expect(pin.status).toBe(2);
    expect(pin.stderr).toMatch(/RW_REQUEST.*--pin needs a version/s);
    const only = await plan(['--hold', 'tool']);
    expect(only.status).toBe(2);
    expect(only.stderr).toMatch(/RW_REQUEST.*only holds or pins/s);
    const file = path.join(dir, 'holds.yaml');
    writeFileSync(file, 'hold:\n  - tool\npin:\n  - "libx"\n');
    const badFile = await plan(['--request', file]);
    expect(badFile.status).toBe(2);
    expect(badFile.stderr).toMatch(/holds\.yaml:4:5.*pin needs a version/s);
    const both = await plan(['--request', file, '--upgrade-all']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/RW_USAGE.*either --request FILE or/s);
  });

  it('rollwise solve reads the same items the same way', async () => {
    const r = await cli(['solve', '--index', path.join(dir, 'Packages'), '--install', 'web', '--hold', 'tool=2.0-1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_REQUEST.*--hold takes a package name, not a version/s);
  });

  it('--threads takes a whole number; any count gives the same plan', async () => {
    const bad = await plan(['--upgrade-all', '--threads', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/RW_USAGE.*--threads must be a whole number/s);
    const one = await plan(['--upgrade-all', '--threads', '1']);
    const two = await plan(['--upgrade-all', '--threads', '2']);
    expect(two.changes).toEqual(one.changes);
  });
});
