/**
 * Runs the events of the queue: leases due events, resolves each one's function afresh, invokes
 * it through the same scheduler as synchronous invokes, and applies the retry policy's decision
 * (complete, reschedule, drop). A thin driver: what to do after an attempt is `retry-policy.ts`,
 * how many events to hold is `lease-caps.ts`, both pure; this file does the I/O and the timing.
 *
 * - Woken, never polling: by an enqueue, by an attempt that finished, and by a Clock timer at the
 *   queue's next due time. Only when something is due but held back by a cap that synchronous
 *   invokes fill (they finish without telling the dispatcher) does it look again after a second.
 * - Invoke by reference: an event names its function and qualifier; the target is resolved at
 *   every attempt, so an attempt after a code update runs the new code on the new code's warm
 *   environments, and a deleted function's events are dropped.
 * - At most `maxConcurrency` attempts at once, whatever the backlog, so events never crowd out
 *   synchronous invokes; within that, the queue takes functions in turn.
 * - Shutdown: an attempt that shutdown cut short (or refused) is not counted: its lease stays,
 *   and the next start releases it to run again with the retries it had.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { LaminarError, ResourceNotFoundException, TooManyRequestsException } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { unreservedCapacity, unreservedInFlight, unreservedProvisioned, type Ledger } from '../scheduler/admission/ledger.js';
import type { InvocationResult, InvokeOptions } from '../scheduler/scheduler.js';
import { leaseCaps } from './lease-caps.js';
import type { AttemptRecord, EventQueue, Lease, QueuedEvent } from './queue.js';
import {
  DEFAULT_RETRY_CONFIG,
  decideAttempt,
  decideRetry,
  type AttemptOutcome,
  type DropReason,
  type RetryConfig,
} from './retry-policy.js';

/**
 * How long a lease lasts: Lambda's longest timeout (900 s) and a minute to record the outcome.
 * A lease only matters when its holder dies; on one node the next start releases every lease
 * at once (the data dir has one server), so this bounds recovery only where nodes share a queue.
 */
export const LEASE_VISIBILITY_MS = (900 + 60) * 1000;

/** How soon to look again when a due event is held back by capacity that synchronous invokes use. */
export const BLOCKED_RETRY_MS = 1000;

/** The retry settings of a function and qualifier (its event invoke config, once it has one). */
export type RetrySettings = Omit<RetryConfig, 'reservedConcurrency'>;

/** What the invoke route hands over for an Event invocation. */
export interface SubmittedEvent {
  functionName: string;
  /** Version or alias as the caller named it; absent for the unqualified function. */
  qualifier?: string;
  payload: Buffer;
  requestId: string;
}

/** Where Event invocations go: resolves once the event is durable. */
export interface EventSink {
  submit(event: SubmittedEvent): Promise<void>;
}

/** The part of the scheduler the dispatcher uses. */
export interface DispatchScheduler {
  invoke(target: ResolvedTarget, options: InvokeOptions, payload: Buffer): Promise<InvocationResult>;
  reservation(functionName: string): number | undefined;
}

export interface DispatcherOptions {
  queue: EventQueue;
  scheduler: DispatchScheduler;
  /** Resolves a function and qualifier as the sync invoke path does (registry.resolve). */
  resolve(functionName: string, qualifier: string | undefined): ResolvedTarget;
  /** Read for the caps; the dispatcher never changes it. */
  ledger: Ledger;
  metrics: Metrics;
  clock: Clock;
  /** Attempts in flight at once, across functions. */
  maxConcurrency: number;
  /** @defaultValue Lambda's defaults (2 retries, 6 hours, about 1 and 2 minutes apart) for every function */
  retrySettings?: (functionName: string, qualifier: string | undefined) => RetrySettings;
  /** Faults of the queue itself (the events stay leased and run again after a restart). */
  onError?: (err: unknown) => void;
}

interface Attempted {
  outcome: AttemptOutcome;
  record?: AttemptRecord;
}

export class Dispatcher implements EventSink {
  private readonly attempts = new Set<Promise<void>>();
  /** Attempts inside the scheduler, per function: the part of the ledger's count that is ours. */
  private readonly running = new Map<string, number>();
  private runningUnreserved = 0;
  private pumping: Promise<void> | undefined;
  /** Set by every wake-up; the pump runs again until a pass started after the last one. */
  private again = false;
  private timer: { handle: TimerHandle; at: number } | undefined;
  private stopped = false;

  constructor(private readonly o: DispatcherOptions) {
    o.metrics.bindAsyncQueue(() => o.queue.depth());
  }

  /** Starts dispatching what the queue holds (events accepted before a restart). */
  start(): void {
    this.notify();
  }

  async submit(event: SubmittedEvent): Promise<void> {
    await this.o.queue.enqueue({ ...event, acceptedAt: this.o.clock.now() });
    this.o.metrics.asyncReceived.inc({ function: event.functionName });
    this.notify();
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.attempts.size;
  }

  /** Resolves once the dispatcher has leased all it may for now (attempts may still run). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /** Resolves once no attempt is in flight and nothing is being leased (tests wait on it). */
  async settled(): Promise<void> {
    while (this.pumping || this.attempts.size > 0) await Promise.allSettled([this.pumping, ...this.attempts]);
  }

  /** Takes no new event; attempts in flight finish on their own (the scheduler's shutdown bounds them). */
  stop(): void {
    this.stopped = true;
    this.timer?.handle.cancel();
    this.timer = undefined;
  }

  /** Stops, then waits for the attempts in flight to record their outcome (before the queue closes). */
  async close(): Promise<void> {
    this.stop();
    await this.settled();
  }

  private notify(): void {
    if (this.stopped) return;
    this.again = true;
    if (!this.pumping) this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      while (this.again && !this.stopped) {
        this.again = false;
        await this.leaseWhilePossible();
        await this.arm();
      }
    } catch (err) {
      this.o.onError?.(err);
      if (!this.stopped) this.armAt(this.o.clock.now() + BLOCKED_RETRY_MS);
    } finally {
      this.pumping = undefined;
    }
  }

  private async leaseWhilePossible(): Promise<void> {
    while (!this.stopped && this.attempts.size < this.o.maxConcurrency) {
      const lease = await this.o.queue.lease(this.o.clock.now(), LEASE_VISIBILITY_MS, this.leaseOptions());
      // Leased as shutdown began: left leased, the next start releases it untouched.
      if (!lease || this.stopped) return;
      this.launch(lease);
    }
  }

  private leaseOptions(): ReturnType<typeof leaseCaps> {
    const ledger = this.o.ledger;
    return leaseCaps({
      reserved: ledger.reserved,
      concurrency: (fn) => ledger.concurrency(fn),
      running: this.running,
      unreservedPool: unreservedCapacity(ledger),
      unreservedUsed: unreservedInFlight(ledger) + unreservedProvisioned(ledger),
      runningUnreserved: this.runningUnreserved,
    });
  }

  /** Sets the wake-up timer for the next due event, or for a look again when capacity held one back. */
  private async arm(): Promise<void> {
    const next = await this.o.queue.nextDueAt();
    const now = this.o.clock.now();
    if (next === undefined || this.stopped) return;
    if (next > now) return this.armAt(next);
    // Due now but not leased: at the concurrency bound, an attempt of ours finishing wakes the
    // pump; otherwise a cap held it back, filled by invokes that do not tell us when they end.
    if (this.attempts.size < this.o.maxConcurrency) this.armAt(now + BLOCKED_RETRY_MS);
  }

  private armAt(at: number): void {
    if (this.timer?.at === at) return;
    this.timer?.handle.cancel();
    const handle = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.notify();
    }, at - this.o.clock.now());
    this.timer = { handle, at };
  }

  private launch(lease: Lease): void {
    const p: Promise<void> = this.attempt(lease)
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => {
        this.attempts.delete(p);
        this.notify();
      });
    this.attempts.add(p);
  }

  private config(e: QueuedEvent): RetryConfig {
    const settings = this.o.retrySettings?.(e.functionName, e.qualifier) ?? DEFAULT_RETRY_CONFIG;
    const reserved = this.o.scheduler.reservation(e.functionName);
    return reserved === undefined ? { ...settings } : { ...settings, reservedConcurrency: reserved };
  }

  /**
   * One attempt. Everything up to `scheduler.invoke` runs in the same turn as the lease, so the
   * ledger counts the attempt before the next lease computes its caps.
   */
  private async attempt(lease: Lease): Promise<void> {
    const e = lease.event;
    const cfg = this.config(e);
    const now = this.o.clock.now();
    const before = decideAttempt(e, now, cfg);
    if (before.kind === 'drop') return this.drop(lease, before.reason);
    let target: ResolvedTarget;
    try {
      target = this.o.resolve(e.functionName, e.qualifier);
    } catch (err) {
      return this.after(lease, cfg, failure(err, now));
    }
    this.o.metrics.asyncEventAge.observe({ function: e.functionName }, (now - e.acceptedAt) / 1000);
    return this.after(lease, cfg, await this.invoke(target, e));
  }

  private async invoke(target: ResolvedTarget, e: QueuedEvent): Promise<Attempted> {
    const fn = e.functionName;
    const unreserved = this.o.scheduler.reservation(fn) === undefined;
    this.running.set(fn, (this.running.get(fn) ?? 0) + 1);
    if (unreserved) this.runningUnreserved++;
    try {
      const result = await this.o.scheduler.invoke(target, { requestId: e.requestId }, e.payload);
      if (!result.functionError) return { outcome: { kind: 'success' } };
      return {
        outcome: { kind: 'function-error' },
        record: {
          at: this.o.clock.now(),
          statusCode: 200,
          executedVersion: result.executedVersion,
          functionError: 'Unhandled',
          responsePayload: result.payload,
        },
      };
    } catch (err) {
      return failure(err, this.o.clock.now());
    } finally {
      const n = (this.running.get(fn) ?? 1) - 1;
      if (n > 0) this.running.set(fn, n);
      else this.running.delete(fn);
      if (unreserved) this.runningUnreserved--;
    }
  }

  private async after(lease: Lease, cfg: RetryConfig, attempted: Attempted): Promise<void> {
    const { outcome, record } = attempted;
    // Shutdown refused or cut short the attempt: it says nothing about the event. Left leased,
    // the event runs again after the restart with the retries it had.
    if (this.stopped && outcome.kind !== 'success') return;
    const e = lease.event;
    const decision = decideRetry(e, outcome, this.o.clock.now(), cfg);
    switch (decision.kind) {
      case 'done':
        await this.settle(this.o.queue.complete(e.id, lease.token));
        return;
      case 'retry':
        await this.settle(this.o.queue.reschedule(e.id, lease.token, decision.at, decision.counters, record));
        return;
      case 'drop':
        return this.drop(lease, decision.reason);
    }
  }

  /**
   * The event leaves the queue without success. With no destination or dead-letter queue to
   * deliver it to (they are not configurable yet), it is gone, as in Lambda, and counted.
   */
  private async drop(lease: Lease, reason: DropReason): Promise<void> {
    if (await this.settle(this.o.queue.complete(lease.event.id, lease.token))) {
      this.o.metrics.asyncDropped.inc({ function: lease.event.functionName, reason });
    }
  }

  /**
   * Waits for the write that finishes an attempt, leasing the next event meanwhile: a queue that
   * commits writes of the same turn together then records both in one commit, in call order, so
   * the slot this attempt frees is already free for the lease.
   */
  private settle<T>(write: Promise<T>): Promise<T> {
    this.notify();
    return write;
  }
}

/** How an attempt that did not reach the function (or whose target is gone) ended. */
function failure(err: unknown, at: number): Attempted {
  if (err instanceof ResourceNotFoundException) return { outcome: { kind: 'function-not-found' } };
  const statusCode = err instanceof LaminarError ? err.statusCode : 500;
  const record: AttemptRecord = {
    at,
    statusCode,
    errorCode: err instanceof LaminarError ? err.code : 'ServiceException',
    errorMessage: err instanceof Error ? err.message : String(err),
  };
  return { outcome: { kind: err instanceof TooManyRequestsException ? 'throttled' : 'system-error' }, record };
}
