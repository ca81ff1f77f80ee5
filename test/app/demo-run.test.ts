// The demo's snapshot of every lab host (snapshotDemoLab), with host drivers that answer as an
// overloaded machine can: a read that could not tell is taken again, never compared as "nothing
// there", and one that still cannot tell after the attempts is an RW_HOST error saying so. Pure:
// the drivers are fakes (the real reads are tested in test/hosts/snapshot-reads.test.ts).
import { describe, expect, it } from 'vitest';
import type { HostDriver, HostRead } from '../../src/hosts/index.js';
import type { Snapshot } from '../../src/planner/index.js';
import { snapshotDemoLab } from '../../src/app/services/demo-run.js';
import type { DemoLab, DemoLabHost } from '../../src/app/services/demo-lab.js';

const snapshot = (host: string, service: 'running' | 'unknown'): Snapshot => ({
  host, takenAt: '2026-12-04T00:00:00Z', databases: [], files: [],
  packages: [{ name: 'shopfront', version: '1.8.3', architecture: 'all', status: 'ii', state: 'installed' }],
  services: [{ name: 'shopfront', state: service }],
});

/** A lab whose hosts' snapshots answer, in turn, what `answers` says (the last answer repeats). */
function labAnswering(answers: Record<string, Array<HostRead<Snapshot>>>): { lab: DemoLab; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  const hosts = Object.keys(answers).map((name) => ({ name, group: 'eu', root: `/nonexistent/${name}`, port: 0, installed: {} }) as DemoLabHost);
  const lab = {
    hosts,
    driver: (h: DemoLabHost) => ({
      takeSnapshot: async () => {
        const n = asked.get(h.name) ?? 0;
        asked.set(h.name, n + 1);
        const list = answers[h.name]!;
        return list[Math.min(n, list.length - 1)]!;
      },
    }) as unknown as HostDriver,
  } as unknown as DemoLab;
  return { lab, asked };
}

describe('snapshotDemoLab', () => {
  it('takes a snapshot again when a read could not tell, and keeps the one that could', async () => {
    const { lab, asked } = labAnswering({
      'shop-01': [{ kind: 'ok', value: snapshot('shop-01', 'running') }],
      'shop-02': [{ kind: 'unknown', reason: 'dpkg-query answered nothing' }, { kind: 'ok', value: snapshot('shop-02', 'running') }],
      'shop-03': [{ kind: 'ok', value: snapshot('shop-03', 'unknown') }, { kind: 'ok', value: snapshot('shop-03', 'running') }],
    });
    const out = await snapshotDemoLab(lab);
    expect([...out.keys()].sort()).toEqual(['shop-01', 'shop-02', 'shop-03']);
    expect(out.get('shop-02')!.packages.map((p) => p.name)).toEqual(['shopfront']);
    expect(out.get('shop-03')!.services).toEqual([{ name: 'shopfront', state: 'running' }]);
    expect(Object.fromEntries(asked)).toEqual({ 'shop-01': 1, 'shop-02': 2, 'shop-03': 2 });
  });

  it('says it cannot tell (RW_HOST) when every attempt could not', async () => {
    const { lab, asked } = labAnswering({ 'shop-01': [{ kind: 'unknown', reason: 'dpkg-query answered nothing' }] });
    await expect(snapshotDemoLab(lab)).rejects.toMatchObject({ code: 'RW_HOST', message: expect.stringMatching(/cannot tell the state of shop-01 \(3 snapshots could not read it\): dpkg-query answered nothing/) });
    expect(asked.get('shop-01')).toBe(3);
  });

  it('a failed read is an error at once', async () => {
    const { lab, asked } = labAnswering({ 'shop-01': [{ kind: 'failed', message: 'no readable dpkg database' }] });
    await expect(snapshotDemoLab(lab)).rejects.toMatchObject({ code: 'RW_HOST', message: expect.stringContaining('cannot take a snapshot of shop-01: no readable dpkg database') });
    expect(asked.get('shop-01')).toBe(1);
  });
});
