import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, hasErrors, loadKnowledgeBase, type KbProblem, type KnowledgeBase } from '../../src/kb/index.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { createTempKb, EXAMPLE_KB, FIXTURES, HEADER, requireDebianIndex } from './helpers.js';

const rel = (p: string) => path.relative(repoRoot, p);
const brief = (ps: readonly KbProblem[]) => ps.map((p) => `${path.basename(p.file)}:${p.line ?? '-'}:${p.column ?? '-'} ${p.code}`);

let temp: ReturnType<typeof createTempKb> | undefined;
afterEach(() => {
  temp?.cleanup();
  temp = undefined;
});

async function check(files: Record<string, string>, extra: string[] = []): Promise<KnowledgeBase> {
  temp = createTempKb(files);
  return loadKnowledgeBase([temp.dir, ...extra]);
}

describe('the example knowledge base', () => {
  let kb: KnowledgeBase;
  beforeAll(async () => {
    kb = await loadKnowledgeBase([EXAMPLE_KB], { indexes: [requireDebianIndex()] });
  });

  it('validates against the Debian 12 index with no problem at all', () => {
    expect(kb.problems.map(formatProblem)).toEqual([]);
  });

  it('holds a web stack: load balancer, application, database and cache, with one known issue', () => {
    const org = kb.layers.find((l) => l.name === 'org-shop')!;
    expect(org.services.map((s) => [s.value.name, s.value.criticality])).toEqual([
      ['loadbalancer', 'critical'], ['shopfront', 'critical'], ['postgresql', 'critical'], ['redis', 'medium'],
    ]);
    expect(org.knownIssues.map((k) => k.value.id)).toEqual(['KI-0001']);
    const migrations = org.packages.flatMap((p) => p.value.versions.flatMap((v) => v.migrations ?? []));
    expect(migrations.filter((m) => m.irreversible).map((m) => m.id)).toEqual(['0013_split_customer_name']);
    expect(org.configFiles.length).toBeGreaterThanOrEqual(3);
  });

  it('without a distribution index, every reference to a Debian package is reported, positioned', async () => {
    const alone = await loadKnowledgeBase([EXAMPLE_KB]);
    const undefinedRefs = alone.problems.filter((p) => p.code === 'RW_KB_UNDEFINED_PACKAGE');
    expect(undefinedRefs.length).toBeGreaterThan(10);
    expect(alone.problems.every((p) => p.code === 'RW_KB_UNDEFINED_PACKAGE')).toBe(true);
    const haproxy = undefinedRefs.find((p) => p.message.includes("'haproxy'") && p.file.endsWith('services.yaml'))!;
    expect([haproxy.line, haproxy.column]).toEqual([19, 16]);
  });

  it('`rollwise kb validate examples/kb` exits 0 (default index)', () => {
    requireDebianIndex();
    const r = runCli(['kb', 'validate', 'examples/kb']);
    expect(r.stderr).toContain('bookworm-main-amd64.Packages.xz');
    expect([r.status, r.stdout.trim()]).toEqual([0, 'valid: 6 files in 3 layers']);
  });
});

describe('a knowledge base with several different mistakes', () => {
  const dir = path.join(FIXTURES, 'mistakes');
  const expected = [
    'broken.yaml:9:16 RW_KB_YAML', // unclosed flow sequence, in another file: the bracket
    'shop.yaml:13:31 RW_KB_DEPRECATED', // `(> 1.0)`: the operator, a warning (it means `>= 1.0`, as dpkg reads it)
    'shop.yaml:15:20 RW_KB_TYPE', // minCpus: two
    'shop.yaml:16:18 RW_KB_BAD_VERSION', // "2.0" is not semver
    'shop.yaml:17:48 RW_KB_UNDEFINED_PACKAGE', // libbar, the second alternative
    'shop.yaml:25:17 RW_KB_UNDEFINED_SERVICE', // databse
    'shop.yaml:29:5 RW_KB_UNKNOWN_KEY', // critcality
  ];

  it('gets exactly one positioned problem per mistake, all at once', async () => {
    const kb = await loadKnowledgeBase([dir]);
    expect(brief(kb.problems)).toEqual(expected);
    const byCode = new Map(kb.problems.map((p) => [p.code, p]));
    expect(byCode.get('RW_KB_UNKNOWN_KEY')!.message).toBe("services[1]: unknown field 'critcality' (did you mean 'criticality'?)");
    expect(byCode.get('RW_KB_UNKNOWN_KEY')!.hint).toMatch(/^fields allowed here: name, description, criticality,/);
    expect(byCode.get('RW_KB_TYPE')!.message).toBe('packages[0].versions[0].environment.minCpus: expected a number greater than 0, got "two"');
    expect(byCode.get('RW_KB_UNDEFINED_SERVICE')!.hint).toContain("did you mean 'database'");
    expect(byCode.get('RW_KB_BAD_VERSION')!.hint).toContain('semver');
    expect(byCode.get('RW_KB_DEPRECATED')!.hint).toContain("'>>'");
    expect(byCode.get('RW_KB_DEPRECATED')!.severity).toBe('warning');
    expect(kb.problems.every((p) => p.hint && p.hint.length > 0)).toBe(true);
  });

  it('the CLI prints them one per line as file:line:col: CODE message (hint: ...) and exits 2', () => {
    const r = runCli(['kb', 'validate', '--no-index', rel(dir)]);
    expect(r.status).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => /^test\/kb\/fixtures\/mistakes\/([a-z]+\.yaml:\d+:\d+): (?:warning )?(RW_KB_[A-Z_]+) .+ \(hint: .+\)$/.exec(l)?.slice(1).join(' '))).toEqual(expected);
  });

  it('--json gives the same problems as data', () => {
    const r = runCli(['kb', 'validate', '--no-index', '--json', rel(dir)]);
    expect(r.status).toBe(2);
    const out = JSON.parse(r.stdout) as { valid: boolean; problems: KbProblem[] };
    expect(out.valid).toBe(false);
    expect(brief(out.problems)).toEqual(expected);
  });

  it('a missing path is a problem too, and still exit 2', () => {
    const r = runCli(['kb', 'validate', '--no-index', 'no/such/dir']);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('no/such/dir: RW_KB_IO');
  });
});

describe('checks beyond the schema', () => {
  it('migrations need a down script or irreversible: true, and their scripts must exist', async () => {
    const kb = await check({
      'a.yaml': `${HEADER()}packages:
  - name: app
    versions:
      - version: "1.0"
        migrations:
          - id: m1
            database: db
            up: m1.sql
          - id: m2
            database: db
            up: m1.sql
            down: m2-down.sql
          - id: m3
            database: db
            up: m1.sql
            down: m1.sql
            irreversible: true
`,
      'm1.sql': 'SELECT 1;\n',
    });
    expect(brief(kb.problems)).toEqual(['a.yaml:11:13 RW_KB_MIGRATION', 'a.yaml:17:19 RW_KB_MISSING_FILE', 'a.yaml:22:27 RW_KB_MIGRATION']);
  });

  it('migration scripts must be inside the knowledge base\'s folder; config file paths are absolute without . or ..', async () => {
    const kb = await check({
      'a.yaml': `${HEADER()}packages:
  - name: app
    versions:
      - version: "1.0"
        migrations:
          - id: m1
            database: db
            up: ../../etc/shadow
            irreversible: true
          - id: m2
            database: db
            up: /etc/passwd
            irreversible: true
          - id: m3
            database: db
            up: sub/m3.sql
            irreversible: true
configFiles:
  - path: /etc/app/../../root/.ssh/id_rsa
    package: app
  - path: /etc/app/app.conf
    package: app
`,
      'sub/m3.sql': 'SELECT 1;\n',
    });
    expect(brief(kb.problems)).toEqual(['a.yaml:13:17 RW_KB_INVALID_VALUE', 'a.yaml:17:17 RW_KB_INVALID_VALUE', 'a.yaml:24:11 RW_KB_INVALID_VALUE']);
    expect(kb.problems[0]!.message).toMatch(/outside the knowledge base's folder/);
    // the operator may allow scripts elsewhere (those that exist); config paths with '..' stay refused
    const allowed = await loadKnowledgeBase([temp!.dir], { allowOutsidePaths: true });
    expect(brief(allowed.problems)).toEqual(['a.yaml:24:11 RW_KB_INVALID_VALUE']);
  });

  it('service dependency cycles, restart without a method, metric without a threshold', async () => {
    const kb = await check({
      's.yaml': `${HEADER()}services:
  - name: a
    criticality: low
    dependsOn: [b]
    restart: {}
  - name: b
    criticality: low
    dependsOn: [a]
    metrics:
      - name: m
        promql: up
`,
    });
    expect(brief(kb.problems)).toEqual(['s.yaml:10:14 RW_KB_MISSING_KEY', 's.yaml:13:17 RW_KB_CYCLE', 's.yaml:15:9 RW_KB_MISSING_KEY']);
    expect(kb.problems[1]!.message).toContain('a → b → a');
  });

  it('duplicates in one layer, the same thing at equal precedence in two layers, disagreeing layer headers', async () => {
    const svc = (c: string) => `services:\n  - name: web\n    criticality: ${c}\n`;
    const kb = await check({
      'a.yaml': `${HEADER('one', 50)}${svc('low')}  - name: web\n    criticality: high\n`,
      'b.yaml': `${HEADER('two', 50)}${svc('high')}`,
      'c.yaml': `${HEADER('one', 60)}`,
    });
    expect(brief(kb.problems)).toEqual(['a.yaml:9:11 RW_KB_DUPLICATE', 'b.yaml:7:11 RW_KB_AMBIGUOUS', 'c.yaml:5:15 RW_KB_LAYER']);
  });

  it('a versioned reference to a semver package must use a semver version', async () => {
    const kb = await check({
      'a.yaml': `${HEADER()}packages:
  - name: app
    scheme: semver
    versions:
      - version: "2.0.0"
  - name: lb
    versions:
      - version: "1-1"
        depends: ["app (>= 2.0)"]
`,
    });
    expect(brief(kb.problems)).toEqual(['a.yaml:14:28 RW_KB_BAD_VERSION']);
  });

  it('versions YAML reads as numbers and unquoted octal modes get a hint to quote them', async () => {
    const kb = await check({
      'a.yaml': `${HEADER()}packages:
  - name: app
    versions:
      - version: 2.10
configFiles:
  - path: /etc/app.conf
    package: app
    mode: 0640
`,
    });
    expect(brief(kb.problems)).toEqual(['a.yaml:9:18 RW_KB_TYPE', 'a.yaml:13:11 RW_KB_TYPE']);
    expect(kb.problems.map((p) => p.message)).toEqual(['packages[0].versions[0].version: expected non-empty text, got the number 2.1', 'configFiles[0].mode: expected text, got the number 640']);
    expect(kb.problems.every((p) => p.hint?.startsWith('put it in quotes'))).toBe(true);
  });

  it('a missing required key is pointed at the mapping that lacks it', async () => {
    const kb = await check({ 'a.yaml': `${HEADER()}services:\n  - name: web\n` });
    expect(brief(kb.problems)).toEqual(['a.yaml:7:5 RW_KB_MISSING_KEY']);
    expect(kb.problems[0]!.message).toBe('services[0].criticality: missing');
    expect(kb.problems[0]!.hint).toBe("add 'criticality:' with one of 'critical', 'high', 'medium', 'low'");
  });

  it('a file that is not a knowledge-base file at all, and an empty file', async () => {
    // a mapping with none of a knowledge base's keys (e.g. /etc/shadow read as YAML): one problem, its keys not quoted
    const kb = await check({ 'a.yaml': 'hello: world\nroot: $y$j9T$secret-hash\n', 'b.yaml': '', 'c.yaml': 'kind: KnowledgeBase\nhello: world\n' });
    expect(brief(kb.problems).sort()).toEqual([
      'a.yaml:1:1 RW_KB_TYPE', 'b.yaml:1:1 RW_KB_EMPTY', 'c.yaml:1:1 RW_KB_MISSING_KEY', 'c.yaml:1:1 RW_KB_MISSING_KEY', 'c.yaml:2:1 RW_KB_UNKNOWN_KEY',
    ]);
    expect(kb.problems.find((p) => p.file.endsWith('a.yaml'))!.message).toBe('not a knowledge-base document: none of its keys is one a knowledge base has (its content is not shown)');
    expect(kb.problems.map((p) => p.message).join('\n')).not.toMatch(/secret-hash|root/);
    expect(kb.problems.filter((p) => p.code === 'RW_KB_MISSING_KEY').map((p) => p.message).sort()).toEqual([
      'apiVersion: missing', 'layer: missing',
    ]);
  });

  it('references resolve against a distribution index layer, including provided (virtual) names', async () => {
    const kb = await loadKnowledgeBase([path.join(FIXTURES, 'mini')]);
    expect(kb.problems.map(formatProblem)).toEqual([]);
    expect(kb.layers.map((l) => [l.name, l.origin, l.precedence, l.records.length])).toEqual([['org', 'yaml', 50, 1], ['debian:packages', 'index', 10, 3]]);
    const without = await loadKnowledgeBase([path.join(FIXTURES, 'mini', 'org.yaml')]);
    expect(brief(without.problems)).toEqual(['org.yaml:10:20 RW_KB_UNDEFINED_PACKAGE', 'org.yaml:10:40 RW_KB_UNDEFINED_PACKAGE', 'org.yaml:10:64 RW_KB_UNDEFINED_PACKAGE', 'org.yaml:11:22 RW_KB_UNDEFINED_PACKAGE']);
  });

  it('a file whose layer header is wrong still gets its other problems reported', async () => {
    const kb = await check({ 'a.yaml': `apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer:\n  name: org\npackages:\n  - name: app\n    versions:\n      - version: "1.0"\n        depends: ["nope (>> 1)"]\n` });
    expect(brief(kb.problems)).toEqual(['a.yaml:4:3 RW_KB_MISSING_KEY', 'a.yaml:9:20 RW_KB_UNDEFINED_PACKAGE']);
    expect(kb.layers).toEqual([]);
  });

  it('words schema problems for a person: YAML path, what is expected, what was found, never zod words', async () => {
    const kb = await check({
      'a.yaml': `apiVersion: rollwise/v1
kind: KnowledgeBase
layer:
  name: org
  precedence: 5000
  trust: organisaton
packages:
  - name: Foo
    versions: []
services:
  - name: web
    criticality: high
    restart:
      command: []
`,
    });
    const zodWording = /expected \w+, received|Invalid input|Invalid option|Invalid string|Unrecognized key|Too (big|small)|\bRequired\b|must match pattern|received undefined/i;
    expect(kb.problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.message} (hint: ${p.hint})`)).toEqual([
      '5:15 RW_KB_INVALID_VALUE layer.precedence: expected a whole number 0–1000, got 5000 (hint: higher wins when two layers describe the same thing (distribution index 10, organisation 50, learned 80 by convention))',
      "6:10 RW_KB_INVALID_VALUE layer.trust: expected one of 'distribution', 'organisation', 'learned', 'observed', got \"organisaton\" (hint: did you mean 'organisation'? how much to believe this layer)",
      '8:11 RW_KB_INVALID_VALUE packages[0].name: "Foo" is not in the accepted form (hint: a Debian package name (lowercase letters, digits, + - .))',
      '9:15 RW_KB_INVALID_VALUE packages[0].versions: expected a non-empty list, got an empty list (hint: see docs/knowledge-base.md for this field)',
      '14:16 RW_KB_INVALID_VALUE services[0].restart.command: expected a non-empty list, got an empty list (hint: explicit restart command as an argument array)',
    ]);
    for (const p of kb.problems) expect(`${p.message} ${p.hint}`).not.toMatch(zodWording);
  });

  it('never throws for bad input, and errors are not warnings', async () => {
    const kb = await check({ 'a.yaml': `${HEADER()}packages: 7\nservices: [1, "x", {name: 3}]\nknownIssues: {}\n` });
    expect(hasErrors(kb.problems)).toBe(true);
    expect(brief(kb.problems)).toEqual(['a.yaml:6:11 RW_KB_TYPE', 'a.yaml:7:12 RW_KB_TYPE', 'a.yaml:7:15 RW_KB_TYPE', 'a.yaml:7:27 RW_KB_TYPE', 'a.yaml:7:20 RW_KB_MISSING_KEY', 'a.yaml:8:14 RW_KB_TYPE'].sort(byPos));
  });
});

function byPos(a: string, b: string): number {
  const pa = a.split(' ')[0]!.split(':').map(Number);
  const pb = b.split(' ')[0]!.split(':').map(Number);
  return (pa[1]! - pb[1]!) || (pa[2]! - pb[2]!);
}
