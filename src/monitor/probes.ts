/**
 * Probe providers: an HTTP request to each host, and a command run on each host through the host
 * driver's command runner (src/hosts/runner.ts, argument arrays only). A probe's value is 1 when
 * the host answered as expected and 0 when it answered otherwise (a refused connection or a
 * timeout is the service not answering: 0, with what happened in `detail`). When a command could
 * not be run on a host at all (connection lost, program missing), that host has no sample; when
 * no host could be probed, the measurement is an error. observeCommand is the one way a command
 * check is observed: the deploy layer's command health checks (rehearsal, wave engine) call it too.
 */
import type { CommandRunner } from '../hosts/index.js';
import { describeQuery, type MeasureRequest, type Measurement, type MetricProvider, type Sample } from '../analysis/index.js';
import { describeFetchError } from './prometheus.js';

const OUTPUT_LIMIT = 4096;
const MAX_BODY_BYTES = 1024 * 1024;

/** What a command check saw: the same shape as the deploy layer's command health observations. */
export type CommandObservation =
  | { kind: 'exited'; exitCode: number; output: string }
  | { kind: 'lost'; reason: string; output: string }
  | { kind: 'not-started'; reason: string };

/** Run a check command on a host (killed past its timeout or past 1 MiB of output); output tail kept. */
export async function observeCommand(runner: Pick<CommandRunner, 'run'>, argv: readonly string[], timeoutMs: number): Promise<CommandObservation> {
  const r = await runner.run(argv, { timeoutMs, onOversizedOutput: 'kill', maxOutputBytes: MAX_BODY_BYTES });
  if (r.kind === 'not-started') return { kind: 'not-started', reason: r.reason };
  const joined = [r.stdout.trim(), r.stderr.trim()].filter((x) => x.length > 0).join('\n');
  const output = joined.length > OUTPUT_LIMIT ? `...${joined.slice(-OUTPUT_LIMIT)}` : joined;
  if (r.kind === 'lost') return { kind: 'lost', reason: r.reason, output };
  return { kind: 'exited', exitCode: r.exitCode, output };
}

export interface CommandProbeOptions {
  /** The command runner of a host (its driver's), or undefined when Rollwise cannot reach it. */
  runnerFor(host: string): Pick<CommandRunner, 'run'> | undefined;
}

export function createCommandProbeProvider(options: CommandProbeOptions): MetricProvider {
  return {
    kind: 'command',
    async measure(request: MeasureRequest): Promise<Measurement> {
      const at = request.at ?? Date.now();
      const head = { check: request.check, provider: 'command' as const, query: describeQuery(request), at };
      const q = request.query;
      if (q.provider !== 'command') return { ...head, kind: 'error', reason: 'query-error', message: `a ${q.provider} query was sent to the command probe` };
      if (request.range) return { ...head, kind: 'error', reason: 'query-error', message: 'a command probe answers only now, not over a past window' };
      const unreachable: string[] = [];
      const results = await Promise.all(request.hosts.map(async (host): Promise<Sample | undefined> => {
        const runner = options.runnerFor(host);
        if (!runner) {
          unreachable.push(`${host}: no command runner`);
          return undefined;
        }
        const o = await observeCommand(runner, q.argv, q.timeoutMs);
        if (o.kind !== 'exited') {
          unreachable.push(`${host}: ${o.reason}`);
          return undefined;
        }
        const detail = `exit ${o.exitCode}${o.output ? `: ${o.output.slice(-200)}` : ''}`;
        return { host, at: Date.now(), value: o.exitCode === q.expectExit ? 1 : 0, detail };
      }));
      const samples = results.filter((s): s is Sample => s !== undefined);
      if (samples.length === 0 && request.hosts.length > 0) return { ...head, kind: 'error', reason: 'host-unreachable', message: unreachable.join('; ') };
      return { ...head, kind: 'value', samples };
    },
  };
}

export interface HttpProbeOptions {
  /** The URL to request for a host (default: the URL as written, e.g. for hosts on this machine). */
  urlFor?: (host: string, url: string) => string;
}

/** One HTTP probe of one URL: 1 when the status (and body text) are as expected. */
export async function probeHttp(url: string, expectStatus: number, contains: string | undefined, timeoutMs: number): Promise<{ value: number; detail: string }> {
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== expectStatus) {
      await res.body?.cancel();
      return { value: 0, detail: `status ${res.status}, expected ${expectStatus}` };
    }
    if (contains !== undefined) {
      const body = await readLimited(res, MAX_BODY_BYTES);
      if (!body.includes(contains)) return { value: 0, detail: `status ${res.status}, body lacks ${JSON.stringify(contains.slice(0, 60))}` };
    } else {
      await res.body?.cancel();
    }
    return { value: 1, detail: `status ${res.status}` };
  } catch (e) {
    const [reason, message] = describeFetchError(e, timeoutMs);
    return { value: 0, detail: `${reason}: ${message}` };
  }
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= limit) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createHttpProbeProvider(options: HttpProbeOptions = {}): MetricProvider {
  return {
    kind: 'http',
    async measure(request: MeasureRequest): Promise<Measurement> {
      const at = request.at ?? Date.now();
      const head = { check: request.check, provider: 'http' as const, query: describeQuery(request), at };
      const q = request.query;
      if (q.provider !== 'http') return { ...head, kind: 'error', reason: 'query-error', message: `a ${q.provider} query was sent to the HTTP probe` };
      if (request.range) return { ...head, kind: 'error', reason: 'query-error', message: 'an HTTP probe answers only now, not over a past window' };
      const samples = await Promise.all(request.hosts.map(async (host): Promise<Sample> => {
        const url = options.urlFor ? options.urlFor(host, q.url) : q.url;
        const r = await probeHttp(url, q.expectStatus, q.contains, q.timeoutMs);
        return { host, at: Date.now(), value: r.value, detail: r.detail };
      }));
      return { ...head, kind: 'value', samples };
    },
  };
}
