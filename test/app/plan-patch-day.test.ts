/**
 * `rollwise plan --upgrade-all` (a patch day) says what it leaves behind: per group, every
 * installed package whose candidate (apt's under the group's apt policy, else the newest version)
 * is newer than what the plan leaves it at, with the reason (the request's hold or pin, or the
 * solver's: the facts that stop it), in the text and in --json, counted in the summary line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  stanza('tool', '2.1-1', 'Depends: libc6, newdep\n'),
  stanza('newdep', '1.0-1', 'Conflicts: oldthing\n'),
  stanza('oldthing', '1.0-1'),
].join('\n');

const FACTS = '{ architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }';
// web-3 pins tool to 2.0 in its apt preferences: its candidate is the installed version, nothing is left behind there
const inventory = (dir: string): string => `version: 1
hosts:
  - name: web-1
    facts: ${FACTS}
    installed: ["libc6=2.36-9", "libx=1.0-1", "web=1.0-1", "tool=2.0-1", "oldthing=1.0-1"]
  - name: web-2
    facts: ${FACTS}
    installed: ["libc6=2.36-9", "libx=1.0-1", "tool=2.0-1"]
  - name: web-3
    facts: ${FACTS}
    installed: ["libc6=2.36-9", "libx=1.0-1", "tool=2.0-1", "oldthing=1.0-1"]
    apt:
      sources:
        - { line: "deb http://deb.example.org/debian bookworm main", index: ${JSON.stringify(path.join(dir, 'Packages'))} }
      preferences:
        - { package: "tool", pin: "version 2.0*", priority: 1001 }
`;

interface HeldBack { kind: string; package: string; version?: string; newest: string; text: string; because?: { facts: Array<{ kind: string }>; text: string[] } }
interface PlanJson { summary: { findings: { heldBack: number; heldBackPackages: number } }; groups: Array<{ hosts: string[]; findings: HeldBack[] }> }

let dir: string;
let n = 0;

async function plan(args: string[], json = true): Promise<{ status: number; stdout: string; stderr: string }> {
  return cli(['plan', '--index', path.join(dir, 'Packages'), '--inventory', path.join(dir, 'inventory.yaml'), '--store', path.join(dir, `p${n++}.db`), '--allow-outside-paths', '--no-recommends', ...(json ? ['--json'] : []), ...args]);
}

function heldBackByHost(p: PlanJson): Record<string, HeldBack[]> {
  const out: Record<string, HeldBack[]> = {};
  for (const g of p.groups) for (const h of g.hosts) out[h] = g.findings.filter((f) => f.kind === 'held-back').sort((a, b) => a.package.localeCompare(b.package));
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-patch-day-'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'inventory.yaml'), inventory(dir));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise plan --upgrade-all: what a patch day leaves behind', () => {
  it('lists per group the packages with a newer candidate it does not upgrade, with the solver\'s reason, and counts them', async () => {
    const r = await plan(['--upgrade-all']);
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout) as PlanJson;
    const held = heldBackByHost(p);
    // tool 2.1 needs newdep, which conflicts with oldthing (kept installed): left behind on web-1
    expect(held['web-1']!.map((f) => `${f.package} ${f.version} < ${f.newest}`)).toEqual(['tool 2.0-1 < 2.1-1']);
    const because = held['web-1']![0]!.because!;
    expect(because.facts.map((f) => f.kind)).toContain('conflict');
    expect(because.text.join(' ')).toMatch(/newdep.*conflicts with oldthing/);
    expect(held['web-1']![0]!.text).toBe('tool kept back at 2.0-1, not the newest 2.1-1');
    // web-2 has no oldthing: tool 2.1 (and newdep) go in, nothing is left behind
    expect(held['web-2']).toEqual([]);
    // web-3's apt pin makes tool 2.0-1 its candidate: not left behind under its policy
    expect(held['web-3']).toEqual([]);
    expect(p.summary.findings.heldBack).toBe(1);
    expect(p.summary.findings.heldBackPackages).toBe(1);
  });

  it('names the request\'s hold and pin as the reason', async () => {
    const r = await plan(['--upgrade-all', '--hold', 'tool', '--pin', 'libx=1.0-1']);
    expect(r.status, r.stderr).toBe(0);
    const held = heldBackByHost(JSON.parse(r.stdout) as PlanJson);
    expect(held['web-2']!.map((f) => [f.package, f.because?.facts.map((x) => x.kind), f.because?.text])).toEqual([
      ['libx', ['kept-by-request'], ['the request asks to pin libx (= 1.0-1), which keeps libx from 1.1-1']],
      ['tool', ['kept-by-request'], ['the request asks to hold tool, which keeps tool from 2.1-1']],
    ]);
    // web is left behind by the pin on libx: the solver's facts say so
    const web = held['web-1']!.find((f) => f.package === 'web')!;
    expect(web.newest).toBe('1.1-1');
    expect(web.because!.text.join(' ')).toMatch(/libx/);
  });

  it('works out the reason for at most 16 packages of a group (each costs a solve) and says how to ask for the others', async () => {
    const many = path.join(dir, 'many');
    mkdirSync(many);
    const names = Array.from({ length: 18 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
    writeFileSync(path.join(many, 'Packages'), [stanza('newdep', '1.0-1', 'Conflicts: oldthing\n'), stanza('oldthing', '1.0-1'), ...names.flatMap((n) => [stanza(n, '1.0-1'), stanza(n, '2.0-1', 'Depends: newdep\n')])].join('\n'));
    writeFileSync(path.join(many, 'inventory.yaml'), `version: 1\nhosts:\n  - name: big-1\n    installed: [${['oldthing=1.0-1', ...names.map((x) => `${x}=1.0-1`)].map((x) => JSON.stringify(x)).join(', ')}]\n`);
    const r = await cli(['plan', '--index', path.join(many, 'Packages'), '--inventory', path.join(many, 'inventory.yaml'), '--store', path.join(many, 's.db'), '--no-recommends', '--upgrade-all']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 host with packages held back \(18 packages over all hosts/);
    expect(r.stdout.match(/because newdep 1\.0-1 conflicts with oldthing|because .*conflicts with oldthing/g)?.length).toBe(16);
    expect(r.stdout).toContain('! held back [medium] p18 kept back at 1.0-1, not the newest 2.0-1\n        reason not worked out (a patch day explains the first packages of each group): rollwise why-not p18=2.0-1 with the group\'s request says why');
  });

  it('says it in the text: each package per group with its reason, and the count in the summary line', async () => {
    const r = await plan(['--upgrade-all', '--hold', 'tool'], false);
    expect(r.status, r.stderr).toBe(0);
    // web-1 and web-2 hold tool back; web-3 pins it (its candidate is the installed version)
    expect(r.stdout).toMatch(/findings: 2 hosts with packages held back \(2 packages over all hosts stay behind/);
    expect(r.stdout).not.toMatch(/0 held back/);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => /held back \[medium\] tool kept back at 2\.0-1, not the newest 2\.1-1/.test(l));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^ +because the request asks to hold tool, which keeps tool from 2\.1-1$/);
  });
});
