// End to end on the demo lab (real dpkg roots, runit, Prometheus): shopfront 2.0.0 is deployed,
// the canary's error-rate check fails on the us host (the one with the legacy plugin) and the
// deployment rolls back; the deployment service then records the outcome in the history, prints
// the culprit in one line and, with a learned layer configured, records it as a known issue. `rollwise
// learn` prints the same analysis and records it in another file (atomically, keeping what the
// file had). A new plan made with the learned layer flags the us hosts only, its impact counts the
// known issue and the failed history, and its approval is gated on it. Needs root, dpkg, apt,
// runit and prometheus (a missing one fails naming its Debian package).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findingGates, buildRequest } from '../../src/planner/index.js';
import {
  analysePlan, approvePlan, openStore, planFleet, planOnDemoLab, rehearsePlanOnStaging, startDemoLab, startDeployment, demoStagingGroup,
  type DemoLab, type DeployStore,
} from '../../src/app/index.js';
import type { HistoryStore } from '../../src/analysis/index.js';
import { runCliInProcess } from '../app/cli-in-process.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'rw-learn-e2e-'));
let lab: DemoLab | undefined;
afterAll(async () => {
  await lab?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('learn after a rollback on the demo lab', () => {
  it('finds shopfront 2.0.0 with the legacy plugin as the culprit, records it, and the next plan flags the us hosts', async () => {
    lab = await startDemoLab({ dir: path.join(work, 'lab'), hostsPerGroup: 2 });
    const dbFile = path.join(work, 'store', 'rollwise.db');
    const store = (await openStore(dbFile)) as unknown as DeployStore & HistoryStore & { close(): Promise<void> };
    const kbDir = path.join(work, 'kb');
    mkdirSync(kbDir);
    const learnedFile = path.join(kbDir, 'learned.yaml');
    let deploymentId: string;
    try {
      const { plan, knowledge, analysis } = await planOnDemoLab(lab, store);
      const group = demoStagingGroup(plan);
      const rehearsal = await rehearsePlanOnStaging({ store, plan, knowledge, impact: analysis.impact, root: lab.staging, name: 'lab-staging', group: group.key });
      expect(rehearsal.kind).toBe('rehearsed');
      expect((await approvePlan(store, plan.id, 'tester')).kind).toBe('approved');

      // the deployment service as `rollwise deploy` runs it, with a learned layer configured; its progress lines are what the CLI prints
      const lines: string[] = [];
      const run = await startDeployment({
        store, plan: plan.id, waves: '1,100%', bake: '10s', debCacheDir: path.join(lab.dir, 'debs'), prometheus: lab.prometheus.url,
        learnedKb: learnedFile, onProgress: (t) => lines.push(t),
      });
      expect(run.result).toMatchObject({ kind: 'finished', status: 'rolled-back' });
      deploymentId = run.id;
      // the controller's conclusion, in one line, and where it recorded it
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^learn: shopfront 2\\.0\\.0 \\(with shop-legacy-plugin installed\\) caused the rollback of deployment ${deploymentId} \\(shopfront/error-rate [0-9.]+ vs [0-9.]+\\); confidence \\d+%$`)));
      expect(lines).toContain(`learn: recorded as known issue learned-${deploymentId}-shopfront in ${learnedFile}; the next plan with that knowledge base flags it`);

      // the deployment service recorded the outcome: the us group rolled back, the eu group (rolled back with it) not at all
      const history = await store.getHistory(['shopfront']);
      expect(history).toEqual([expect.objectContaining({ package: 'shopfront', change: 'upgrade', outcome: 'rolled-back', host: 'shop-03' })]);

      // ...and the culprit, as a known issue in the configured learned layer
      const layer = parse(readFileSync(learnedFile, 'utf8')) as { layer: { trust: string; precedence: number }; knownIssues: Array<Record<string, unknown>> };
      expect(layer.layer).toMatchObject({ trust: 'learned', precedence: 80 });
      expect(layer.knownIssues).toHaveLength(1);
      const issue = layer.knownIssues[0]!;
      expect(issue).toMatchObject({
        id: `learned-${deploymentId}-shopfront`, severity: 'critical', source: `rollwise learn: rollback of deployment ${deploymentId}`,
        when: { packages: ['shopfront (= 2.0.0)', 'shop-legacy-plugin'] }, effect: { impact: 'outage', services: ['shopfront'] },
      });
      expect(issue.title).toMatch(new RegExp(`^shopfront 2\\.0\\.0 \\(with shop-legacy-plugin installed\\) caused the rollback of deployment ${deploymentId} \\(shopfront/error-rate [0-9.]+ vs [0-9.]+\\)$`));
      expect((issue.evidence as string[]).join('\n')).toContain('shopfront/error-rate failed on shop-03');
    } finally {
      await store.close();
    }

    // `rollwise learn`: the same conclusion; into another file that has an entry of its own, which stays
    const other = path.join(work, 'other-learned.yaml');
    writeFileSync(other, [
      '# kept by hand too',
      'apiVersion: rollwise/v1', 'kind: KnowledgeBase',
      'layer: { name: learned, precedence: 80, trust: learned }',
      'functional:', '  impacts:', '    - { package: libjemalloc2, service: redis, impact: resources }', '',
    ].join('\n'));
    const text = await runCliInProcess(['learn', deploymentId, '--write', other, '--store', dbFile]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('failed: shop-03 (group ');
    expect(text.stdout).toContain('healthy through the same checks: shop-01');
    expect(text.stdout).toMatch(/1\. upgrade shopfront 1\.8\.3 → 2\.0\.0 {2}confidence \d+%/);
    expect(text.stdout).toContain('fails only where shop-legacy-plugin is installed');
    expect(text.stdout).toContain('reaches service shopfront, whose check shopfront/error-rate failed');
    expect(text.stdout).toMatch(/Conclusion: shopfront 2\.0\.0 \(with shop-legacy-plugin installed\) caused the rollback/);
    expect(text.stdout).toContain('(0 added, 1 already there)');
    expect(text.stdout).toContain(`Recorded: known issue learned-${deploymentId}-shopfront added`);
    const merged = readFileSync(other, 'utf8');
    expect(merged).toContain('# kept by hand too');
    expect(merged).toContain('libjemalloc2');
    expect(merged).toContain(`learned-${deploymentId}-shopfront`);
    // no temporary file is left beside it
    expect(readdirSync(work).filter((f) => f.includes('.tmp'))).toEqual([]);
    // learning again replaces the entry, never duplicates it
    const again = await runCliInProcess(['learn', deploymentId, '--write', other, '--store', dbFile, '--json']);
    const json = JSON.parse(again.stdout) as { written: { replaced: string[] }; analysis: { conclusion: { kind: string } } };
    expect(json.written.replaced).toEqual([`learned-${deploymentId}-shopfront`]);
    expect(json.analysis.conclusion.kind).toBe('culprit');
    expect((parse(readFileSync(other, 'utf8')) as { knownIssues: unknown[] }).knownIssues).toHaveLength(1);

    // the next plan with the learned layer flags the us hosts (the plugin's) and not the eu ones
    const store2 = (await openStore(dbFile)) as unknown as DeployStore & HistoryStore & { close(): Promise<void> };
    try {
      const { plan, knowledge } = await planFleet({
        inventory: [lab.inventory], local: false, sshHost: [], kb: [...lab.kb, kbDir], index: [lab.index], skipUnreachable: false,
        request: buildRequest({ install: ['shopfront=2.0.0'] }),
      });
      const byPlugin = (withPlugin: boolean) => plan.groups.find((g) => g.installed.some((p) => p.name === 'shop-legacy-plugin') === withPlugin)!;
      const us = byPlugin(true);
      const eu = byPlugin(false);
      expect(us.findings).toEqual([expect.objectContaining({ kind: 'known-issue', rule: `learned-${deploymentId}-shopfront`, severity: 'critical', source: `rollwise learn: rollback of deployment ${deploymentId}` })]);
      expect(eu.findings.filter((f) => f.kind === 'known-issue')).toEqual([]);
      expect(findingGates(plan)).toEqual([expect.objectContaining({ name: `learned-${deploymentId}-shopfront`, kind: 'known-issue', groups: [us.key] })]);
      const analysis = await analysePlan(plan, knowledge, await store2.getHistory());
      const usImpact = analysis.impact.groups.find((g) => g.group === us.key)!;
      expect(usImpact.risk.outage.reasons).toEqual(expect.arrayContaining([
        expect.objectContaining({ kind: 'known-issue', issue: `learned-${deploymentId}-shopfront`, severity: 'critical' }),
        expect.objectContaining({ kind: 'history', package: 'shopfront', change: 'upgrade', runs: 1, failures: 1 }),
      ]));
      const euImpact = analysis.impact.groups.find((g) => g.group === eu.key)!;
      expect(euImpact.risk.outage.reasons.filter((r) => r.kind === 'known-issue')).toEqual([]);
      expect(usImpact.risk.outage.probability).toBeGreaterThan(euImpact.risk.outage.probability);
    } finally {
      await store2.close();
    }
  }, 300_000);
});
