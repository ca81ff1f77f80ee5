// The example lab's service (rollwise demo) and the test lab's (test/lab/service links here): a
// tiny HTTP server on 127.0.0.1 exposing Prometheus metrics. Its behaviour (error rate, latency,
// memory growth, crash) comes from the JSON file its package version ships; a `faults` entry
// changes it while a file exists in the host's root (another package installed beside it), so
// one version can be healthy on some hosts and faulty on others. It serves synthetic traffic to
// itself (50 requests a second) so its metrics move without load.
// Usage: node metrics-server.mjs CONFIG.json PORT [ROOT]
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const [configPath, portText, root] = process.argv.slice(2);
const shipped = JSON.parse(readFileSync(configPath, 'utf8'));
// faults: [{ whenExists: '/usr/share/x/enabled', errorRate: 0.3, ... }]: the first whose file exists in ROOT applies
const fault = (Array.isArray(shipped.faults) ? shipped.faults : []).find(
  (f) => typeof f?.whenExists === 'string' && existsSync(path.join(root ?? '/', f.whenExists)),
);
const config = { ...shipped, ...(fault ?? {}) };
const name = String(config.name);
const version = String(config.version);
const errorRate = Math.min(1, Math.max(0, Number(config.errorRate ?? 0)));
const latencyMs = Math.max(0, Number(config.latencyMs ?? 5));
const growth = Math.max(0, Number(config.memoryGrowthMiBPerSecond ?? 0));
const crashAfter = config.crashAfterSeconds === undefined ? undefined : Number(config.crashAfterSeconds);
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const startedAt = Date.now() / 1000;

const counts = { 200: 0, 500: 0 };
const bucketCounts = buckets.map(() => 0);
let durationSum = 0;
let durationCount = 0;
let served = 0;
const hog = [];

function observe(seconds) {
  durationSum += seconds;
  durationCount += 1;
  buckets.forEach((b, i) => {
    if (seconds <= b) bucketCounts[i] += 1;
  });
}

/** Deterministic: over any run of requests the fraction of errors tracks errorRate. */
function nextIsError() {
  served += 1;
  return Math.floor(served * errorRate) > Math.floor((served - 1) * errorRate);
}

function synthetic() {
  const code = nextIsError() ? 500 : 200;
  counts[code] += 1;
  const jitter = 0.8 + 0.4 * ((served * 7919) % 100) / 100;
  observe((latencyMs * jitter) / 1000);
}

const labels = `service="${name}",version="${version}"`;
function metrics() {
  const lines = [
    '# HELP lab_build_info Version of the installed package.',
    '# TYPE lab_build_info gauge',
    `lab_build_info{${labels}} 1`,
    '# HELP lab_requests_total Requests served, by status code.',
    '# TYPE lab_requests_total counter',
    `lab_requests_total{${labels},code="200"} ${counts[200]}`,
    `lab_requests_total{${labels},code="500"} ${counts[500]}`,
    '# HELP lab_request_duration_seconds Request latency.',
    '# TYPE lab_request_duration_seconds histogram',
  ];
  buckets.forEach((b, i) => lines.push(`lab_request_duration_seconds_bucket{${labels},le="${b}"} ${bucketCounts[i]}`));
  lines.push(
    `lab_request_duration_seconds_bucket{${labels},le="+Inf"} ${durationCount}`,
    `lab_request_duration_seconds_sum{${labels}} ${durationSum}`,
    `lab_request_duration_seconds_count{${labels}} ${durationCount}`,
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${process.memoryUsage().rss}`,
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${startedAt}`,
    '',
  );
  return lines.join('\n');
}

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(metrics());
    return;
  }
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${name} ${version}\n`);
    return;
  }
  const code = nextIsError() ? 500 : 200;
  setTimeout(() => {
    counts[code] += 1;
    observe(latencyMs / 1000);
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end(code === 200 ? `ok ${version}\n` : `error ${version}\n`);
  }, latencyMs);
});

server.listen(Number(portText ?? 0), '127.0.0.1', () => {
  const port = server.address().port;
  if (root) {
    try {
      mkdirSync(`${root}/run/lab`, { recursive: true });
      writeFileSync(`${root}/run/lab/${name}.port`, `${port}\n`);
    } catch {
      // best effort
    }
  }
  process.stdout.write(`${name} ${version} listening on 127.0.0.1:${port}\n`);
});

setInterval(synthetic, 20).unref();
if (growth > 0) {
  setInterval(() => {
    if (hog.length * growth < 512) hog.push(Buffer.alloc(Math.round(growth * 1024 * 1024), 1));
  }, 1000);
}
if (crashAfter !== undefined) {
  setTimeout(() => {
    process.stderr.write(`${name} ${version}: crashing as its version says\n`);
    process.exit(1);
  }, crashAfter * 1000);
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
