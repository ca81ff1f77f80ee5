/**
 * Review end to end on the example knowledge base and fleet (the real Debian 12 index): the
 * impact is predicted and stored with every plan version, `rollwise impact` explains it, and
 * approving a version with a critical impact needs a successful rehearsal or a named override
 * with a reason (recorded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { requireDebianIndex } from '../kb/helpers.js';

let dir: string;
let store: string;
let id: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-review-'));
  store = path.join(dir, 'store.db');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('impact and approval gates', () => {
  it('stores the impact with the plan and shows it in plan show, impact and --json', () => {
    const index = requireDebianIndex();
    // the store's deployment history feeds the prediction
    const imported = runCli(['history', 'import', 'test/analysis/fixtures/history.yaml', '--store', store]);
    expect(imported.stdout, imported.stderr).toMatch(/^imported 3 entries from /);
    expect(runCli(['history', 'list', '--store', store]).stdout).toMatch(/shopfront upgrade: 1 of 2 failed; smoothed failure rate 3\.8%/);
    const r = runCli(['plan', '--kb', 'examples/kb', '--index', index, '--inventory', 'examples/fleet/inventory.yaml', '--install', 'shopfront=2.0.0', '--store', store, '--json']);
    expect(r.status, r.stderr).toBe(1); // conflicts to review
    // a version not of the package's scheme (shopfront is semver) is bad input, not a crash
    const bad = runCli(['plan', '--kb', 'examples/kb', '--index', index, '--inventory', 'examples/fleet/inventory.yaml', '--install', 'shopfront=v2.0', '--store', store]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^rollwise: RW_BAD_VERSION: 'v2\.0' is not a valid semantic version for shopfront: .*e\.g\. 2\.0\.0\)$/);
    const p = JSON.parse(r.stdout) as { id: string; impact: { groups: Array<{ group: string; planned: boolean; risk: Record<string, { level: string; probability: number; reasons: Array<{ kind: string; issue?: string }> }> }> } };
    id = p.id;
    const planned = p.impact.groups.filter((g) => g.planned);
    expect(planned.length).toBeGreaterThan(0);
    // the early-6.1-kernel group: KI-0001 makes its performance risk critical, with the issue as a reason
    const ki = planned.find((g) => g.risk.performance!.reasons.some((x) => x.kind === 'known-issue' && x.issue === 'KI-0001'));
    expect(ki?.risk.performance!.level).toBe('critical');
    for (const g of planned) for (const k of Object.values(g.risk)) expect(k.probability).toBeGreaterThanOrEqual(0);
    const shown = runCli(['plan', 'show', id, '--store', store]);
    expect(shown.stdout).toMatch(/impact: outage critical \d+%.*services reached: loadbalancer, shopfront/);
    const impact = runCli(['impact', id, '--store', store]);
    expect(impact.status, impact.stderr).toBe(0);
    expect(impact.stdout).toMatch(/known issue KI-0001 \(high, performance\)/);
    expect(impact.stdout).toMatch(/loadbalancer \[critical\] outage \(on other hosts\): shopfront \(upgrade\) → runs service shopfront → loadbalancer depends on shopfront/);
    expect(impact.stdout).toMatch(/shopfront 2\.0\.0 runs migration 0013_split_customer_name up on shop \(irreversible\)/);
    expect(runCli(['impact', id, '--store', store, '--reasons', '40']).stdout).toMatch(/shopfront: 1 of 2 earlier upgrades failed \(smoothed with a prior of 1 in 50\)/);
  });

  it('refuses to approve a critical impact nobody rehearsed, unless overridden by name with a reason (recorded)', () => {
    const resolved = runCli(['plan', 'resolve', id, '--choose', 'c1=r1', '--choose', 'c2=r1', '--choose', 'c3=r2', '--choose', 'c4=r1', '--store', store]);
    expect(resolved.status, resolved.stderr).toBe(0);
    const refused = runCli(['plan', 'approve', id, '--store', store]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/RW_APPROVAL_GATE: plan \w+ v2 cannot be approved: .*rehearsal: critical .* risk on \d+ groups and no successful rehearsal/);
    expect(refused.stderr).toMatch(/irreversible-migration:shop\/0013_split_customer_name: migration 0013_split_customer_name on shop cannot be undone/);
    expect(refused.stderr).toMatch(/--override 'irreversible-migration:shop\/0013_split_customer_name' --override 'rehearsal' --reason TEXT/);
    // one override is not enough while another gate holds
    expect(runCli(['plan', 'approve', id, '--store', store, '--override', 'rehearsal', '--reason', 'staging is down']).stderr).toMatch(/RW_APPROVAL_GATE: .*irreversible-migration/);
    expect(runCli(['plan', 'approve', id, '--store', store, '--override', 'rehearsal']).stderr).toMatch(/RW_USAGE: --override needs --reason/);
    expect(runCli(['plan', 'approve', id, '--store', store, '--override', 'rehersal', '--reason', 'typo']).stderr).toMatch(/RW_USAGE: --override 'rehersal' names no gate/);
    const ok = runCli(['plan', 'approve', id, '--store', store, '--override', 'rehearsal', '--override', 'irreversible-migration:shop/0013_split_customer_name', '--reason', 'staging is down; canary watched by hand', '--by', 'alice']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/overriding rehearsal: staging is down; canary watched by hand/);
    const json = JSON.parse(runCli(['plan', 'show', id, '--store', store, '--json']).stdout) as { status: string; records: Array<{ kind: string; body: unknown }> };
    expect(json.status).toBe('approved');
    expect(json.records.filter((r) => r.kind === 'override').map((r) => r.body)).toEqual([
      { name: 'rehearsal', reason: 'staging is down; canary watched by hand', by: 'alice' },
      { name: 'irreversible-migration:shop/0013_split_customer_name', reason: 'staging is down; canary watched by hand', by: 'alice' },
    ]);
  });

  it('prints the rollback plan of each changing group and rehearses it in the model (recorded with the version)', () => {
    const rb = runCli(['rollback-plan', id, '--store', store, '--json']);
    expect(rb.status, rb.stderr).toBe(0);
    const groups = (JSON.parse(rb.stdout) as { groups: Array<{ rollback: { steps: Array<{ kind: string; action?: string }>; flags: Array<{ kind: string; migration?: string }> } }> }).groups;
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      const kinds = g.rollback.steps.map((x) => x.kind);
      // services stopped first, started (and checked) last; the schema back before the old package
      expect(kinds[0]).toBe('service');
      expect(kinds.indexOf('restore-database')).toBeLessThan(kinds.indexOf('packages'));
      expect(kinds.at(-1)).toBe('health');
      expect(g.rollback.flags).toContainEqual(expect.objectContaining({ kind: 'irreversible-migration', migration: '0013_split_customer_name' }));
    }
    const text = runCli(['rollback-plan', id, '--store', store, '--group', '1']).stdout;
    expect(text).toMatch(/restore shop from the backup taken before deploying \(undoes 0012_add_cart_expiry, 0013_split_customer_name/);
    const re = runCli(['rehearse', id, '--store', store]);
    expect(re.status, re.stderr).toBe(0);
    expect(re.stdout).toMatch(/restored except flagged differences/);
    expect(re.stdout).not.toMatch(/silent/);
    const json = JSON.parse(runCli(['plan', 'show', id, '--store', store, '--json']).stdout) as { records: Array<{ kind: string; body: { where?: string; ok?: boolean } }> };
    expect(json.records.filter((r) => r.kind === 'rehearsal').map((r) => [r.body.where, r.body.ok])).toEqual([['model', true]]);
  });
});
