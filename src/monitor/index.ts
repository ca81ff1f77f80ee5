// Public surface of the monitor layer (see docs/ARCHITECTURE.md).
export { createPrometheusProvider, parseSampleValue, describeFetchError, type PrometheusProvider, type PrometheusProviderOptions } from './prometheus.js';
export {
  createHttpProbeProvider, createCommandProbeProvider, observeCommand, probeHttp,
  type CommandObservation, type CommandProbeOptions, type HttpProbeOptions,
} from './probes.js';
export {
  startAlertReceiver, WebhookPayloadSchema, AlertSchema,
  type AlertReceiver, type AlertReceiverOptions, type ReceivedAlert, type WebhookPayload,
} from './alertmanager.js';
export {
  startPrometheusServer, startAlertmanagerServer, freeLoopbackPort,
  type PrometheusServer, type PrometheusServerOptions, type AlertmanagerServerOptions, type RunningServer, type ScrapeTarget,
} from './prometheus-server.js';
