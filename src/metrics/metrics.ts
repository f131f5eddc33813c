import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Buckets from 0.5 ms to 900 s (Lambda's longest timeout), a 1-2.5-5 ladder. */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900,
];

/** What the scheduler reports at scrape time; gauges are computed from it, never kept by hand. */
export interface SchedulerSnapshot {
  /** In-flight invocations per function (the ledger's count). */
  concurrency: Map<string, number>;
  /** In-flight invocations of functions without reserved concurrency. */
  unreservedConcurrency: number;
  /** Unreserved in use plus all reservations (AWS's ClaimedAccountConcurrency). */
  claimedAccountConcurrency: number;
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

/**
 * Every metric Laminar exports, created on one registry per Laminar instance. Names follow
 * design.md §4; the README's metrics table lists the same set.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly invocations: Counter<'function' | 'qualifier'>;
  readonly errors: Counter<'function' | 'qualifier' | 'type'>;
  readonly throttles: Counter<'function' | 'reason'>;
  readonly coldStarts: Counter<'function' | 'qualifier'>;
  readonly duration: Histogram<'function' | 'qualifier'>;
  readonly initDuration: Histogram<'function' | 'qualifier'>;
  readonly billedGbSeconds: Counter<'function'>;
  readonly concurrentExecutions: Gauge<'function'>;
  readonly accountConcurrentExecutions: Gauge;
  readonly environments: Gauge<'function' | 'state' | 'kind'>;
  readonly unreservedConcurrentExecutions: Gauge;
  readonly claimedAccountConcurrency: Gauge;
  readonly evictions: Counter<'function' | 'reason'>;
  readonly provisionedAllocated: Gauge<'function' | 'qualifier'>;
  readonly provisionedExecutions: Gauge<'function' | 'qualifier'>;
  readonly provisionedUtilization: Gauge<'function' | 'qualifier'>;
  readonly provisionedInvocations: Counter<'function' | 'qualifier'>;
  readonly provisionedSpillover: Counter<'function' | 'qualifier'>;
  private provisioned: () => ProvisionedSnapshot[] = () => [];
  private snapshot: () => SchedulerSnapshot = () => ({
    concurrency: new Map(),
    unreservedConcurrency: 0,
    claimedAccountConcurrency: 0,
    environments: [],
  });

  constructor() {
    const registers = [this.registry];
    this.invocations = new Counter({
      name: 'laminar_invocations_total',
      help: 'Invocations that ran function code, successful or not (throttles excluded).',
      labelNames: ['function', 'qualifier'] as const,
      registers,
    });
    this.errors = new Counter({
      name: 'laminar_errors_total',
      help: 'Invocations that ended in a function error, by error type.',
      labelNames: ['function', 'qualifier', 'type'] as const,
      registers,
    });
    this.throttles = new Counter({
      name: 'laminar_throttles_total',
      help: 'Invoke requests refused with 429, by throttle reason.',
      labelNames: ['function', 'reason'] as const,
      registers,
    });
    this.coldStarts = new Counter({
      name: 'laminar_cold_starts_total',
      help: 'Invocations that had to initialise a new execution environment.',
      labelNames: ['function', 'qualifier'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'laminar_duration_seconds',
      help: 'Handler duration, Init excluded.',
      labelNames: ['function', 'qualifier'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.initDuration = new Histogram({
      name: 'laminar_init_duration_seconds',
      help: 'Init duration of new execution environments.',
      labelNames: ['function', 'qualifier'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.billedGbSeconds = new Counter({
      name: 'laminar_billed_gb_seconds_total',
      help: 'Billed compute: MemorySize in GB times billed duration in seconds.',
      labelNames: ['function'] as const,
      registers,
    });
    const self = this;
    this.concurrentExecutions = new Gauge({
      name: 'laminar_concurrent_executions',
      help: 'In-flight invocations per function.',
      labelNames: ['function'] as const,
      registers,
      collect() {
        this.reset();
        for (const [fn, n] of self.snapshot().concurrency) this.set({ function: fn }, n);
      },
    });
    this.accountConcurrentExecutions = new Gauge({
      name: 'laminar_account_concurrent_executions',
      help: 'In-flight invocations across all functions.',
      registers,
      collect() {
        let total = 0;
        for (const n of self.snapshot().concurrency.values()) total += n;
        this.set(total);
      },
    });
    this.unreservedConcurrentExecutions = new Gauge({
      name: 'laminar_unreserved_concurrent_executions',
      help: 'In-flight invocations of functions without reserved concurrency.',
      registers,
      collect() {
        this.set(self.snapshot().unreservedConcurrency);
      },
    });
    this.claimedAccountConcurrency = new Gauge({
      name: 'laminar_claimed_account_concurrency',
      help: 'Unreserved concurrency in use plus all reserved concurrency (ClaimedAccountConcurrency).',
      registers,
      collect() {
        this.set(self.snapshot().claimedAccountConcurrency);
      },
    });
    this.evictions = new Counter({
      name: 'laminar_environment_evictions_total',
      help: 'Execution environments destroyed, by reason (idle-timeout, capacity, retired, failed, shutdown).',
      labelNames: ['function', 'reason'] as const,
      registers,
    });
    const perConfig = (gauge: Gauge<'function' | 'qualifier'>, value: (p: ProvisionedSnapshot) => number | undefined) => {
      gauge.reset();
      for (const p of self.provisioned()) {
        const v = value(p);
        if (v !== undefined) gauge.set({ function: p.functionName, qualifier: p.qualifier }, v);
      }
    };
    this.provisionedAllocated = new Gauge({
      name: 'laminar_provisioned_concurrency_allocated',
      help: 'Provisioned environments that finished Init and serve traffic.',
      labelNames: ['function', 'qualifier'] as const,
      registers,
      collect() {
        perConfig(this, (p) => p.allocated);
      },
    });
    this.provisionedExecutions = new Gauge({
      name: 'laminar_provisioned_concurrency_executions',
      help: 'Provisioned environments busy with an invocation (ProvisionedConcurrentExecutions).',
      labelNames: ['function', 'qualifier'] as const,
      registers,
      collect() {
        perConfig(this, (p) => p.inUse);
      },
    });
    this.provisionedUtilization = new Gauge({
      name: 'laminar_provisioned_concurrency_utilization',
      help: 'Busy provisioned environments divided by allocated ones (ProvisionedConcurrencyUtilization).',
      labelNames: ['function', 'qualifier'] as const,
      registers,
      collect() {
        perConfig(this, (p) => (p.allocated > 0 ? p.inUse / p.allocated : undefined));
      },
    });
    this.provisionedInvocations = new Counter({
      name: 'laminar_provisioned_concurrency_invocations_total',
      help: 'Invocations served by provisioned environments (ProvisionedConcurrencyInvocations).',
      labelNames: ['function', 'qualifier'] as const,
      registers,
    });
    this.provisionedSpillover = new Counter({
      name: 'laminar_provisioned_concurrency_spillover_invocations_total',
      help: 'Invocations of a provisioned version that ran on on-demand environments because provisioned ones were busy.',
      labelNames: ['function', 'qualifier'] as const,
      registers,
    });
    this.environments = new Gauge({
      name: 'laminar_environments',
      help: 'Execution environments by function, state (initializing, idle, busy) and kind (on-demand, provisioned).',
      labelNames: ['function', 'state', 'kind'] as const,
      registers,
      collect() {
        this.reset();
        for (const e of self.snapshot().environments) {
          this.set({ function: e.functionName, state: e.state, kind: e.kind }, e.count);
        }
      },
    });
  }

  /** Connects the provisioned concurrency gauges to their configs. */
  bindProvisioned(source: () => ProvisionedSnapshot[]): void {
    this.provisioned = source;
  }

  /** Connects scrape-time gauges to the scheduler's state. */
  bindSnapshot(source: () => SchedulerSnapshot): void {
    this.snapshot = source;
  }
}
