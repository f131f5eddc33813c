import { Counter, Gauge, Histogram, Registry, type LabelValues, type RegistryContentType } from 'prom-client';

/** Buckets from 0.5 ms to 900 s (Lambda's longest timeout), a 1-2.5-5 ladder. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900,
];

/** The platform's own cost per invocation: microseconds to a second. */
export const OVERHEAD_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Async event age: up to Lambda's maximum event age of 6 hours. */
export const EVENT_AGE_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21600];

/** What the scheduler reports at scrape time; gauges are computed from it, never kept by hand. */
export interface SchedulerSnapshot {
  /** In-flight invocations per function (the ledger's count, on-demand and provisioned). */
  concurrency: Map<string, number>;
  /** On-demand in-flight invocations of functions without reserved concurrency. */
  unreservedConcurrency: number;
  /** AWS's ClaimedAccountConcurrency. */
  claimedAccountConcurrency: number;
  /** Reserved concurrency per function. */
  reserved: Map<string, number>;
  /** The account (regional) concurrency limit. */
  accountLimit: number;
  /** Environments per function, state and kind. */
  environments: { functionName: string; state: string; kind: string; count: number }[];
}

/** One provisioned concurrency config at scrape time. */
export interface ProvisionedSnapshot {
  functionName: string;
  qualifier: string;
  /** Provisioned environments that finished Init and serve traffic. */
  allocated: number;
  /** Of those, busy with an invocation. */
  inUse: number;
}

/** Autoscaling state at scrape time. */
export interface AutoscalingSnapshot {
  functionName: string;
  qualifier: string;
  desired: number;
}

type FnQ = 'function' | 'qualifier';

/**
 * Every metric Laminar exports, created on one registry per Laminar instance. Names follow
 * design.md §4; the README's metrics table lists the same set (a test keeps them in step).
 * Gauges are computed at scrape time from the scheduler's state, never kept by hand.
 */
export class Metrics {
  /** OpenMetrics-capable, so the duration histogram can carry request-id exemplars. */
  readonly registry = openMetricsRegistry();
  private scheduler: () => SchedulerSnapshot = () => ({
    concurrency: new Map(),
    unreservedConcurrency: 0,
    claimedAccountConcurrency: 0,
    reserved: new Map(),
    accountLimit: 0,
    environments: [],
  });
  private provisioned: () => ProvisionedSnapshot[] = () => [];
  private autoscaling: () => AutoscalingSnapshot[] = () => [];
  private asyncDepth: () => Map<string, number> | Promise<Map<string, number>> = () => new Map();

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[], enableExemplars = false): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, enableExemplars, registers: [this.registry] });
  }

  /** A gauge whose series are all recomputed at each scrape from `series()` (which may read a store, asynchronously). */
  private gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    series: () => [Partial<Record<L, string>>, number][] | Promise<[Partial<Record<L, string>>, number][]>,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        const apply = (all: [Partial<Record<L, string>>, number][]) => {
          this.reset();
          for (const [labels, value] of all) this.set(labels, value);
        };
        const s = series();
        return s instanceof Promise ? s.then(apply) : apply(s);
      },
    });
  }

  // Invocations (CloudWatch: Invocations, Errors, Throttles, Duration, Init Duration)
  readonly invocations = this.counter('laminar_invocations_total', 'Invocations that ran function code, successful or not (throttles excluded).', ['function', 'qualifier']);
  readonly errors = this.counter('laminar_errors_total', 'Invocations that ended in a function error, by error type.', ['function', 'qualifier', 'type']);
  readonly throttles = this.counter('laminar_throttles_total', 'Invoke requests refused with 429, by throttle reason.', ['function', 'reason']);
  readonly coldStarts = this.counter('laminar_cold_starts_total', 'Invocations that had to initialise a new execution environment.', ['function', 'qualifier']);
  readonly duration = this.histogram('laminar_duration_seconds', 'Handler duration, Init excluded. Exemplars carry the request id (OpenMetrics).', ['function', 'qualifier'] as FnQ[], DURATION_BUCKETS, true);
  readonly initDuration = this.histogram('laminar_init_duration_seconds', 'Init duration of new execution environments.', ['function', 'qualifier'] as FnQ[], DURATION_BUCKETS);
  readonly schedulerOverhead = this.histogram('laminar_scheduler_overhead_seconds', "Laminar's own time per invocation: admission, placement, dispatch and logging (handler and Init excluded).", ['function'], OVERHEAD_BUCKETS);

  // Billing
  readonly billedDuration = this.counter('laminar_billed_duration_seconds_total', 'Billed duration: handler time rounded up to the millisecond.', ['function']);
  readonly billedGigabyteSeconds = this.counter('laminar_billed_gigabyte_seconds_total', 'Billed compute: MemorySize in GB times billed duration in seconds.', ['function']);

  // Concurrency (ConcurrentExecutions, UnreservedConcurrentExecutions, ClaimedAccountConcurrency)
  readonly concurrentExecutions = this.gauge('laminar_concurrent_executions', 'In-flight invocations per function, on-demand and provisioned.', ['function'], () =>
    [...this.scheduler().concurrency].map(([fn, n]) => [{ function: fn }, n]),
  );
  readonly accountConcurrentExecutions = this.gauge('laminar_account_concurrent_executions', 'In-flight invocations across all functions.', [], () => {
    let total = 0;
    for (const n of this.scheduler().concurrency.values()) total += n;
    return [[{}, total]];
  });
  readonly unreservedConcurrentExecutions = this.gauge('laminar_unreserved_concurrent_executions', 'On-demand in-flight invocations of functions without reserved concurrency.', [], () => [
    [{}, this.scheduler().unreservedConcurrency],
  ]);
  readonly claimedAccountConcurrency = this.gauge('laminar_claimed_account_concurrency', 'Unreserved concurrency in use plus all reservations plus provisioned concurrency of unreserved functions.', [], () => [
    [{}, this.scheduler().claimedAccountConcurrency],
  ]);
  readonly reservedConcurrency = this.gauge('laminar_reserved_concurrency', 'Reserved concurrency per function.', ['function'], () =>
    [...this.scheduler().reserved].map(([fn, n]) => [{ function: fn }, n]),
  );
  readonly accountConcurrencyLimit = this.gauge('laminar_account_concurrency_limit', 'The account (regional) concurrency limit.', [], () => [[{}, this.scheduler().accountLimit]]);

  // Environments
  readonly environments = this.gauge(
    'laminar_environments',
    'Execution environments by function, state (initializing, idle, busy) and kind (on-demand, provisioned).',
    ['function', 'state', 'kind'],
    () => this.scheduler().environments.map((e) => [{ function: e.functionName, state: e.state, kind: e.kind }, e.count]),
  );
  readonly evictions = this.counter('laminar_environment_evictions_total', 'Execution environments destroyed, by reason (idle-timeout, capacity, retired, failed, shutdown).', ['function', 'reason']);

  // Provisioned concurrency
  private perConfig(value: (p: ProvisionedSnapshot) => number | undefined): [Partial<Record<FnQ, string>>, number][] {
    const out: [Partial<Record<FnQ, string>>, number][] = [];
    for (const p of this.provisioned()) {
      const v = value(p);
      if (v !== undefined) out.push([{ function: p.functionName, qualifier: p.qualifier }, v]);
    }
    return out;
  }
  readonly provisionedAllocated = this.gauge('laminar_provisioned_concurrency_allocated', 'Provisioned environments that finished Init and serve traffic.', ['function', 'qualifier'] as FnQ[], () =>
    this.perConfig((p) => p.allocated),
  );
  readonly provisionedExecutions = this.gauge('laminar_provisioned_concurrency_executions', 'Provisioned environments busy with an invocation (ProvisionedConcurrentExecutions).', ['function', 'qualifier'] as FnQ[], () =>
    this.perConfig((p) => p.inUse),
  );
  readonly provisionedUtilization = this.gauge('laminar_provisioned_concurrency_utilization', 'Busy provisioned environments divided by allocated ones (ProvisionedConcurrencyUtilization).', ['function', 'qualifier'] as FnQ[], () =>
    this.perConfig((p) => (p.allocated > 0 ? p.inUse / p.allocated : undefined)),
  );
  readonly provisionedInvocations = this.counter('laminar_provisioned_concurrency_invocations_total', 'Invocations served by provisioned environments (ProvisionedConcurrencyInvocations).', ['function', 'qualifier']);
  readonly provisionedSpillover = this.counter(
    'laminar_provisioned_concurrency_spillover_invocations_total',
    'Invocations of a provisioned version that ran on on-demand environments because provisioned ones were busy.',
    ['function', 'qualifier'],
  );

  // Autoscaling
  readonly autoscalingActions: Counter<'function' | 'qualifier' | 'direction'> = (() => {
    const snapshot = () => this.autoscaling();
    return new Counter({
      name: 'laminar_autoscaling_actions_total',
      help: 'Scaling actions taken on provisioned concurrency, by direction (out, in).',
      labelNames: ['function', 'qualifier', 'direction'],
      registers: [this.registry],
      collect() {
        // Every registered target has both series from its first scrape, at 0, so increase()
        // sees its first action.
        for (const a of snapshot()) for (const direction of ['out', 'in']) this.inc({ function: a.functionName, qualifier: a.qualifier, direction }, 0);
      },
    });
  })();
  readonly autoscalingDesired = this.gauge('laminar_autoscaling_desired_capacity', 'Provisioned concurrency that target tracking last asked for.', ['function', 'qualifier'] as FnQ[], () =>
    this.autoscaling().map((a) => [{ function: a.functionName, qualifier: a.qualifier }, a.desired]),
  );

  // Asynchronous invocation
  readonly asyncReceived = this.counter('laminar_async_events_received_total', 'Event invocations accepted (AsyncEventsReceived).', ['function']);
  readonly asyncDropped = this.counter('laminar_async_events_dropped_total', 'Events discarded without success, by reason (AsyncEventsDropped).', ['function', 'reason']);
  readonly asyncEventAge = this.histogram('laminar_async_event_age_seconds', 'Time from accepting an event to invoking it, retries included (AsyncEventAge).', ['function'], EVENT_AGE_BUCKETS);
  readonly asyncStored = this.counter(
    'laminar_async_events_stored_total',
    'Events kept in the failed-event store, bound for a dead-letter queue or a destination Laminar does not deliver to, by reason.',
    ['function', 'reason'],
  );
  readonly destinationDeliveryFailures = this.counter(
    'laminar_async_destination_delivery_failures_total',
    'Invocation records that could not be delivered to a destination, by destination type (DestinationDeliveryFailures).',
    ['function', 'type'],
  );
  readonly deadLetterErrors = this.counter('laminar_async_dead_letter_errors_total', 'Events that could not be kept for their dead-letter queue (DeadLetterErrors).', ['function']);
  readonly asyncQueueDepth = this.gauge('laminar_async_queue_depth', 'Accepted events not yet finished, per function.', ['function'], async () =>
    [...(await this.asyncDepth())].map(([fn, n]): [{ function: string }, number] => [{ function: fn }, n]),
  );

  // Function URLs (UrlRequestCount, Url4xxCount, Url5xxCount, UrlRequestLatency)
  readonly urlRequests = this.counter('laminar_url_requests_total', 'Requests to function URLs, whatever the answer (UrlRequestCount).', ['function', 'qualifier']);
  readonly url4xx = this.counter(
    'laminar_url_4xx_responses_total',
    'Function URL requests answered with a 4xx status: refused signatures, throttles, and 4xx the function returned (Url4xxCount).',
    ['function', 'qualifier'],
  );
  readonly url5xx = this.counter(
    'laminar_url_5xx_responses_total',
    'Function URL requests answered with a 5xx status: function errors (502) and faults (Url5xxCount).',
    ['function', 'qualifier'],
  );
  readonly urlDuration = this.histogram(
    'laminar_url_request_duration_seconds',
    'Time from receiving a function URL request to answering it, Init and handler included (UrlRequestLatency).',
    ['function', 'qualifier'] as FnQ[],
    DURATION_BUCKETS,
  );

  /** Counts one answer of a function URL; the 4xx and 5xx series start at 0 so rates see their first one. */
  recordUrlRequest(labels: LabelValues<FnQ>, status: number, seconds: number): void {
    this.urlRequests.inc(labels);
    this.url4xx.inc(labels, status >= 400 && status < 500 ? 1 : 0);
    this.url5xx.inc(labels, status >= 500 ? 1 : 0);
    this.urlDuration.observe(labels, seconds);
  }

  // Scheduled rules (EventBridge: TriggeredRules, Invocations, FailedInvocations)
  readonly scheduleTriggeredRules = this.counter('laminar_schedule_triggered_rules_total', 'Scheduled rule runs: one per rule per scheduled instant (TriggeredRules).', ['rule']);
  readonly scheduleInvocations = this.counter('laminar_schedule_invocations_total', "Events a scheduled rule handed to a target's asynchronous invoke (Invocations).", ['rule']);
  readonly scheduleFailedInvocations = this.counter(
    'laminar_schedule_failed_invocations_total',
    'Targets a scheduled rule could not invoke, by reason (FunctionNotFound, InternalError) (FailedInvocations).',
    ['rule', 'reason'],
  );

  bindScheduler(source: () => SchedulerSnapshot): void {
    this.scheduler = source;
  }

  bindProvisioned(source: () => ProvisionedSnapshot[]): void {
    this.provisioned = source;
  }

  bindAutoscaling(source: () => AutoscalingSnapshot[]): void {
    this.autoscaling = source;
  }

  bindAsyncQueue(source: () => Map<string, number> | Promise<Map<string, number>>): void {
    this.asyncDepth = source;
  }

  /** Every metric name, as exposed (for the catalogue test and the README). */
  names(): string[] {
    return this.registry.getMetricsAsArray().map((m) => exposedName(m as unknown as NamedMetric));
  }

  /** Records a handler duration with the request id as its exemplar. */
  observeDuration(labels: LabelValues<FnQ>, seconds: number, requestId: string): void {
    // prom-client types exemplar labels as the metric's own label names; ours is request_id.
    const exemplarLabels = { request_id: requestId } as unknown as LabelValues<FnQ>;
    this.duration.observe({ labels, value: seconds, exemplarLabels });
  }
}

/** The two fields of a prom-client metric object that naming depends on. */
export interface NamedMetric {
  name: string;
  type: string;
}

/**
 * The name a metric is exposed under in the Prometheus format: counters end in `_total`.
 * prom-client strips that suffix from a counter's own name while it renders OpenMetrics.
 */
export function exposedName(m: NamedMetric): string {
  return m.type === 'counter' && !m.name.endsWith('_total') ? `${m.name}_total` : m.name;
}

/** prom-client's types omit the Registry constructor that selects the exposition format. */
function openMetricsRegistry(): Registry<RegistryContentType> {
  const Ctor = Registry as unknown as new (contentType: RegistryContentType) => Registry<RegistryContentType>;
  return new Ctor(Registry.OPENMETRICS_CONTENT_TYPE);
}
