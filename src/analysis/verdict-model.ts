/**
 * Analysis as data: metric checks (a provider query, success and failure conditions, an interval
 * and limits), the measurements providers return, and verdicts with their evidence. Also the
 * metric-provider port, declared here beside its caller (runAnalysis in ./verdict-run.ts) and
 * implemented in src/monitor. Everything is JSON-serialisable; a provider error is a measurement
 * of kind `error`, and "no data" is its own kind that never passes.
 */

/** Where a check's values come from. */
export type ProviderKind = 'prometheus' | 'http' | 'command' | 'alerts';

/** What a check asks its provider for. */
export type CheckQuery =
  /** One value per host: `hostLabel` (default: the provider's, e.g. `instance`) names the host. */
  | { provider: 'prometheus'; promql: string; hostLabel?: string }
  /** An HTTP request to each host; value 1 when healthy (status and body as expected), else 0. */
  | { provider: 'http'; url: string; expectStatus: number; contains?: string; timeoutMs: number }
  /** A command run on each host through its host driver; value 1 when it exits `expectExit`, else 0. */
  | { provider: 'command'; argv: string[]; expectExit: number; timeoutMs: number }
  /** Alerts received from Alertmanager: value = alerts firing for the host (matching `labels`). */
  | { provider: 'alerts'; labels?: Record<string, string> };

/** One value of one host at one time (ms since the epoch). */
export interface Sample {
  host: string;
  at: number;
  value: number;
  /** What a probe saw (status, exit code, error), short. */
  detail?: string;
}

/** Why a provider could not answer. */
export type ProviderErrorReason = 'connection' | 'timeout' | 'http-status' | 'bad-response' | 'query-error' | 'host-unreachable' | 'no-provider';

interface MeasurementBase {
  check: string;
  provider: ProviderKind;
  /** The query as text (PromQL, URL, argv joined by spaces, alert labels). */
  query: string;
  /** When it was taken (ms since the epoch). */
  at: number;
  /** For range queries: the window the samples cover. */
  window?: TimeWindow;
}

export type Measurement =
  | (MeasurementBase & { kind: 'value'; samples: Sample[] })
  | (MeasurementBase & { kind: 'no-data' })
  | (MeasurementBase & { kind: 'error'; reason: ProviderErrorReason; message: string });

export interface TimeWindow {
  start: number;
  end: number;
}

export interface MeasureRequest {
  check: string;
  query: CheckQuery;
  /** The hosts whose values are wanted (samples of other hosts are dropped). */
  hosts: readonly string[];
  /** Instant: evaluate at this time (ms since the epoch); omitted: now. */
  at?: number;
  /** Range: every `stepMs` over the window. */
  range?: TimeWindow & { stepMs: number };
}

/** The metric-provider port: one measurement per call, never a thrown error for what the world causes. */
export interface MetricProvider {
  readonly kind: ProviderKind;
  measure(request: MeasureRequest): Promise<Measurement>;
}

export type Providers = Partial<Record<ProviderKind, MetricProvider>>;

export type ComparisonOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** All terms must hold (`>= 0.5 and <= 2`). Plain numbers, strict `<` and `>`: not the relation grammar. */
export interface Condition {
  terms: Array<{ op: ComparisonOp; value: number }>;
  /** The text it was read from, for evidence. */
  text: string;
}

/** Which way a change hurts, for the canary judge. */
export type Direction = 'higher-is-worse' | 'lower-is-worse' | 'either';

export interface CanaryOptions {
  direction: Direction;
  /** Smallest shift that counts, relative to the control median (0.1 = 10%). */
  minRelativeEffect: number;
  /** Smallest shift that counts, in the metric's unit (for metrics whose control median is about 0). */
  minAbsoluteEffect: number;
  /** Significance level of the one-sided (or two-sided for `either`) rank test. */
  alpha: number;
  /** Fewer samples than this in either group: the judge abstains. */
  minSamples: number;
}

export interface MetricCheck {
  name: string;
  query: CheckQuery;
  /** A value is a success when this holds (and a failure when it does not, unless failureCondition is given). */
  successCondition?: Condition;
  /** A value is a failure when this holds. */
  failureCondition?: Condition;
  /** Time between measurements (ms). */
  intervalMs: number;
  /** Measurements to take; omitted: as many as fit in the bake time. */
  count?: number;
  /** Failed measurements a host may have before the check fails (default 0). */
  failureLimit: number;
  /** Inconclusive measurements (neither condition, or no data) a host may have (default 0). */
  inconclusiveLimit: number;
  /** Consecutive provider errors tolerated before the check is inconclusive (default 4). */
  consecutiveErrorLimit: number;
  /** Compare changed hosts with control hosts (or a baseline); omitted: thresholds only. */
  canary?: CanaryOptions;
  /** Where the check came from (KB service and metric, or a deployment file). */
  origin?: string;
}

/** One measurement judged for one host. */
export type MeasurementPhase = 'successful' | 'failed' | 'inconclusive' | 'no-data' | 'error';

export type VerdictStatus = 'passed' | 'failed' | 'inconclusive';

/** Named reasons, no sentences: the render layer makes the words. */
export type VerdictReason =
  | { kind: 'failure-limit'; host: string; failed: number; limit: number }
  | { kind: 'inconclusive-limit'; host: string; inconclusive: number; limit: number }
  | { kind: 'consecutive-errors'; errors: number; limit: number; lastError: string }
  | { kind: 'no-data'; hosts: string[] }
  | { kind: 'no-measurement' }
  /** The provider failed to answer (`errors` times): its first distinct messages, so a person sees why. */
  | { kind: 'provider-errors'; errors: number; messages: string[] }
  | { kind: 'canary-worse'; statistic: CanaryStatistic }
  | { kind: 'fleet-wide'; controlHostsFailing: string[]; statistic?: CanaryStatistic }
  | { kind: 'within-limits' };

/** The rank test behind a canary decision. */
export interface CanaryStatistic {
  test: 'mann-whitney-u';
  method: 'exact' | 'normal';
  u: number;
  pValue: number;
  /** Hodges-Lehmann shift (changed minus control), in the metric's unit. */
  shift: number;
  /** Shift relative to the control median (Infinity when that median is 0 and shift is not). */
  relativeShift: number;
  changedMedian: number;
  controlMedian: number;
  changedCount: number;
  controlCount: number;
  /** `control`: hosts not yet changed over the same window; `baseline`: the same hosts before the wave. */
  against: 'control' | 'baseline';
  direction: Direction;
  outcome: 'worse' | 'similar' | 'insufficient';
}

export interface HostTally {
  host: string;
  successful: number;
  failed: number;
  inconclusive: number;
  noData: number;
  /** Last values seen, oldest first (at most a few). */
  values: number[];
}

/** The evidence of a check's verdict: what a person (or the journal) needs to see why. */
export interface CheckEvidence {
  metric: string;
  provider: ProviderKind;
  query: string;
  window: TimeWindow;
  successCondition?: string;
  failureCondition?: string;
  measurements: number;
  errors: number;
  changed: HostTally[];
  control: HostTally[];
  statistic?: CanaryStatistic;
  /** Hosts the verdict is about (failing hosts for `failed`). */
  hosts: string[];
}

export interface CheckVerdict {
  check: string;
  status: VerdictStatus;
  reasons: VerdictReason[];
  evidence: CheckEvidence;
}

export interface AnalysisVerdict {
  status: VerdictStatus;
  checks: CheckVerdict[];
  window: TimeWindow;
  /** The run stopped before the bake time ended (a failed check, or too many errors). */
  stoppedEarly: boolean;
}

/** The controller's clock: tests and replays use a fake one. */
export interface AnalysisClock {
  now(): number;
  /** Resolves after `ms` (or earlier when `signal` aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const ORDER: Record<VerdictStatus, number> = { passed: 0, inconclusive: 1, failed: 2 };

/** The worst of several verdicts (failed, then inconclusive, then passed); none: inconclusive. */
export function worstStatus(statuses: readonly VerdictStatus[]): VerdictStatus {
  if (statuses.length === 0) return 'inconclusive';
  return statuses.reduce((a, b) => (ORDER[b] > ORDER[a] ? b : a));
}
