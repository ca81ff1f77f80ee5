/**
 * A tiny Prometheus exporter per lab host (prom-client), whose values a test sets directly: an
 * error ratio, a latency and a request counter, served on 127.0.0.1 at /metrics. Lets a test
 * show that a change in what a host exports reaches a verdict through real Prometheus.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';

export interface TestExporter {
  host: string;
  /** host:port, a scrape target's address */
  address: string;
  set(values: { errorRatio?: number; latencySeconds?: number }): void;
  close(): Promise<void>;
}

export async function startTestExporter(host: string, initial: { errorRatio?: number; latencySeconds?: number } = {}): Promise<TestExporter> {
  const registry = new Registry();
  const errorRatio = new Gauge({ name: 'rollwise_test_error_ratio', help: 'Share of requests that failed.', registers: [registry] });
  const latency = new Gauge({ name: 'rollwise_test_latency_seconds', help: 'Request latency.', registers: [registry] });
  const requests = new Counter({ name: 'rollwise_test_requests_total', help: 'Requests served.', registers: [registry] });
  errorRatio.set(initial.errorRatio ?? 0);
  latency.set(initial.latencySeconds ?? 0.01);
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    requests.inc(10);
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host,
    address: `127.0.0.1:${port}`,
    set(values) {
      if (values.errorRatio !== undefined) errorRatio.set(values.errorRatio);
      if (values.latencySeconds !== undefined) latency.set(values.latencySeconds);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
