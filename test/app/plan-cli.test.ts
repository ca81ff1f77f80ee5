/**
 * The plan commands end to end (the CLI spawned from source) on the small fixture world:
 * create, show, list, resolve (--choose, --file, interactively on a real pseudo-terminal through
 * util-linux `script`), approve; bad input gets a clear error and leaves the store unchanged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';
import { joinForShell } from '../../src/hosts/index.js';
import { CLI_ENTRY, runCli, repoRoot } from '../helpers/cli.js';
import { createWorld, type World } from '../planner/fixture.js';
import { createFunctionalWorld } from '../planner/functional-fixture.js';

let world: World;
let store: string;

function dumpStore(file: string): string {
  if (!existsSync(file)) return 'absent';
  const db = new Database(file, { readonly: true });
  try {
    const tables = ['plans', 'plan_versions', 'plan_groups'];
    return JSON.stringify(tables.map((t) => db.prepare(`select * from ${t} order by 1, 2`).all()));
  } finally {
    db.close();
  }
}

/** The CLI in this process (same parsing and rendering as the binary, without a process start per call). */

function plan(args: string[]) {
  return cli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, ...args]);
}

function planId(stdout: string): string {
  const m = /^Plan ([0-9a-f]{8}) version (\d+)/m.exec(stdout);
  if (!m) throw new Error(`no plan header in: ${stdout.slice(0, 300)}`);
  return m[1]!;
}

beforeAll(() => {
  world = createWorld();
  store = path.join(world.dir, 'state', 'rollwise.db');
});
afterAll(() => world?.cleanup());

describe('rollwise plan', () => {
  let id: string;

  it('plans, stores and renders (no colours in a pipe), and lists', async () => {
    const r = runCli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--install', 'app-a=2.0-1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1); // conflicts remain to review (exit 0 only when the plan is ready)
    id = planId(r.stdout);
    expect(r.stdout).toMatch(/needs-review/);
    expect(r.stdout).toMatch(/Fleet: 8 hosts in 4 groups/);
    expect(r.stdout.includes(String.fromCharCode(27))).toBe(false);
    const list = await cli(['plan', 'list', '--store', store]);
    expect(list.stdout).toMatch(new RegExp(`^${id} v1  needs-review .* 8 hosts, 4 groups, 2 conflicts  install app-a \\(= 2\\.0-1\\)$`, 'm'));
    type JsonConflict = { id: string; explanation: { facts: Array<{ kind: string; key: string; reason?: string }>; text: string[] }; resolutions: Array<{ edit: { kind: string }; description: string }> };
    const json = JSON.parse((await cli(['plan', 'show', id.slice(0, 4), '--store', store, '--json'])).stdout) as { id: string; conflicts: JsonConflict[]; groups: Array<{ installedCount: number }> };
    expect(json.id).toBe(id);
    expect(json.conflicts.map((c) => c.id)).toEqual(['c1', 'c2']);
    // explanations and resolutions are data (facts, typed edits), with their words beside them
    const kernel = json.conflicts.find((c) => c.explanation.facts.some((f) => f.kind === 'not-candidate'))!;
    expect(kernel.explanation.facts.find((f) => f.kind === 'not-candidate')!.reason).toMatch(/kernel 5\.10\.0-28-amd64 >= 6\.1 does not hold/);
    expect(kernel.explanation.text.join('\n')).toMatch(/cannot be installed on this host/);
    const removal = json.conflicts.find((c) => c !== kernel)!;
    expect(removal.resolutions[1]).toMatchObject({ edit: { kind: 'allow-removal', names: ['legacy-tool'] }, description: 'allow removal of the installed package legacy-tool' });
    expect(json.groups[0]!.installedCount).toBe(3);
  });

  it('bad input gets a clear error and leaves the store unchanged', async () => {
    const before = dumpStore(store);
    const cases: Array<[string[], RegExp]> = [
      [['--install', 'no-such-package'], /RW_UNKNOWN_PACKAGE: no package no-such-package/],
      [['--install', 'app-a=2.0 beta'], /RW_REQUEST: --install: cannot read 'app-a=2.0 beta'/],
      [['--install', 'app-a=:2'], /RW_BAD_VERSION: --install: ':2' is not a valid Debian version/],
      [['--install', 'App_A'], /RW_BAD_NAME: --install: 'App_A' is not a valid Debian package name/],
      [[], /RW_REQUEST: the request is empty/],
    ];
    // one through the real binary for the exit status, the rest in this process
    const spawned = runCli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--install', 'no-such-package']);
    expect(spawned.status).toBe(2);
    expect(spawned.stderr).toMatch(/^rollwise: RW_UNKNOWN_PACKAGE: no package no-such-package \(hint: /);
    for (const [args, message] of cases) {
      const r = await plan(args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const dup = path.join(world.dir, 'dup.yaml');
    writeFileSync(dup, 'hosts:\n  - name: a\n    installed: []\n  - name: a\n    installed: []\n');
    const d = await cli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', dup, '--store', store, '--install', 'helper']);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(new RegExp(`RW_INVENTORY: ${dup.replace(/[.]/g, '\\.')}:4:11: duplicate host name 'a'`));
    const reqFile = path.join(world.dir, 'request.yaml');
    writeFileSync(reqFile, 'install:\n  - helper\n  - "app-a (>= 1.0 x)"\n');
    const rf = await cli(['plan', '--kb', world.kb, '--index', world.index, '--inventory', world.inventory, '--store', store, '--request', reqFile]);
    expect(rf.stderr).toMatch(new RegExp(`RW_REQUEST: ${reqFile.replace(/[.]/g, '\\.')}:3:5: install: cannot read`));
    // an SSH host that cannot be reached (a closed port): clear error, nothing stored
    const kh = path.join(world.dir, 'known_hosts');
    writeFileSync(kh, '');
    const u = await plan(['--install', 'helper', '--ssh-host', '127.0.0.1:1', '--known-hosts', kh]);
    expect(u.status).toBe(1); // an outcome to act on (the input was fine), not bad input
    expect(u.stderr).toMatch(/RW_HOST: 1 host could not be collected: 127\.0\.0\.1 \(.*(refused|closed).*\).*--skip-unreachable/i);
    const bad = await cli(['plan', 'resolve', id, '--choose', 'c1=r99', '--store', store]);
    expect(bad.stderr).toMatch(/RW_USAGE: conflict c1 has no resolution 'r99' \(hint: choose one of r1/);
    const notty = await cli(['plan', 'resolve', id, '--store', store]);
    expect(notty.stderr).toMatch(/RW_USAGE: no terminal to ask on/);
    const approve = await cli(['plan', 'approve', id, '--store', store]);
    expect(approve.stderr).toMatch(/RW_USAGE: plan .* is needs-review with 2 conflicts/);
    expect(dumpStore(store)).toBe(before);
  });

  it('records unreachable hosts in the plan when told to skip them', async () => {
    const kh = path.join(world.dir, 'known_hosts');
    const r = await plan(['--install', 'helper', '--ssh-host', '127.0.0.1:1', '--known-hosts', kh, '--skip-unreachable', '--json']);
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout) as { status: string; fleetFindings: Array<{ kind: string; host: string }>; summary: { findings: { unreachable: number } } };
    expect(p.status).toBe('ready');
    expect(p.fleetFindings).toEqual([expect.objectContaining({ kind: 'unreachable', host: '127.0.0.1' })]);
    expect(p.summary.findings.unreachable).toBe(1);
  });

  it('resolves with --choose and with a file, each making a new version that records the choice', async () => {
    const r = await cli(['plan', 'resolve', id, '--choose', 'c2=r2', '--store', store]);
    expect(r.status, r.stderr).toBe(1); // c1 remains
    expect(r.stderr).toMatch(new RegExp(`resolving plan ${id} version 1 into version 2`));
    expect(r.stdout).toMatch(new RegExp(`Plan ${id} version 2`));
    expect(r.stdout).toMatch(/Made from version 1 by choosing: c2=r2 \(allow removal of the installed package legacy-tool\)/);
    // the conflict left keeps its id (c1), and the hint offers a resolution that removes nothing
    expect(r.stdout).toMatch(/^ {2}c1: 2 hosts/m);
    expect(r.stdout).toMatch(/Choose with: rollwise plan resolve \w+ --choose c1=r1 /);
    const file = path.join(world.dir, 'choices.yaml');
    writeFileSync(file, 'choices:\n  c1: r1\n');
    const r3 = await cli(['plan', 'resolve', id, '--file', file, '--store', store, '--json']);
    expect(r3.status, r3.stderr).toBe(0);
    const v3 = JSON.parse(r3.stdout) as { version: number; status: string; conflicts: unknown[]; origin: { parentVersion: number; choices: Array<{ description: string }> } };
    expect(v3.version).toBe(3);
    expect(v3.status).toBe('ready');
    expect(v3.conflicts).toEqual([]);
    expect(v3.origin.parentVersion).toBe(2);
    expect(v3.origin.choices[0]!.description).toMatch(/app-a=1\.0-1/);
    const list = (await cli(['plan', 'list', '--store', store])).stdout;
    expect(list).toMatch(new RegExp(`${id} v1  superseded`));
    expect(list).toMatch(new RegExp(`${id} v2  superseded`));
    expect(list).toMatch(new RegExp(`${id} v3  ready`));
    const a = await cli(['plan', 'approve', id, '--store', store]);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(new RegExp(`approved plan ${id} v3`));
    // the approval says how many hosts really change, not just the original request
    expect(a.stdout).toMatch(/; \d+ of \d+ hosts change/);
    expect((await cli(['plan', 'show', id, '--store', store, '--json'])).stdout).toMatch(/"status": "approved"/);
    // an older version points to the latest; an approved plan says so before asking for a terminal
    const old = await cli(['plan', 'approve', `${id}@1`, '--store', store]);
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(new RegExp(`RW_USAGE: plan ${id} v1 is superseded by a later version \\(hint: approve the latest version: rollwise plan approve ${id}`));
    const again = await cli(['plan', 'resolve', id, '--store', store]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toMatch(new RegExp(`^rollwise: RW_USAGE: plan ${id} v3 is already approved`));
  });

  it('asks on a real terminal (pseudo-terminal through script) and re-solves at once', async () => {
    const created = await plan(['--install', 'app-a=2.0-1']);
    const id2 = planId(created.stdout);
    const argv = [process.execPath, CLI_ENTRY, 'plan', 'resolve', id2, '--store', store];
    // util-linux `script` gives the CLI a pseudo-terminal on stdin and stdout; Enter picks the
    // resolution the cursor starts on (the gentlest that removes nothing), typed once its question is on the screen.
    const child = spawn('script', ['-qec', joinForShell(argv), '/dev/null'], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', TERM: 'xterm', ROLLWISE_DIST_CHECKED: '1' } });
    let out = '';
    let answered = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no end of the interactive review; screen so far: ${out.slice(-800)}`));
      }, 100_000);
      child.on('error', (e) => reject(new Error(`script (util-linux) is needed for this test: install the Debian package bsdutils (${e.message})`)));
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const questions = (out.match(/decide later/g) ?? []).length;
        if (questions > answered) {
          answered = questions;
          setTimeout(() => child.stdin.write('\r'), 150);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    expect(status, out).toBe(0);
    expect(out).toMatch(/c1 \(2 hosts: old-1, old-2\)/);
    expect(out).toMatch(new RegExp(`Plan ${id2} version 2 {2}ready`));
    const v2 = JSON.parse((await cli(['plan', 'show', id2, '--store', store, '--json'])).stdout) as { version: number; status: string; origin: { choices: Array<{ conflict: string; resolution: string }> } };
    expect(v2.version).toBe(2);
    expect(v2.status).toBe('ready');
    expect(v2.origin.choices.map((c) => `${c.conflict}=${c.resolution}`)).toEqual(['c1=r1', 'c2=r1']);
  });

  it('colours only on a terminal, and not with NO_COLOR', () => {
    const env = { ...process.env, TERM: 'xterm', ROLLWISE_DIST_CHECKED: '1' } as NodeJS.ProcessEnv;
    delete env.NO_COLOR;
    delete env.CI;
    delete env.FORCE_COLOR;
    const argv = [process.execPath, CLI_ENTRY, 'plan', 'list', '--store', store];
    const onTty = spawnSync('script', ['-qec', joinForShell(argv), '/dev/null'], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
    if (onTty.error) throw new Error(`script (util-linux) is needed for this test: install the Debian package bsdutils (${onTty.error.message})`);
    const ESC = String.fromCharCode(27);
    // every status is coloured on a terminal (yellow needs-review, green ready/approved, dim superseded)
    expect(onTty.stdout).toMatch(new RegExp(`${ESC}\\[(33mneeds-review|32mready|32mapproved|2msuperseded)`));
    const noColor = spawnSync('script', ['-qec', joinForShell(argv), '/dev/null'], { cwd: repoRoot, env: { ...env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
    expect(noColor.stdout).toMatch(/ v1 {2}(needs-review|superseded|ready|approved)/);
    expect(noColor.stdout.includes(String.fromCharCode(27))).toBe(false);
  });

  it('plans for the local host too (its dpkg status read, never written)', async () => {
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const before = createHash('sha256').update(readFileSync('/var/lib/dpkg/status')).digest('hex');
    const r = await cli(['plan', '--kb', world.kb, '--index', world.index, '--local', '--store', store, '--install', 'helper', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as { status: string; groups: Array<{ hosts: string[]; outcome: { kind: string; changes: Array<{ action: string; name: string }> } }> };
    expect(p.status).toBe('ready');
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]!.outcome.changes).toEqual([expect.objectContaining({ action: 'install', name: 'helper' })]);
    expect(createHash('sha256').update(readFileSync('/var/lib/dpkg/status')).digest('hex')).toBe(before);
  });

  it('fleet show: hosts with facts, the groups they form, as text and JSON', async () => {
    const t = await cli(['fleet', 'show', '--inventory', world.inventory]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/^Hosts \(8\):/m);
    expect(t.stdout).toMatch(/^ {2}old-1 +inventory debian 12 \(bookworm\) amd64 +kernel 5\.10\.0-28-amd64 +2048 MiB +2 cpus .* 3 packages/m);
    expect(t.stdout).toMatch(/^Groups \(3\):/m);
    const j = JSON.parse((await cli(['fleet', 'show', '--inventory', world.inventory, '--json'])).stdout) as { groups: Array<{ hosts: string[] }> };
    expect(j.groups.map((g) => g.hosts.length)).toEqual([6, 1, 1]);
  });
});

describe('what is approved is what was reviewed', () => {
  it('records the inputs\' digests; resolve and approve stop when an input changed, naming it; approval records who and when', async () => {
    const w = createWorld();
    const st = path.join(w.dir, 'store.db');
    try {
      const created = runCli(['plan', '--kb', w.kb, '--index', w.index, '--inventory', w.inventory, '--store', st, '--install', 'app-a=2.0-1', '--json']);
      expect(created.status, created.stderr).toBe(1);
      const v1 = JSON.parse(created.stdout) as { id: string; inputs: { digests: Record<string, string> } };
      const files = Object.keys(v1.inputs.digests);
      expect(files).toContain(path.resolve(w.inventory));
      expect(files.some((f) => f.startsWith(path.resolve(w.kb)))).toBe(true);
      expect(files).toContain(path.resolve(w.index));
      // a knowledge-base file edited after planning: resolve refuses, naming the file
      const kbFile = files.find((f) => f.startsWith(path.resolve(w.kb)) && f.endsWith('.yaml'))!;
      const original = readFileSync(kbFile, 'utf8');
      writeFileSync(kbFile, `${original}\n# edited after review\n`);
      const refused = runCli(['plan', 'resolve', v1.id, '--choose', 'c1=r1', '--choose', 'c2=r1', '--store', st]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`RW_INPUTS_CHANGED: cannot resolve plan ${v1.id} v1: 1 of its inputs changed since it was made: ${kbFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(changed\\)`));
      writeFileSync(kbFile, original);
      const resolved = runCli(['plan', 'resolve', v1.id, '--choose', 'c1=r1', '--choose', 'c2=r1', '--store', st]);
      expect(resolved.status, resolved.stderr).toBe(0);
      // the inventory moved away before approval: approve refuses too
      renameSync(w.inventory, `${w.inventory}.moved`);
      const noApprove = runCli(['plan', 'approve', v1.id, '--store', st]);
      expect(noApprove.stderr).toMatch(/RW_INPUTS_CHANGED: cannot approve plan .* \(missing\)/);
      renameSync(`${w.inventory}.moved`, w.inventory);
      const approved = runCli(['plan', 'approve', v1.id, '--store', st, '--by', 'alice']);
      expect(approved.status, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/approved by alice at \d{4}-\d\d-\d\dT/);
      const shown = JSON.parse(runCli(['plan', 'show', v1.id, '--store', st, '--json']).stdout) as { status: string; approval: { by: string; at: string } };
      expect(shown.status).toBe('approved');
      expect(shown.approval.by).toBe('alice');
    } finally {
      w.cleanup();
    }
  });
});

describe('rollwise plan: a requirement across hosts', () => {
  it('is a conflict with two resolutions; choosing "upgrade first" makes a ready version with an ordering constraint, which approves', async () => {
    const w = createFunctionalWorld();
    const st = path.join(w.dir, 'rollwise.db');
    try {
      const args = ['--kb', w.kb, '--index', w.index, '--inventory', w.inventory, '--store', st];
      const created = await cli(['plan', ...args, '--install', 'shop=2.0-1']);
      expect(created.status, created.stderr).toBe(1);
      const id = planId(created.stdout);
      expect(created.stdout).toMatch(/conflict c1: 2 hosts \(app-1, app-2\)/);
      expect(created.stdout).toMatch(/held until c1 is resolved: upgrade shop 1\.0-1 → 2\.0-1/);
      expect(created.stdout).toMatch(/shop \(>= 2\.0-1\) requires pgsql \(>= 15\) on the hosts that run it .*after this plan db-1 runs pgsql 13-1/);
      expect(created.stdout).toMatch(/r1 {2}first install pgsql \(>= 15\) on the host running it that falls short \(1 group\), before the hosts that need it\n +→ upgrade pgsql 13-1 → 15-1; install shop 2\.0-1/);
      expect(created.stdout).toMatch(/r2 {2}skip install shop \(= 2\.0-1\)/);
      expect(created.stdout).toMatch(new RegExp(`Choose with: rollwise plan resolve ${id} --choose c1=r1`));
      // not approvable while the conflict is there
      expect((await cli(['plan', 'approve', id, '--store', st])).stderr).toMatch(/RW_USAGE: plan .* is needs-review with 1 conflict/);
      const resolved = await cli(['plan', 'resolve', id, '--choose', 'c1=r1', '--store', st]);
      expect(resolved.status, resolved.stderr).toBe(0);
      expect(resolved.stdout).toMatch(/version 2 {2}ready/);
      expect(resolved.stdout).toMatch(/Made from version 1 by choosing: c1=r1 \(first install pgsql \(>= 15\)/);
      expect(resolved.stdout).toMatch(/after group \d going forward \(before it going back\): shop \(>= 2\.0-1\) requires pgsql \(>= 15\)/);
      expect(resolved.stdout).not.toMatch(/Conflicts to review/);
      const json = JSON.parse((await cli(['plan', 'show', id, '--store', st, '--json'])).stdout) as { version: number; groups: Array<{ hosts: string[]; choices: Array<{ description: string }> }> };
      expect(json.version).toBe(2);
      expect(json.groups.find((g) => g.hosts.includes('db-1'))!.choices[0]!.description).toMatch(/^first install pgsql/);
      const approved = await cli(['plan', 'approve', id, '--store', st, '--by', 'alice']);
      expect(approved.status, approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/4 of 4 hosts change \(1 of them as a chosen resolution says\)/);
    } finally {
      w.cleanup();
    }
  });
});
