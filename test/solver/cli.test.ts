/**
 * The resolver's commands run as a user would: a small Packages index and dpkg status in a
 * temporary directory; the CUDF command checked by the Mancoosi `cudf-check`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

let dir: string;
const stanza = (fields: Record<string, string | undefined>) =>
  Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rw-solver-cli-'));
  const pkgs = [
    { Package: 'web-app', Version: '2.1', Architecture: 'all', Depends: 'libssl3 (>= 3.1), python3:any' },
    { Package: 'web-app', Version: '2.0', Architecture: 'all', Depends: 'libssl3 (>= 3.0)' },
    { Package: 'libssl3', Version: '3.0.11', Architecture: 'amd64' },
    { Package: 'libssl3', Version: '3.1.4', Architecture: 'amd64' },
    { Package: 'python3', Version: '3.11.2-1', Architecture: 'amd64', 'Multi-Arch': 'allowed' },
    { Package: 'base-files', Version: '12', Architecture: 'amd64', Essential: 'yes' },
    { Package: 'orphan', Version: '1', Architecture: 'all', Depends: 'ghost (>= 2)' },
    { Package: 'needs-orphan', Version: '1', Architecture: 'all', Depends: 'orphan' },
  ];
  writeFileSync(join(dir, 'Packages'), pkgs.map((p) => stanza({ ...p, Maintainer: 'T <t@example.org>', Description: 'test' })).join('\n\n') + '\n');
  writeFileSync(
    join(dir, 'status'),
    [
      stanza({ Package: 'libssl3', Status: 'install ok installed', Version: '3.0.11', Architecture: 'amd64', Maintainer: 'T <t@example.org>', Description: 'x' }),
      stanza({ Package: 'base-files', Status: 'install ok installed', Version: '12', Architecture: 'amd64', Essential: 'yes', Maintainer: 'T <t@example.org>', Description: 'x' }),
    ].join('\n\n') + '\n',
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollwise solve / why / why-not', () => {
  it('by default prefers the version that changes least: web-app 2.0 keeps the installed libssl3', () => {
    const r = runCli(['solve', '--index', join(dir, 'Packages'), '--status', join(dir, 'status'), '--install', 'web-app', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).transaction).toEqual([{ action: 'install', name: 'web-app', architecture: 'all', to: '2.0' }]);
  });

  it('prints the transaction as JSON, upgrading the installed library as needed', () => {
    const r = runCli(['solve', '--index', join(dir, 'Packages'), '--status', join(dir, 'status'), '--install', 'web-app (>= 2.1)', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.kind).toBe('solution');
    expect(out.transaction).toEqual([
      { action: 'upgrade', name: 'libssl3', architecture: 'amd64', from: '3.0.11', to: '3.1.4' },
      { action: 'install', name: 'python3', architecture: 'amd64', to: '3.11.2-1' },
      { action: 'install', name: 'web-app', architecture: 'all', to: '2.1' },
    ]);
    expect(out.reasons['libssl3=3.1.4']).toEqual(['requested: install web-app (>= 2.1)', 'web-app 2.1 depends on libssl3 (>= 3.1)']);
  });

  it('explains a pinned conflict and lists verified resolutions; exit 1', () => {
    const r = runCli(['solve', '--index', join(dir, 'Packages'), '--status', join(dir, 'status'), '--install', 'web-app=2.1', '--pin', 'libssl3=3.0.11']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('web-app 2.1 depends on libssl3 (>= 3.1)');
    expect(r.stdout).toContain('the request asks to pin libssl3 (= 3.0.11)');
    expect(r.stdout).toContain('install web-app=2.0 instead of web-app (= 2.1)');
  });

  it('why shows the chain; why-not explains what keeps a package out', () => {
    const why = runCli(['why', 'python3', '--index', join(dir, 'Packages'), '--install', 'web-app=2.1']);
    expect(why.status, why.stderr).toBe(0);
    expect(why.stdout).toContain('web-app 2.1 depends on python3:any');
    const whyNot = runCli(['why-not', 'orphan', '--index', join(dir, 'Packages'), '--install', 'web-app']);
    expect(whyNot.stdout).toContain('orphan 1 depends on ghost (>= 2), which no available package satisfies');
  });

  it('rejects bad input with a code and changes nothing', () => {
    const r = runCli(['solve', '--index', join(dir, 'Packages'), '--install', 'Bad_Name']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_BAD_NAME/);
    const c = runCli(['solve', '--index', join(dir, 'Packages'), '--install', 'web-app', '--criteria', '-removed,-bogus']);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/RW_USAGE.*bogus/);
    const m = runCli(['solve', '--index', join(dir, 'nope'), '--install', 'web-app']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/RW_IO/);
  });
});

describe('rollwise kb check-installable', () => {
  it('lists the broken packages with explanations as JSON', () => {
    const r = runCli(['kb', 'check-installable', join(dir, 'Packages'), '--json']);
    expect(r.status, r.stderr).toBe(1); // some are broken, as dose-distcheck says it
    const out = JSON.parse(r.stdout);
    expect(out.broken.map((b: { package: string }) => b.package).sort()).toEqual(['needs-orphan', 'orphan']);
    const chain = out.broken.find((b: { package: string }) => b.package === 'needs-orphan').explanation;
    expect(chain).toContain('needs-orphan 1 depends on orphan, and orphan 1 is not installable');
    expect(chain).toContain('ghost (>= 2), which no available package satisfies');
  });
});

describe('rollwise cudf', () => {
  const problem = `preamble: 

package: a
version: 1
depends: b >= 2 | c
conflicts: d

package: b
version: 1
installed: true

package: b
version: 2

package: c
version: 1
depends: e

package: d
version: 1
installed: true

package: e
version: 1

request: 
install: a
`;
  it('writes a solution that cudf-check accepts, optimal under paranoid', () => {
    const which = spawnSync('which', ['cudf-check']);
    if (which.status !== 0) throw new Error('cudf-check is missing: apt-get install cudf-tools');
    writeFileSync(join(dir, 'p.cudf'), problem);
    const r = runCli(['cudf', '--criteria', 'paranoid', join(dir, 'p.cudf'), join(dir, 'p.sol')]);
    expect(r.status, r.stderr).toBe(0);
    const sol = readFileSync(join(dir, 'p.sol'), 'utf8');
    const check = spawnSync('cudf-check', ['-cudf', join(dir, 'p.cudf'), '-sol', join(dir, 'p.sol')], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toMatch(/is_solution: true/);
    // paranoid: remove d (forced), and b 1 -> 2 changes one package where c + e would add two
    expect(sol).toContain('package: b\nversion: 2');
    expect(sol).not.toContain('package: d\n');
    expect(sol).not.toContain('package: c\n');
  });

  it('writes FAIL with the explanation when there is no solution (reading standard input)', () => {
    const r = runCli(['cudf'], { input: problem.replace('install: a', 'install: a, d') });
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('FAIL\n')).toBe(true);
    expect(r.stdout).toContain('a 1 conflicts');
  });
});
