// Lab services under runit on a directory-root host: metrics whose behaviour follows the version.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectoryRootDriver, type HostDriver } from '../../src/hosts/index.js';
import type { ServiceState } from '../../src/planner/index.js';
import { recordMachineDpkg } from './machine-guard.js';
import { createLab, freePort, type Lab } from '../lab/index.js';

let lab: Lab;
let machine: ReturnType<typeof recordMachineDpkg>;
let d: HostDriver;
let port: number;

beforeAll(async () => {
  machine = recordMachineDpkg();
  lab = await createLab({
    hosts: 1,
    packages: [
      { name: 'web', version: '1.0', service: { name: 'web', behaviour: { errorRate: 0, latencyMs: 5 } } },
      { name: 'web', version: '2.0', service: { name: 'web', behaviour: { errorRate: 0.5, latencyMs: 300 } } },
      { name: 'web', version: '3.0', service: { name: 'web', behaviour: { memoryGrowthMiBPerSecond: 24, crashAfterSeconds: 2 } } },
    ],
  });
  const h = lab.hosts[0]!;
  port = await freePort();
  await lab.setServicePort(h, 'web', port);
  lab.startSupervisor(h);
  d = createDirectoryRootDriver({ root: h.root, name: h.name, chrootlessScripts: lab.chrootlessScripts });
});

afterAll(async () => {
  await lab?.destroy();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

interface Scrape {
  version: string;
  ok: number;
  errors: number;
  rss: number;
  startedAt: number;
  sum: number;
  count: number;
}

async function scrape(): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  return {
    version: /lab_build_info\{service="web",version="([^"]+)"\} 1/.exec(text)?.[1] ?? '',
    ok: num(/lab_requests_total\{[^}]*code="200"\} (\d+)/),
    errors: num(/lab_requests_total\{[^}]*code="500"\} (\d+)/),
    rss: num(/process_resident_memory_bytes (\d+)/),
    startedAt: num(/process_start_time_seconds ([\d.]+)/),
    sum: num(/lab_request_duration_seconds_sum\{[^}]*\} ([\d.e+-]+)/),
    count: num(/lab_request_duration_seconds_count\{[^}]*\} (\d+)/),
  };
}

const waitState = (want: ServiceState): Promise<ServiceState> => waitFor(`web ${want}`, async () => ((await d.readServiceState('web')) === want ? want : undefined));
const waitVersion = (v: string): Promise<Scrape> => waitFor(`web ${v} metrics`, async () => {
  const s = await scrape();
  return s.version === v ? s : undefined;
});
const pidOf = (): number => Number(readFileSync(`${lab.hosts[0]!.root}/etc/service/web/supervise/pid`, 'utf8').trim());

describe('a lab service under runit, its behaviour chosen by the installed version', () => {
  it('is absent before its package is installed, and runs once it is', async () => {
    expect(await d.readServiceState('web')).toBe('absent');
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'web', action: 'install', to: '1.0' }] })).status).toBe('succeeded');
    await waitState('running');
    const s = await waitVersion('1.0');
    await new Promise((r) => setTimeout(r, 300));
    const s2 = await scrape();
    expect(s2.ok).toBeGreaterThan(s.ok);
    expect(s2.errors).toBe(0);
  });

  it('restarts through the driver (runit sv restart): a new process', async () => {
    const before = pidOf();
    const o = await d.apply({ kind: 'service', action: 'restart', service: 'web' });
    expect(o.status, JSON.stringify(o)).toBe('succeeded');
    expect(pidOf()).not.toBe(before);
    await waitVersion('1.0');
  });

  it('stops and starts, and a snapshot records the state', async () => {
    expect((await d.apply({ kind: 'service', action: 'stop', service: 'web' })).status).toBe('succeeded');
    expect(await d.readServiceState('web')).toBe('stopped');
    const snap = await d.takeSnapshot({ services: ['web'] });
    expect(snap.kind === 'ok' && snap.value.services).toEqual([{ name: 'web', state: 'stopped' }]);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    expect((await d.apply({ kind: 'service', action: 'start', service: 'web' })).status).toBe('succeeded');
    await waitState('running');
  });

  it('restarts back to back and stops and starts at once: each step is done when it says so', async () => {
    // runsv sleeps a second after a process that lived under one, and `sv -w` judges by whole
    // seconds: these steps come right after each other, where `sv -w`'s own "ok" is premature.
    for (let i = 0; i < 3; i++) {
      const before = pidOf();
      const o = await d.apply({ kind: 'service', action: 'restart', service: 'web' });
      expect(o.status, JSON.stringify(o)).toBe('succeeded');
      expect(pidOf()).not.toBe(before);
      expect(await d.readServiceState('web')).toBe('running');
    }
    const stop = await d.apply({ kind: 'service', action: 'stop', service: 'web' });
    expect(stop.status, JSON.stringify(stop)).toBe('succeeded');
    expect(await d.readServiceState('web')).toBe('stopped');
    const start = await d.apply({ kind: 'service', action: 'start', service: 'web' });
    expect(start.status, JSON.stringify(start)).toBe('succeeded');
    expect(await d.readServiceState('web')).toBe('running');
    await waitVersion('1.0');
  });

  it('an upgrade to a bad version really breaks it: errors and latency in its metrics', async () => {
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'web', action: 'upgrade', to: '2.0' }] })).status).toBe('succeeded');
    const a = await waitVersion('2.0');
    await new Promise((r) => setTimeout(r, 500));
    const b = await scrape();
    const ok = b.ok - a.ok;
    const errors = b.errors - a.errors;
    expect(ok + errors).toBeGreaterThan(5);
    expect(Math.abs(errors - ok)).toBeLessThanOrEqual(1); // half of the requests fail
    expect((b.sum - a.sum) / (b.count - a.count)).toBeGreaterThan(0.2); // ~300 ms each
  });

  it('a version that leaks memory and crashes is restarted by runit', async () => {
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'web', action: 'upgrade', to: '3.0' }] })).status).toBe('succeeded');
    const first = await waitVersion('3.0');
    // per process (keyed by start time): the smallest and largest resident size seen
    const seen = new Map<number, { min: number; max: number }>();
    const grown = await waitFor('memory growth', async () => {
      const s = await scrape();
      const m = seen.get(s.startedAt) ?? { min: s.rss, max: s.rss };
      m.min = Math.min(m.min, s.rss);
      m.max = Math.max(m.max, s.rss);
      seen.set(s.startedAt, m);
      return m.max > m.min + 16 * 1024 * 1024 ? m : undefined;
    });
    expect(grown.max).toBeGreaterThan(grown.min);
    const restarted = await waitFor('a crash and restart', async () => {
      const s = await scrape();
      return s.startedAt > first.startedAt ? s : undefined;
    });
    expect(restarted.version).toBe('3.0');
  });

  it('is gone after the package is removed', async () => {
    expect((await d.apply({ kind: 'packages', changes: [{ name: 'web', action: 'remove' }] })).status).toBe('succeeded');
    expect(await d.readServiceState('web')).toBe('absent');
    await waitFor('the port to close', async () => {
      try {
        await fetch(`http://127.0.0.1:${port}/metrics`);
        return undefined;
      } catch {
        return true;
      }
    });
  });

  it("left the machine's own dpkg database and log untouched", () => {
    expect(recordMachineDpkg()).toEqual(machine);
  });
});
