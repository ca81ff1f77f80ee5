/** Rebuilds fact/label objects from a group's flat relevant-fact record (for condition evaluation). */
import type { FactName, HostFacts, Labels } from '../fleet/index.js';

export function subjectOfFacts(facts: Partial<Record<FactName, string | number>>): { facts: HostFacts; labels: Labels } {
  const h: HostFacts = {};
  const labels: Labels = {};
  for (const [k, v] of Object.entries(facts) as Array<[FactName, string | number]>) {
    if (k.startsWith('label.')) labels[k.slice(6)] = String(v);
    else if (k === 'os.id') h.os = { ...(h.os ?? {}), id: String(v) };
    else if (k === 'os.versionId') h.os = { ...(h.os ?? { id: '' }), versionId: String(v) };
    else if (k === 'os.codename') h.os = { ...(h.os ?? { id: '' }), codename: String(v) };
    else if (k === 'architecture' || k === 'kernel') h[k] = String(v);
    else h[k as 'memoryMiB' | 'diskTotalMiB' | 'diskFreeMiB' | 'cpus'] = Number(v);
  }
  return { facts: h, labels };
}
