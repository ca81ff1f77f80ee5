/**
 * The Alertmanager webhook receiver: an HTTP endpoint on loopback (hono on node) that accepts
 * Alertmanager's webhook payload, version 4 (validated with zod; an optional bearer token), keeps
 * the latest state of every alert by fingerprint, and answers as a metric provider: per host, the
 * number of alerts firing for it (matching a check's labels). The host is read from the first of
 * `hostLabels` an alert carries (an `instance` of `host:port` also matches `host`).
 */
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { z } from 'zod';
import { RollwiseError } from '../shared/index.js';
import { describeQuery, type MeasureRequest, type Measurement, type MetricProvider, type Sample } from '../analysis/index.js';

const labelSet = z.record(z.string(), z.string());

export const AlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** Alertmanager's webhook body, version 4 (fields it may add later are ignored). */
export const WebhookPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string(),
  alerts: z.array(AlertSchema),
});

export type WebhookPayload = z.output<typeof WebhookPayloadSchema>;

export interface ReceivedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  /** The host it is about (from hostLabels), if any. */
  host?: string;
  receivedAt: number;
}

export interface AlertReceiverOptions {
  /** A loopback address (default 127.0.0.1). */
  hostname?: string;
  /** Default 0: a free port. */
  port?: number;
  /** URL path Alertmanager posts to (default /alertmanager). */
  path?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Labels naming the host, first found wins (default instance, host, hostname). */
  hostLabels?: readonly string[];
  /** Largest body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Called after each accepted payload. */
  onPayload?: (payload: WebhookPayload, alerts: ReceivedAlert[]) => void;
}

export interface AlertReceiver extends MetricProvider {
  /** Where to point Alertmanager's webhook_configs url. */
  readonly url: string;
  readonly port: number;
  /** Payloads accepted so far. */
  readonly received: number;
  alerts(): ReceivedAlert[];
  firing(host?: string): ReceivedAlert[];
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

function tokenMatches(given: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(given ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startAlertReceiver(options: AlertReceiverOptions = {}): Promise<AlertReceiver> {
  const hostname = options.hostname ?? '127.0.0.1';
  if (!LOOPBACK.test(hostname)) {
    throw new RollwiseError('RW_MONITOR', `the alert receiver listens on loopback only, not ${JSON.stringify(hostname)}`, {
      hint: 'use 127.0.0.1 (put a reverse proxy in front of it to receive from another machine)',
    });
  }
  const path = options.path ?? '/alertmanager';
  const hostLabels = options.hostLabels ?? ['instance', 'host', 'hostname'];
  const state = new Map<string, ReceivedAlert>();
  let received = 0;

  // the HTTP stack is loaded on use: commands that never receive alerts do not pay for it
  const [{ serve }, { Hono }, { bodyLimit }] = await Promise.all([import('@hono/node-server'), import('hono'), import('hono/body-limit')]);
  const app = new Hono();
  app.post(path, bodyLimit({ maxSize: options.maxBodyBytes ?? 1024 * 1024, onError: (c) => c.json({ error: 'payload too large' }, 413) }), async (c) => {
    if (options.token !== undefined && !tokenMatches(c.req.header('authorization'), options.token)) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: 'a bearer token is required' }, 401);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'the body is not JSON' }, 400);
    }
    const parsed = WebhookPayloadSchema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return c.json({ error: `not an Alertmanager webhook payload (version 4): ${first ? `${first.path.join('.') || '(body)'}: ${first.message}` : 'invalid'}` }, 400);
    }
    const now = Date.now();
    const accepted: ReceivedAlert[] = parsed.data.alerts.map((a) => {
      const host = hostLabels.map((l) => a.labels[l]).find((v) => v !== undefined);
      return {
        fingerprint: a.fingerprint ?? keyOf(a.labels),
        status: a.status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt,
        ...(a.endsAt !== undefined ? { endsAt: a.endsAt } : {}),
        ...(host !== undefined ? { host } : {}),
        receivedAt: now,
      };
    });
    for (const a of accepted) state.set(a.fingerprint, a);
    received++;
    options.onPayload?.(parsed.data, accepted);
    return c.json({ status: 'ok', alerts: accepted.length });
  });
  app.all('*', (c) => c.json({ error: 'not found' }, 404));

  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname, port: options.port ?? 0 }, () => resolve(s));
    s.once('error', (e: Error) => reject(new RollwiseError('RW_MONITOR', `the alert receiver cannot listen on ${hostname}:${options.port ?? 0}: ${e.message}`, { hint: 'choose another port', cause: e })));
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = hostname.includes(':') ? `[${hostname}]` : hostname;

  const matches = (a: ReceivedAlert, host: string): boolean => a.host === host || a.host?.replace(/:\d+$/, '') === host;
  const firing = (host?: string): ReceivedAlert[] => [...state.values()].filter((a) => a.status === 'firing' && (host === undefined || matches(a, host)));

  return {
    kind: 'alerts',
    url: `http://${urlHost}:${port}${path}`,
    port,
    get received() {
      return received;
    },
    alerts: () => [...state.values()],
    firing,
    async measure(request: MeasureRequest): Promise<Measurement> {
      const at = request.at ?? Date.now();
      const head = { check: request.check, provider: 'alerts' as const, query: describeQuery(request), at };
      const q = request.query;
      if (q.provider !== 'alerts') return { ...head, kind: 'error', reason: 'query-error', message: `a ${q.provider} query was sent to the alert receiver` };
      if (request.range) return { ...head, kind: 'error', reason: 'query-error', message: 'the alert receiver knows only the alerts firing now' };
      const wanted = Object.entries(q.labels ?? {});
      const samples: Sample[] = request.hosts.map((host) => {
        const hits = firing(host).filter((a) => wanted.every(([k, v]) => a.labels[k] === v));
        const names = [...new Set(hits.map((a) => a.labels.alertname ?? a.fingerprint))].join(', ');
        return { host, at, value: hits.length, ...(names ? { detail: names } : {}) };
      });
      return { ...head, kind: 'value', samples };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
