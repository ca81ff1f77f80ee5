/**
 * HTTP and command probes as providers: real HTTP servers on loopback and real commands through
 * the hosts layer's local runner (argument arrays). A host that answers wrongly is 0; a host where
 * the command cannot run has no sample; no host probed at all is an error measurement.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricCheck, runAnalysis, systemClock } from '../../src/analysis/index.js';
import { createLocalRunner } from '../../src/hosts/index.js';
import { createCommandProbeProvider, createHttpProbeProvider, freeLoopbackPort } from '../../src/monitor/index.js';

let server: Server;
let base: string;
let closedPort: number;
beforeAll(async () => {
  closedPort = await freeLoopbackPort(); // nothing listens there
  server = createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(200).end('{"status":"ok"}');
    else if (req.url === '/broken') res.writeHead(500).end('oops');
    else if (req.url === '/degraded') res.writeHead(200).end('{"status":"degraded"}');
    // /hang never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('HTTP probe', () => {
  const provider = createHttpProbeProvider({ urlFor: (host, url) => (host === 'down' ? `http://127.0.0.1:${closedPort}/healthz` : url.replace('HOST', base)) });
  const probe = (path: string, hosts = ['a'], contains?: string, timeoutMs = 2000) =>
    provider.measure({ check: 'h', query: { provider: 'http', url: `HOST${path}`, expectStatus: 200, timeoutMs, ...(contains ? { contains } : {}) }, hosts });

  it('1 when status and body are as expected, 0 with what happened otherwise', async () => {
    expect(await probe('/healthz', ['a'], '"ok"')).toMatchObject({ kind: 'value', samples: [{ host: 'a', value: 1, detail: 'status 200' }] });
    expect(await probe('/degraded', ['a'], '"ok"')).toMatchObject({ kind: 'value', samples: [{ value: 0, detail: expect.stringMatching(/body lacks/) }] });
    expect(await probe('/broken')).toMatchObject({ kind: 'value', samples: [{ value: 0, detail: 'status 500, expected 200' }] });
    expect(await probe('/hang', ['a'], undefined, 300)).toMatchObject({ kind: 'value', samples: [{ value: 0, detail: expect.stringMatching(/^timeout/) }] });
    expect(await probe('/healthz', ['down'])).toMatchObject({ kind: 'value', samples: [{ host: 'down', value: 0, detail: expect.stringMatching(/^connection: ECONNREFUSED/) }] });
  });
});

describe('command probe', () => {
  const local = createLocalRunner();
  const provider = createCommandProbeProvider({ runnerFor: (host) => (host === 'unreachable' ? undefined : local) });
  const run = (argv: string[], hosts: string[]) => provider.measure({ check: 'c', query: { provider: 'command', argv, expectExit: 0, timeoutMs: 5000 }, hosts });

  it('runs on each host through its runner: exit status as expected is 1, else 0', async () => {
    expect(await run(['true'], ['a', 'b'])).toMatchObject({ kind: 'value', samples: [{ host: 'a', value: 1 }, { host: 'b', value: 1 }] });
    expect(await run(['sh', '-c', 'echo nope >&2; exit 3'], ['a'])).toMatchObject({ kind: 'value', samples: [{ value: 0, detail: 'exit 3: nope' }] });
  });

  it('a host it cannot run on has no sample; none at all is an error', async () => {
    expect(await run(['true'], ['a', 'unreachable'])).toMatchObject({ kind: 'value', samples: [{ host: 'a', value: 1 }] });
    expect(await run(['/nonexistent/probe'], ['a'])).toMatchObject({ kind: 'error', reason: 'host-unreachable', message: expect.stringMatching(/^a: .*ENOENT/) });
  });

  it('a failing probe fails the check for that host in an analysis run', async () => {
    const check = createMetricCheck({ name: 'svc/command-1', query: { provider: 'command', argv: ['false'], expectExit: 0, timeoutMs: 5000 }, successCondition: '== 1', intervalMs: 200 });
    const r = await runAnalysis({ checks: [check], providers: { command: provider }, changedHosts: ['a'], controlHosts: [], bakeMs: 1000, clock: systemClock });
    expect(r.status).toBe('failed');
    expect(r.checks[0]!.evidence.hosts).toEqual(['a']);
  });
});
