/** The scheduler's ports and values: what callers pass in and get back. */
import type { Clock } from '../core/clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import type { LedgerView } from './admission/ledger.js';
import type { LedgerPort } from './admission/port.js';
import type { ThrottleReason } from './admission/reasons.js';
import type { Environments } from './environments.js';
import type { EnvironmentKind, PooledEnvironment } from './function-pool.js';
import type { Reaper } from './reaper.js';

/**
 * What the scheduler tells provisioned concurrency. The scheduler owns this port; provisioned
 * concurrency implements it and is passed in at construction.
 */
export interface ProvisionedPort {
  /** Counts ProvisionedConcurrencyInvocations / SpilloverInvocations for the invoked qualifier. */
  recordInvocation(target: ResolvedTarget, kind: EnvironmentKind): void;
  /** A provisioned environment died or its pool was retired: allocate a replacement. */
  replace(member: PooledEnvironment): void;
}

export interface SchedulerOptions {
  clock: Clock;
  metrics: Metrics;
  /** Admission: grants and scaling-rate tokens (in memory, or shared through Redis in a cluster). */
  ledger: LedgerPort;
  /** What the ledger holds, read without waiting: the live embedded ledger, or a cluster's recent snapshot. */
  view: LedgerView;
  /** Owns every environment: the scheduler asks it to create, take, release and destroy. */
  environments: Environments;
  /** Keep-alive and capacity eviction. */
  reaper: Reaper;
  /** Provisioned concurrency, when the server runs it. */
  provisioned?: ProvisionedPort;
}

export interface InvokeOptions {
  requestId?: string;
  /** Decoded client context JSON (sync invokes only). */
  clientContext?: string;
}

export interface InvocationResult {
  requestId: string;
  executedVersion: string;
  /** Result JSON, or the function error object's JSON, as bytes. */
  payload: Buffer;
  /** Set when the function failed: the errorType. */
  functionError?: string;
  /** The invocation's whole log: START, app lines, END, REPORT (Init lines on a cold start). */
  log: string;
  coldStart: boolean;
  /** Why a new environment was created, when it was. */
  coldStartReason?: string;
  durationMs: number;
  initDurationMs?: number;
}

/** A throttle as a value: what the 429 says. */
export interface Throttle {
  reason: ThrottleReason;
  retryAfterSeconds: number;
}
