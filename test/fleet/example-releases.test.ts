/**
 * The example fleet spans two Debian releases: with bookworm, bookworm-security and bullseye
 * loaded, each release group is planned against its own sources (examples/fleet/inventory.yaml
 * names them per group). Installing jq gives the Debian 12 hosts the security update
 * (1.6-2.1+deb12u3, apt's candidate) and the Debian 11 hosts bullseye's jq and libonig5, with
 * nothing from bookworm.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlan, loadKnowledge } from '../../src/app/index.js';
import { buildRequest } from '../../src/planner/index.js';
import { repoRoot } from '../helpers/cli.js';

const DATA = path.resolve(repoRoot, '..', 'shared', 'data', 'debian');
const INDEXES = ['bookworm-main-amd64.Packages.xz', 'bookworm-security-main-amd64.Packages.xz', 'bullseye-main-amd64.Packages.xz'].map((f) => path.join(DATA, f));
const INVENTORY = path.join(repoRoot, 'examples', 'fleet', 'inventory.yaml');
const KB = path.join(repoRoot, 'examples', 'kb');

describe('the example fleet over two releases', () => {
  it('plans each release group against its own repositories', async () => {
    for (const f of INDEXES) if (!existsSync(f)) throw new Error(`missing ${f} (the shared Debian indexes beside the repository)`);
    const knowledge = await loadKnowledge({ kb: [KB], indexes: INDEXES });
    const request = buildRequest({ install: ['jq'] });
    const plan = await createPlan({ kb: [KB], index: INDEXES, inventory: [INVENTORY], local: false, sshHost: [], skipUnreachable: false, request, knowledge });
    expect(plan.summary.hosts).toBe(36);
    const changesOf = (host: string): Record<string, string> => {
      const g = plan.groups.find((x) => x.hosts.includes(host))!;
      expect(g.outcome.kind).toBe('transaction');
      return Object.fromEntries((g.outcome.changes ?? []).map((c) => [c.name, c.to ?? '']));
    };
    const bookworm = changesOf('app-01');
    expect(bookworm.jq).toBe('1.6-2.1+deb12u3');
    expect(bookworm.libjq1).toBe('1.6-2.1+deb12u3');
    expect(bookworm.libonig5).toBe('6.9.8-1');
    const bullseye = changesOf('app-23');
    expect(bullseye).toEqual({ jq: '1.6-2.1', libjq1: '1.6-2.1', libonig5: '6.9.6-1.1' });
    const debian11 = plan.groups.filter((g) => g.facts['os.versionId'] === '11');
    expect(debian11.flatMap((g) => g.hosts)).toEqual(['app-23', 'app-24', 'app-25', 'app-26', 'app-27', 'app-28']);
    expect(debian11.every((g) => g.apt?.sources.some((s) => s.suite === 'bullseye'))).toBe(true);
  }, 600_000);
});
