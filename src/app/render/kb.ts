/** The knowledge base rendered for people: layers with their counts, services, known issues (demo, kb stats). */
import {
  computeStats, describePackage, effectiveKnownIssues, effectiveServices, formatProblem,
  type KbStats, type KnowledgeBase,
} from '../../kb/index.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function renderLayers(stats: KbStats): string[] {
  const lines: string[] = [];
  const w = Math.max(...stats.layers.map((l) => l.name.length), 5);
  for (const l of stats.layers) {
    const c = l.counts;
    const parts = [plural(c.packages, 'package'), plural(c.names, 'name')];
    if (l.origin === 'yaml') parts.push(plural(c.services, 'service'), `${c.functional} functional`, plural(c.knownIssues, 'known issue'), plural(c.migrations, 'migration'), plural(c.configFiles, 'config file'));
    lines.push(`  ${pad(l.name, w)}  precedence ${pad(String(l.precedence), 4)} ${pad(l.trust, 12)}  ${parts.join(', ')}  (${l.files.length} file${l.files.length === 1 ? '' : 's'})`);
  }
  return lines;
}

function latest(kb: KnowledgeBase, name: string): string {
  const v = describePackage(kb, name).versions.at(-1);
  return v ? `${name} ${v.version}` : `${name} (not in any layer)`;
}

export function renderDemo(kb: KnowledgeBase): string {
  const stats = computeStats(kb);
  const out: string[] = [];
  out.push('Rollwise demo: the example knowledge base over the Debian 12 index', '');
  out.push('Layers (highest precedence wins):', ...renderLayers(stats), '');
  const t = stats.total;
  out.push(`In all: ${t.packages} packages (${t.names} names), ${plural(t.services, 'service')}, ${t.functional} functional dependencies, ${t.knownIssues} known issue${t.knownIssues === 1 ? '' : 's'}, ${t.migrations} migrations, ${t.configFiles} config files`, '');
  out.push('Services:');
  const services = effectiveServices(kb);
  const w = Math.max(...services.map((s) => s.value.name.length), 4);
  for (const s of services) {
    const deps = s.value.dependsOn?.length ? `  needs ${s.value.dependsOn.join(', ')}` : '';
    const checks = (s.value.health?.http?.length ?? 0) + (s.value.health?.command?.length ?? 0);
    out.push(`  ${pad(s.value.name, w)}  ${pad(s.value.criticality, 8)}  ${(s.value.packages ?? []).map((p) => latest(kb, p)).join(', ')}${deps}  [${checks} health check${checks === 1 ? '' : 's'}, ${s.value.metrics?.length ?? 0} metric${s.value.metrics?.length === 1 ? '' : 's'}; ${s.provenance.layer}]`);
  }
  out.push('', 'Known issues:');
  for (const k of effectiveKnownIssues(kb)) {
    const cond = [...(k.value.when.packages ?? []), ...(k.value.when.environment?.kernel ? [`kernel ${k.value.when.environment.kernel}`] : [])].join('; ');
    out.push(`  ${k.value.id} [${k.value.severity}] ${k.value.title}`, `    when ${cond} → ${k.value.effect.impact} of ${(k.value.effect.services ?? []).join(', ') || 'the host'}`, `    source: ${k.value.source} (${k.provenance.source}:${k.provenance.line ?? 1})`);
  }
  const errors = kb.problems.filter((p) => p.severity === 'error');
  out.push('');
  if (errors.length) out.push(`The knowledge base has ${errors.length} problem${errors.length === 1 ? '' : 's'}:`, ...kb.problems.map((p) => `  ${formatProblem(p)}`));
  else out.push('The knowledge base is valid. Next: `rollwise kb show shopfront`, `rollwise kb show libssl3`, `rollwise kb validate examples/kb`.');
  return out.join('\n') + '\n';
}

