/**
 * The Prometheus metric provider: instant (`/api/v1/query`) and range (`/api/v1/query_range`)
 * queries over Prometheus' HTTP API with fetch, one value (or series) per host, the host named by
 * a label (`instance` by default; per check or per provider). Everything the server or the
 * network can cause is a measurement: `error` (connection refused, timeout, an HTTP status,
 * a body that is not Prometheus' JSON, `status: error`) or `no-data` (the query matched nothing
 * for the hosts asked), never an exception.
 */
import { z } from 'zod';
import { describeQuery, type MeasureRequest, type Measurement, type MetricProvider, type ProviderErrorReason, type Sample } from '../analysis/index.js';

export interface PrometheusProviderOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 */
  url: string;
  /** Label naming the host in query results (default `instance`); a check's hostLabel wins. */
  hostLabel?: string;
  /** Per request (default 5000 ms). */
  timeoutMs?: number;
  /** Extra request headers (e.g. Authorization for a proxy in front of Prometheus). */
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const valuePair = z.tuple([z.number(), z.string()]);
const ResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: valuePair })) }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(valuePair) })) }),
      z.object({ resultType: z.literal('scalar'), result: valuePair }),
      z.object({ resultType: z.literal('string'), result: valuePair }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

/** Prometheus writes sample values as strings: `1.5`, `NaN`, `+Inf`, `-Inf`. */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** The host a series belongs to: the label's value (for `instance`, without a `:port` when the host list has no port). */
function hostOf(labels: Record<string, string>, label: string, wanted: ReadonlySet<string>): string | undefined {
  const v = labels[label];
  if (v === undefined) return undefined;
  if (wanted.size === 0 || wanted.has(v)) return v;
  const bare = v.replace(/:\d+$/, '');
  return wanted.has(bare) ? bare : v;
}

export interface PrometheusProvider extends MetricProvider {
  readonly url: string;
}

export function createPrometheusProvider(options: PrometheusProviderOptions): PrometheusProvider {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;
  return {
    kind: 'prometheus',
    url: base,
    async measure(request: MeasureRequest): Promise<Measurement> {
      const at = request.at ?? Date.now();
      const head = { check: request.check, provider: 'prometheus' as const, query: describeQuery(request), at, ...(request.range ? { window: { start: request.range.start, end: request.range.end } } : {}) };
      const fail = (reason: ProviderErrorReason, message: string): Measurement => ({ ...head, kind: 'error', reason, message });
      if (request.query.provider !== 'prometheus') return fail('query-error', `a ${request.query.provider} query was sent to the Prometheus provider`);
      const label = request.query.hostLabel ?? options.hostLabel ?? 'instance';
      const form = new URLSearchParams({ query: request.query.promql });
      let endpoint: string;
      if (request.range) {
        endpoint = `${base}/api/v1/query_range`;
        form.set('start', String(request.range.start / 1000));
        form.set('end', String(request.range.end / 1000));
        form.set('step', `${Math.max(1, Math.round(request.range.stepMs)) / 1000}s`);
      } else {
        endpoint = `${base}/api/v1/query`;
        if (request.at !== undefined) form.set('time', String(request.at / 1000));
      }
      let status: number;
      let text: string;
      try {
        const res = await fetch(endpoint, {
          method: 'POST',
          body: form,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...options.headers },
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = res.status;
        const length = Number(res.headers.get('content-length') ?? 0);
        if (length > MAX_BODY_BYTES) {
          await res.body?.cancel();
          return fail('bad-response', `answer of ${length} bytes is larger than ${MAX_BODY_BYTES}`);
        }
        text = await res.text();
      } catch (e) {
        return fail(...describeFetchError(e, timeoutMs));
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return status >= 400 ? fail('http-status', `HTTP ${status}`) : fail('bad-response', `not JSON (HTTP ${status}): ${excerpt(text)}`);
      }
      const parsed = ResponseSchema.safeParse(json);
      if (!parsed.success) return status >= 400 ? fail('http-status', `HTTP ${status}`) : fail('bad-response', `not a Prometheus API answer (HTTP ${status})`);
      const body = parsed.data;
      if (body.status === 'error') return fail('query-error', `${body.errorType ?? 'error'}: ${excerpt(body.error ?? '')}${status >= 400 ? ` (HTTP ${status})` : ''}`);
      if (status >= 400) return fail('http-status', `HTTP ${status}`);
      const data = body.data;
      if (data.resultType === 'scalar' || data.resultType === 'string') {
        return fail('query-error', `the query gives a ${data.resultType}, not one value per host: aggregate by the host label, e.g. max by (${label}) (...)`);
      }
      const wanted = new Set(request.hosts);
      const samples: Sample[] = [];
      const series = data.resultType === 'vector' ? data.result.map((r) => ({ metric: r.metric, values: [r.value] })) : data.result;
      for (const s of series) {
        const host = hostOf(s.metric, label, wanted);
        if (host === undefined || (wanted.size > 0 && !wanted.has(host))) continue;
        for (const [t, v] of s.values) {
          const value = parseSampleValue(v);
          if (!Number.isNaN(value)) samples.push({ host, at: Math.round(t * 1000), value });
        }
      }
      if (samples.length === 0) return { ...head, kind: 'no-data' };
      return { ...head, kind: 'value', samples };
    },
  };
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

/** fetch's errors as a reason and a message (the cause's code: ECONNREFUSED, ENOTFOUND, ...). */
export function describeFetchError(e: unknown, timeoutMs: number): [ProviderErrorReason, string] {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return ['timeout', `no answer within ${timeoutMs} ms`];
  const code = err?.cause?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return ['timeout', code];
  return ['connection', code ? `${code}: ${err.cause?.message ?? ''}`.trim() : err?.message ?? String(e)];
}
