/**
 * A second trial's findings, on the example fleet (7 host groups) and small indexes: `--group 9`
 * on a 7-group plan is an error naming the range, never a key prefix; a group that changes
 * nothing says so in rollback-plan; a ready plan names the gates `plan approve` will meet; and a
 * package the loaded indexes have but a root's apt sources do not name is reported as such.
 * The CLI runs in this process (same parsing, rendering and exit statuses as the binary).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';
import { selectGroups } from '../../src/app/cli/commands/review.js';
import { RollwiseError } from '../../src/shared/index.js';
import { requireDebianIndex } from '../kb/helpers.js';

let dir: string;
let store: string;
let id: string;
let groupKeys: string[];
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-trial2-'));
  store = path.join(dir, 'store.db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usageError(f: () => unknown): RollwiseError {
  try {
    f();
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected a RollwiseError');
}

describe('--group: a plain number is a group number', () => {
  const plan = { groups: ['1a2b000000000000', '5c5c000000000000', '9066a0b1c2d3e4f5', '77aa000000000000', 'bbbb000000000000', 'cccc000000000000', 'dddd000000000000'].map((key) => ({ key })) };

  it('out of range is RW_USAGE naming the range, not the group whose key starts with the digits', () => {
    const e = usageError(() => selectGroups(plan, '9'));
    expect(e.code).toBe('RW_USAGE');
    expect(e.message).toBe('no group 9 in this plan: it has groups 1-7');
    expect(e.hint).toMatch(/key:PREFIX when it is all digits, e\.g\. key:9066/);
    expect(usageError(() => selectGroups(plan, '0')).message).toBe('no group 0 in this plan: it has groups 1-7');
    expect(selectGroups(plan, '3')).toEqual(['9066a0b1c2d3e4f5']);
    expect(selectGroups(plan, '7')).toEqual(['dddd000000000000']);
  });

  it('keys: at least 4 hex characters, key:PREFIX for an all-digit prefix; short or non-hex is RW_USAGE', () => {
    expect(selectGroups(plan, 'key:9066')).toEqual(['9066a0b1c2d3e4f5']);
    expect(selectGroups(plan, '9066a')).toEqual(['9066a0b1c2d3e4f5']);
    expect(selectGroups(plan, 'BBBB')).toEqual(['bbbb000000000000']);
    expect(usageError(() => selectGroups(plan, '9066')).message).toBe('no group 9066 in this plan: it has groups 1-7');
    expect(usageError(() => selectGroups(plan, 'key:906')).message).toMatch(/neither a group number nor a group key prefix/);
    expect(usageError(() => selectGroups(plan, 'bbb')).message).toMatch(/neither a group number nor a group key prefix/);
    expect(usageError(() => selectGroups(plan, 'web')).message).toMatch(/neither a group number nor a group key prefix/);
    expect(usageError(() => selectGroups(plan, 'eeee')).message).toBe("no group key starts with 'eeee' in this plan");
  });
});

describe('on the example fleet', () => {
  it('a ready plan names the gates approval will meet, and plan approve meets exactly those', async () => {
    const index = requireDebianIndex();
    const first = await cli(['plan', '--kb', 'examples/kb', '--index', index, '--inventory', 'examples/fleet/inventory.yaml', '--install', 'shopfront=2.0.0', '--store', store, '--json']);
    expect(first.status, first.stderr).toBe(1);
    const planned = JSON.parse(first.stdout) as { id: string; groups: Array<{ key: string }> };
    id = planned.id;
    groupKeys = planned.groups.map((g) => g.key);
    expect(groupKeys).toHaveLength(7);
    const resolved = await cli(['plan', 'resolve', id, '--choose', 'c1=r1', '--choose', 'c2=r1', '--choose', 'c3=r2', '--choose', 'c4=r1', '--store', store]);
    expect(resolved.status, resolved.stderr).toBe(0);
    expect(resolved.stdout).not.toMatch(/Approve with: rollwise plan approve \w+\n/);
    expect(resolved.stdout).toMatch(/No conflicts\. Approval needs \(rollwise plan approve refuses until each is passed or overridden by name\):/);
    expect(resolved.stdout).toMatch(new RegExp(`  rehearsal: a successful rehearsal on a staging host \\(rollwise rehearse ${id} --on ROOT\\); or --override 'rehearsal'`));
    expect(resolved.stdout).toMatch(/ {2}irreversible-migration:shop\/0013_split_customer_name: a person to accept: migration 0013_split_customer_name on shop cannot be undone .*; or --override 'irreversible-migration:shop\/0013_split_customer_name'/);
    const shown = await cli(['plan', 'show', id, '--store', store]);
    expect(shown.stdout).toMatch(/Approval needs/);
    expect(shown.stdout).toMatch(/Approve with: rollwise plan approve \w+ --override '(rehearsal|irreversible-migration:shop\/0013_split_customer_name)' --override '(rehearsal|irreversible-migration:shop\/0013_split_customer_name)' --reason TEXT {2}\(leave out the override of a gate passed by then\)\n/);
    // the gates named are the ones approval refuses with
    const refused = await cli(['plan', 'approve', id, '--store', store]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/RW_APPROVAL_GATE: plan \w+ v2 cannot be approved: /);
    expect(refused.stderr).toMatch(/[:;] rehearsal: critical /);
    expect(refused.stderr).toMatch(/[:;] irreversible-migration:shop\/0013_split_customer_name: /);
  }, 300_000);

  it('rollback-plan --group 9 on the 7-group plan is RW_USAGE naming the range; a key prefix still works', async () => {
    const r = await cli(['rollback-plan', id, '--store', store, '--group', '9']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollwise: RW_USAGE: no group 9 in this plan: it has groups 1-7 \(hint: /);
    expect(r.stdout).toBe('');
    const byKey = await cli(['rollback-plan', id, '--store', store, '--group', `key:${groupKeys[2]!.slice(0, 6)}`]);
    expect(byKey.status, byKey.stderr).toBe(0);
    expect(byKey.stdout).toMatch(new RegExp(`group 3 ${groupKeys[2]}`));
    const help = await cli(['rollback-plan', '--help']);
    expect(help.stdout).toMatch(/--group <n\|key>\s+only this group: its number \(1, 2, …\) or its key \(at least 4\s+characters; key:PREFIX when the prefix is all digits\)/);
  });

  it('rollback-plan --group N for a group that changes nothing says so', async () => {
    const r = await cli(['rollback-plan', id, '--store', store, '--group', '4']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Plan ${id} version 2\ngroup 4 changes nothing: nothing to roll back\n`);
    // a group that changes: its steps
    const changing = await cli(['rollback-plan', id, '--store', store, '--group', '6']);
    expect(changing.stdout).toMatch(/group 6 \w+: 4 hosts\n +1\. /);
  });
});

describe('solve --root: a package the root\'s sources do not name', () => {
  const record = (name: string, version: string) => `Package: ${name}\nVersion: ${version}\nArchitecture: amd64\nMaintainer: t <t@example.org>\nFilename: pool/${name}_${version}_amd64.deb\nSize: 1\nDescription: ${name}\n\n`;

  it('says which loaded index has it and that the root\'s apt sources do not name it', async () => {
    const repo = path.join(dir, 'indexes');
    const root = path.join(dir, 'root');
    mkdirSync(repo, { recursive: true });
    mkdirSync(path.join(root, 'etc/apt'), { recursive: true });
    mkdirSync(path.join(root, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    writeFileSync(path.join(root, 'etc/apt/sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    writeFileSync(path.join(repo, 'bookworm-main-amd64.Packages'), record('mawk', '1.3.4'));
    writeFileSync(path.join(repo, 'trixie-main-amd64.Packages'), record('openssl', '3.5.1-1'));
    writeFileSync(path.join(repo, 'Packages'), record('curl', '8.0-1'));
    const args = ['solve', '--index', path.join(repo, 'bookworm-main-amd64.Packages'), '--index', path.join(repo, 'trixie-main-amd64.Packages'), '--index', path.join(repo, 'Packages'), '--root', root];
    const seen = await cli([...args, '--install', 'mawk']);
    expect(seen.status, seen.stderr).toBe(0);
    const r = await cli([...args, '--install', 'openssl']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`rollwise: RW_UNKNOWN_PACKAGE: no package openssl for the root ${root}: it is in index trixie-main-amd64.Packages (trixie main), which this root's apt sources do not name (its sources name: bookworm main)`);
    expect(r.stderr).toContain(`(hint: add a source naming that suite and component to ${path.join(root, 'etc/apt/sources.list')}, or solve without --root)`);
    expect(r.stderr).not.toMatch(/no index loaded has it/);
    // an index without Release facts is no repository: every host sees it, sources or not
    expect((await cli([...args, '--install', 'curl'])).status).toBe(0);
    // a name no index has: the message it always had
    expect((await cli([...args, '--install', 'nosuchpkg'])).stderr).toMatch(/RW_UNKNOWN_PACKAGE: no package nosuchpkg .*no index or knowledge-base layer loaded has it/);
  });
});
