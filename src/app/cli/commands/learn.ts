/**
 * `rollwise learn DEPLOYMENT [--write FILE] [--json]`: what a deployment taught. Prints the
 * culprit analysis of its rollback (failing and healthy hosts, the failed checks, the ranked
 * candidate changes with their confidence and reasons), records its outcome in the deployment
 * history, and records the culprit as a known issue in a learned layer (`--write FILE`, else the
 * one ROLLWISE_LEARNED_KB names) so the next plan flags it. Parse, call services/learn.ts, render.
 */
import type { Command } from 'commander';
import { RollwiseError } from '../../../shared/index.js';
import type { Candidate, CandidateReason, CulpritAnalysis } from '../../../learn/index.js';
import {
  findDeployment, inKnowledgeBase, learnedLayerFile, learnFromDeployment, openStore, recordHistory, writeLearnedLayer, LEARNED_KB_ENV,
  type LayerWrite, type LearnStore,
} from '../../services/index.js';
import type { Palette } from '../../render/index.js';
import { paletteFor } from '../terminal.js';

const pct = (x: number): string => `${Math.round(x * 100)}%`;

function reasonWords(r: CandidateReason): string {
  switch (r.kind) {
    case 'on-failing-hosts': return `on ${r.hosts.length} of ${r.of} failing host(s) (${r.hosts.join(', ')})`;
    case 'absent-from-healthy': return `not on the healthy host(s) ${r.healthy.join(', ')}`;
    case 'also-on-healthy': return `also on healthy host(s) ${r.hosts.join(', ')}`;
    case 'only-with': return `fails only where ${r.packages.join(', ')} ${r.packages.length === 1 ? 'is' : 'are'} installed (every failing host has it, no healthy one)`;
    case 'reaches-failed-service': return `reaches service ${r.service}, whose check ${r.checks.join(', ')} failed`;
    case 'reaches-no-failed-service': return `reaches none of the failed services (${r.services.join(', ')})`;
    case 'named-by-step-output': return `named by dpkg's error on ${r.hosts.join(', ')}`;
    case 'indistinguishable-from': return `the evidence cannot tell it from ${r.packages.join(', ')}`;
  }
}

function changeWords(c: Candidate): string {
  return `${c.action} ${c.package}${c.from !== undefined ? ` ${c.from}` : ''}${c.to !== undefined ? ` → ${c.to}` : ''}`;
}

export function renderLearn(a: CulpritAnalysis, conclusion: string, p: Palette, extra: string[]): string {
  const out: string[] = [];
  out.push(p.bold(`Deployment ${a.deployment}${a.plan ? ` (plan ${a.plan.id} v${a.plan.version})` : ''}: ${a.status} at ${a.at}`));
  for (const f of a.failing) out.push(`  failed: ${f.host} (group ${f.group}): ${f.because.map((b) => (b.kind === 'check' ? `check ${b.check}` : b.reason)).join('; ')}`);
  if (a.healthy.length) out.push(`  healthy through the same checks: ${a.healthy.join(', ')}`);
  const unchanged = a.unchanged;
  const failedUnchanged = unchanged.filter((u) => u.failed).map((u) => u.host);
  const passedUnchanged = unchanged.filter((u) => !u.failed).map((u) => u.host);
  if (failedUnchanged.length) out.push(`  failed with no change from this deployment (already had what the plan installs): ${failedUnchanged.join(', ')}`);
  if (passedUnchanged.length) out.push(`  no change from this deployment (already had what the plan installs): ${passedUnchanged.join(', ')}`);
  for (const c of a.checks) {
    const values = c.failingValue !== undefined ? `: ${c.failingValue}${c.baselineValue !== undefined ? ` against ${c.baselineValue} (${c.against === 'other-hosts' ? 'the other hosts' : c.against})` : ''}` : '';
    out.push(`  check ${c.check} failed on ${c.hosts.join(', ')}${values}${c.wave !== undefined ? ` in wave ${c.wave}` : ''}`);
  }
  if (a.candidates.length) {
    out.push('', p.bold('Candidate changes, most likely first:'));
    a.candidates.forEach((c, i) => {
      out.push(`  ${i + 1}. ${changeWords(c)}  confidence ${pct(c.confidence)}`);
      for (const r of c.reasons) out.push(`       ${reasonWords(r)}`);
    });
  }
  out.push('', `${p.bold('Conclusion:')} ${conclusion}`);
  if (a.bisect) {
    out.push(`  Bisection would separate ${a.bisect.packages.join(', ')}: deploy half of them to staging and watch the same metrics. Rollwise does not run it: a rehearsal on staging runs health checks, not the metric checks that failed here.`);
  }
  out.push(...extra);
  return out.join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('learn')
    .description('what a deployment taught: the culprit of its rollback (failing against healthy hosts, the failed metrics, the services each change reaches), its outcome in the history, and the culprit as a known issue the next plan flags')
    .argument('<deployment>', 'deployment id (or a unique prefix)')
    .option('--write <file>', `record the culprit in this learned layer (YAML; created with a learned layer header when missing; default: env ${LEARNED_KB_ENV})`)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the analysis (and what was recorded) as JSON')
    .addHelpText('after', [
      '',
      'How the culprit is found: the hosts a failed check named (or whose steps or health checks failed) are compared with the hosts that passed the same checks.',
      'A change on every failing host and on no healthy one is the prime suspect; a change on both is suspected together with the packages installed on every failing host and on no healthy one (and only weakly when there are none).',
      'Each candidate that reaches a service whose check failed (the plan\'s impact paths) or that dpkg\'s error names is linked to the failure. Changes the evidence cannot tell apart share the confidence and are reported as "one of".',
      '',
      `Recording: the culprit becomes a known issue (knownIssues: in the learned layer, trust learned, precedence 80) whose condition is the culprit's version installed (with the packages it needs beside it). Put that file in the knowledge base you plan with (--kb DIR holding it, or --kb FILE), and set ${LEARNED_KB_ENV} to it so the deploy controller records each automatic rollback's culprit itself.`,
      'The deployment\'s outcome (per host group and package change) goes into the history (rollwise history list) whatever the flags; doing it twice adds nothing. Hosts it reached and changed nothing on (they already had what the plan installs) are no outcome of a change: never recorded, never blamed.',
      '',
      'Example: rollwise learn 3fa2c1d0 --write kb/learned.yaml',
    ].join('\n'))
    .action(async (id: string, o: { write?: string; store?: string; json?: boolean }) => {
      const store = await openStore(o.store, { create: false });
      try {
        const s = store as unknown as LearnStore;
        if (typeof s.readJournal !== 'function') throw new RollwiseError('RW_STORE', 'this store does not keep deployments', { hint: 'update Rollwise: deployments are kept in the same store as plans' });
        const d = await findDeployment(s, id);
        const learned = await learnFromDeployment(s, d);
        const history = await recordHistory(s, learned.history);
        const file = learnedLayerFile(o.write);
        let written: LayerWrite | undefined;
        if (file && learned.issue) written = await writeLearnedLayer(file, [learned.issue], { date: d.updatedAt.slice(0, 10), source: `rollwise learn (deployment ${d.id})` });
        const readByPlan = written ? inKnowledgeBase(written.file, learned.planKb) : undefined;
        if (o.json) {
          process.stdout.write(JSON.stringify({
            deployment: d.id, conclusion: learned.conclusion, analysis: learned.analysis, issue: learned.issue ?? null,
            history: { records: learned.history, ...history }, written: written ? { ...written, inPlanKnowledgeBase: readByPlan } : null,
          }, null, 2) + '\n');
          return;
        }
        const extra: string[] = [];
        const n = learned.history.reduce((k, r) => k + r.entries.length, 0);
        extra.push(`History: ${n} entr${n === 1 ? 'y' : 'ies'} for this deployment (${history.added} added, ${history.already} already there)${learned.analysis.unchanged.length ? `; ${learned.analysis.unchanged.length} host(s) it did not change are no outcome of a change and are not recorded` : ''}.`);
        if (written) {
          const how = written.added.length ? 'added' : 'replaced';
          extra.push(`Recorded: known issue ${learned.issue!.id} ${how} in ${written.file}.`);
          if (!readByPlan) extra.push(`  That file is not in this plan's knowledge base (${learned.planKb.join(', ') || 'none'}): give it to the next plan with --kb so it is flagged.`);
        } else if (learned.issue) {
          extra.push(`Not recorded: give --write FILE (a learned layer in your knowledge base) or set ${LEARNED_KB_ENV}.`);
        }
        process.stdout.write(renderLearn(learned.analysis, learned.conclusion, paletteFor(), extra));
      } finally {
        await store.close();
      }
    });
}
