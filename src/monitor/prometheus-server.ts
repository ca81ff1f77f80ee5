/**
 * Start Debian's Prometheus (and Alertmanager) for the lab and the demo: a generated config
 * (file-based targets with their labels, re-read every second, so targets can change while it
 * runs; a short scrape interval), storage in a temp dir, a free loopback port; resolves once the
 * server answers `/-/ready`; stop() ends it (SIGTERM, then SIGKILL) and removes its files. A
 * process exit hook kills what is still running. A missing binary is a RollwiseError naming the
 * Debian package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { RollwiseError } from '../shared/index.js';
import { findTool, toolPackage } from '../hosts/index.js';

export interface ScrapeTarget {
  /** host:port of a /metrics endpoint */
  address: string;
  /** Labels added to every series of the target, e.g. { host: 'host-0', service: 'shopfront' } */
  labels?: Record<string, string>;
}

export interface PrometheusServerOptions {
  targets: readonly ScrapeTarget[];
  /** Default 1000 ms. */
  scrapeIntervalMs?: number;
  /** Program (default: `prometheus` from PATH or /usr/bin). */
  binary?: string;
  /** Parent of the temp dir (default: the OS temp dir). */
  tempParent?: string;
  /** Alerting rules: the text of a Prometheus rule file (YAML). */
  rules?: string;
  /** Alertmanagers to send alerts to (host:port). */
  alertmanagers?: readonly string[];
  /** How long to wait for readiness (default 30 s). */
  readyTimeoutMs?: number;
}

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** What the server printed last (for error messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface PrometheusServer extends RunningServer {
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  /** Resolves when every configured target has been scraped successfully (up == 1), or throws RW_MONITOR after timeoutMs. */
  waitForTargets(timeoutMs?: number): Promise<void>;
}

const LOG_LIMIT = 16 * 1024;

function requireBinary(tool: string, given?: string): string {
  const found = findTool(given ?? tool);
  if (!found) {
    throw new RollwiseError('RW_MONITOR', `${given ?? tool} is not installed`, {
      hint: `install the Debian package '${toolPackage(tool)}' (apt-get install ${toolPackage(tool)}; scripts/install-test-deps.sh does)`,
    });
  }
  return found;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

/** Start a server process on a free port; retried on a port race. */
async function launch(
  name: string,
  dir: string,
  argvFor: (port: number) => string[],
  readyPath: string,
  timeoutMs: number,
): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  let lastLog = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    const [file, ...args] = argvFor(port);
    const child = spawn(file!, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    track(child);
    let log = '';
    const keep = (b: Buffer): void => {
      log = (log + b.toString('utf8')).slice(-LOG_LIMIT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    const deadline = Date.now() + timeoutMs;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${readyPath}`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.ok) return { child, port, log: () => log };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    lastLog = log;
    child.kill('SIGKILL');
    if (!exited || !/address already in use/i.test(log)) break;
  }
  throw new RollwiseError('RW_MONITOR', `${name} did not become ready: ${lastLog.trim().split('\n').slice(-3).join(' | ').slice(0, 500)}`, {
    hint: `run it by hand to see why; its files were in ${dir}`,
  });
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
}

export async function startPrometheusServer(options: PrometheusServerOptions): Promise<PrometheusServer> {
  const binary = requireBinary('prometheus', options.binary);
  const dir = await mkdtemp(path.join(options.tempParent ?? os.tmpdir(), 'rollwise-prometheus-'));
  const interval = `${Math.max(1, Math.round((options.scrapeIntervalMs ?? 1000) / 1000))}s`;
  const targetsFile = path.join(dir, 'targets.json');
  const renderTargets = (targets: readonly ScrapeTarget[]): string =>
    JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} })), null, 2);
  const config: Record<string, unknown> = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: 'rollwise', file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }] }],
  };
  if (options.rules !== undefined) {
    await writeFile(path.join(dir, 'rules.yml'), options.rules);
    config.rule_files = [path.join(dir, 'rules.yml')];
  }
  if (options.alertmanagers && options.alertmanagers.length > 0) {
    config.alerting = { alertmanagers: [{ static_configs: [{ targets: [...options.alertmanagers] }] }] };
  }
  try {
    await writeAtomically(targetsFile, renderTargets(options.targets));
    await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
    const { child, port, log } = await launch(
      'prometheus',
      dir,
      (p) => [
        binary,
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${p}`,
        '--storage.tsdb.retention.time=1d',
      ],
      '/-/ready',
      options.readyTimeoutMs ?? 30_000,
    );
    const url = `http://127.0.0.1:${port}`;
    let current = [...options.targets];
    return {
      url,
      port,
      dir,
      log,
      stop: stopper(child, dir),
      async setTargets(targets) {
        current = [...targets];
        await writeAtomically(targetsFile, renderTargets(targets));
      },
      async waitForTargets(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        let seen = '';
        while (Date.now() < deadline) {
          try {
            const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(2000) });
            const body = (await res.json()) as { data?: { activeTargets?: Array<{ scrapeUrl?: string; health?: string; lastScrape?: string }> } };
            const active = body.data?.activeTargets ?? [];
            const up = active.filter((t) => t.health === 'up');
            seen = `${up.length}/${current.length} up`;
            if (current.every((t) => up.some((a) => a.scrapeUrl?.includes(`//${t.address}/`)))) return;
          } catch {
            // retry
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        throw new RollwiseError('RW_MONITOR', `Prometheus targets not scraped within ${timeoutMs} ms (${seen})`, { hint: 'check that each target serves /metrics on its address' });
      },
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface AlertmanagerServerOptions {
  /** Webhook receivers' URLs every alert is sent to. */
  webhookUrls: readonly string[];
  /** Bearer token sent to the webhooks. */
  webhookToken?: string;
  binary?: string;
  tempParent?: string;
  /** group_wait / group_interval / repeat_interval; short defaults for the lab (1s, 1s, 1h). */
  groupWait?: string;
  groupInterval?: string;
  readyTimeoutMs?: number;
}

/** Debian's Alertmanager on a free loopback port, no cluster gossip, routing everything to the webhooks. */
export async function startAlertmanagerServer(options: AlertmanagerServerOptions): Promise<RunningServer> {
  const binary = requireBinary('prometheus-alertmanager', options.binary);
  const dir = await mkdtemp(path.join(options.tempParent ?? os.tmpdir(), 'rollwise-alertmanager-'));
  const config = {
    route: { receiver: 'rollwise', group_by: ['alertname', 'instance'], group_wait: options.groupWait ?? '1s', group_interval: options.groupInterval ?? '1s', repeat_interval: '1h' },
    receivers: [{
      name: 'rollwise',
      webhook_configs: options.webhookUrls.map((url) => ({
        url,
        send_resolved: true,
        ...(options.webhookToken ? { http_config: { authorization: { type: 'Bearer', credentials: options.webhookToken } } } : {}),
      })),
    }],
  };
  try {
    await writeFile(path.join(dir, 'alertmanager.yml'), stringify(config));
    const { child, port, log } = await launch(
      'prometheus-alertmanager',
      dir,
      (p) => [binary, `--config.file=${path.join(dir, 'alertmanager.yml')}`, `--storage.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${p}`, '--cluster.listen-address='],
      '/-/ready',
      options.readyTimeoutMs ?? 30_000,
    );
    return { url: `http://127.0.0.1:${port}`, port, dir, log, stop: stopper(child, dir) };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
