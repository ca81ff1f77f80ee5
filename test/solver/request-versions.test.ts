import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEmptyRecord, type PackageRecord } from '../../src/kb/index.js';
import { createProblem, solveRequest } from '../../src/solver/index.js';
import { isRollwiseError } from '../../src/shared/index.js';
import { runCli } from '../helpers/cli.js';

function semverApp(version: string): PackageRecord {
  return createEmptyRecord('webapp', version, 'all', { layer: 'org', source: 'test' }, 'semver');
}

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('versions written in a request follow the scheme of the package they name', () => {
  const problem = createProblem([semverApp('1.8.3'), semverApp('2.0.0')]);

  it('accepts a valid semver version and solves', () => {
    const r = solveRequest(problem, { items: [{ kind: 'install', name: 'webapp', op: '=', version: '2.0.0' }] });
    expect(r.kind).toBe('solution');
  });

  it('rejects a short semver version with RW_BAD_VERSION and a hint, instead of crashing', () => {
    const e = errorOf(() => solveRequest(problem, { items: [{ kind: 'install', name: 'webapp', op: '>=', version: '2.0' }] }));
    expect(isRollwiseError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('RW_BAD_VERSION');
    expect((e as { hint: string }).hint).toMatch(/2\.0\.0/);
  });

  it('rejects a malformed Debian version on the CLI with exit status 2', () => {
    const r = runCli(['solve', '--index', 'test/fixtures/debian/Packages', '--install', 'nginx (>= a:b)']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_BAD_VERSION/);
  });
});

describe('options after a subcommand belong to it', () => {
  it('`plan show ID --version N` reads the plan version, not the program version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-opt-'));
    try {
      const r = runCli(['plan', 'show', 'deadbeef', '--version', '2', '--store', join(dir, 's.db')]);
      expect(r.stdout).not.toMatch(/^0\.1\.0/);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/RW_NOT_FOUND/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
