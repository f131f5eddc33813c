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
 * - Destinations: a finished event's record and a dropped event are delivered as
 *   `destinations.ts` plans it, before the event leaves the queue, so a crash in between delivers
 *   twice rather than never (at least once, as everything here).
 */
import { randomUUID } from 'node:crypto';
import { functionArn, type Partition } from '../core/arn.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { LaminarError, ResourceNotFoundException, TooManyRequestsException } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { unreservedCapacity, unreservedInFlight, unreservedProvisioned, type LedgerView } from '../scheduler/admission/ledger.js';
import type { InvocationResult, InvokeOptions } from '../scheduler/scheduler.js';
import { invocationRecord } from './destination-record.js';
import { failurePlan, successPlan, type DeliveryPlan, type EventDestinations, type StoredTarget } from './destinations.js';
import { leaseCaps } from './lease-caps.js';
import { EventPayloadTooLargeError, type AttemptRecord, type EventCounters, type EventQueue, type FailedEvent, type Lease, type ListFailedOptions, type QueuedEvent } from './queue.js';
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

/** The retry settings of a function and qualifier. */
export type RetrySettings = Omit<RetryConfig, 'reservedConcurrency'>;

/** What an Event invocation of a function and qualifier runs under: its event invoke config and dead-letter queue. */
export interface EventSettings extends RetrySettings {
  destinations?: EventDestinations;
}

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
  ledger: LedgerView;
  metrics: Metrics;
  clock: Clock;
  /** Attempts in flight at once, across functions. */
  maxConcurrency: number;
  /**
   * Read at each attempt, so a changed config applies from the next attempt on.
   * @defaultValue Lambda's defaults (2 retries, 6 hours, about 1 and 2 minutes apart) and no destinations, for every function
   */
  eventSettings?: (functionName: string, qualifier: string | undefined) => EventSettings;
  /** The region and account of the ARNs in invocation records. */
  partition: Partition;
  /** Faults of the queue itself (the events stay leased and run again after a restart). */
  onError?: (err: unknown) => void;
  /**
   * How long a lease lasts before another holder may take the event.
   * @defaultValue LEASE_VISIBILITY_MS
   */
  leaseVisibilityMs?: number;
  /**
   * In a cluster: leases are short and renewed this often while their attempt runs, so the
   * events of a node that died run elsewhere within `leaseVisibilityMs`.
   */
  leaseRenewMs?: number;
  /** In a cluster: look at the queue at least this often, for events that other nodes accepted. */
  pollMs?: number;
}

interface Attempted {
  outcome: AttemptOutcome;
  record?: AttemptRecord;
}

/** The settings an attempt runs under, read once when it starts. */
interface Settings {
  retry: RetryConfig;
  destinations: EventDestinations;
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
  /** Leases of the attempts in flight, renewed while they run when `leaseRenewMs` is set. */
  private readonly held = new Map<string, string>();
  private renewal: TimerHandle | undefined;

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

  /** The failed-event store of a function, oldest first. */
  listFailed(functionName: string, opts?: ListFailedOptions): Promise<FailedEvent[]> {
    return this.o.queue.listFailed(functionName, opts);
  }

  /**
   * Queues a stored event again as if accepted now (full retries and maximum age), with its id
   * and request id; undefined when the store has no such event. Counted as received again.
   */
  async replay(id: string): Promise<QueuedEvent | undefined> {
    const event = await this.o.queue.replay(id, this.o.clock.now());
    if (event) {
      this.o.metrics.asyncReceived.inc({ function: event.functionName });
      this.notify();
    }
    return event;
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

  /** Stops renewing leases (after close: attempts are over, or the node is going away). */
  private stopRenewal(): void {
    this.renewal?.cancel();
    this.renewal = undefined;
  }

  /** Stops, then waits for the attempts in flight to record their outcome (before the queue closes). */
  async close(): Promise<void> {
    this.stop();
    // Attempts finishing during shutdown keep their leases alive until they record their outcome.
    await this.settled();
    this.stopRenewal();
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
      const lease = await this.o.queue.lease(this.o.clock.now(), this.o.leaseVisibilityMs ?? LEASE_VISIBILITY_MS, this.leaseOptions());
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
    if (this.stopped) return;
    // Other nodes accept events this node is not told about: look again within pollMs.
    const poll = this.o.pollMs === undefined ? undefined : now + this.o.pollMs;
    if (next === undefined) return poll === undefined ? undefined : this.armAt(poll);
    if (next > now) return this.armAt(poll === undefined ? next : Math.min(next, poll));
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
    this.held.set(lease.event.id, lease.token);
    this.armRenewal();
    const p: Promise<void> = this.attempt(lease)
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => {
        this.held.delete(lease.event.id);
        this.attempts.delete(p);
        this.notify();
      });
    this.attempts.add(p);
  }

  /** While attempts run, their leases are extended every `leaseRenewMs`. */
  private armRenewal(): void {
    const every = this.o.leaseRenewMs;
    if (every === undefined || this.renewal !== undefined) return;
    this.renewal = this.o.clock.setTimeout(() => {
      this.renewal = undefined;
      void this.renew().finally(() => {
        if (this.held.size > 0) this.armRenewal();
      });
    }, every);
  }

  private async renew(): Promise<void> {
    const until = this.o.clock.now() + (this.o.leaseVisibilityMs ?? LEASE_VISIBILITY_MS);
    await Promise.all(
      [...this.held].map(([id, token]) =>
        this.o.queue.extend(id, token, until).catch((err: unknown) => {
          // Not renewed: if the queue stays away past the lease, another node runs the event again (at least once).
          this.o.onError?.(err);
          return false;
        }),
      ),
    );
  }

  private settings(e: QueuedEvent): Settings {
    const given: EventSettings = this.o.eventSettings?.(e.functionName, e.qualifier) ?? DEFAULT_RETRY_CONFIG;
    const { destinations, ...retry } = given;
    const reserved = this.o.scheduler.reservation(e.functionName);
    return { retry: reserved === undefined ? retry : { ...retry, reservedConcurrency: reserved }, destinations: destinations ?? {} };
  }

  /**
   * One attempt. Everything up to `scheduler.invoke` runs in the same turn as the lease, so the
   * ledger counts the attempt before the next lease computes its caps.
   */
  private async attempt(lease: Lease): Promise<void> {
    const e = lease.event;
    const settings = this.settings(e);
    const now = this.o.clock.now();
    const before = decideAttempt(e, now, settings.retry);
    if (before.kind === 'drop') return this.drop(lease, settings, before.reason, e.counters, e.lastAttempt);
    let target: ResolvedTarget;
    try {
      target = this.o.resolve(e.functionName, e.qualifier);
    } catch (err) {
      return this.after(lease, settings, failure(err, now));
    }
    this.o.metrics.asyncEventAge.observe({ function: e.functionName }, (now - e.acceptedAt) / 1000);
    return this.after(lease, settings, await this.invoke(target, e));
  }

  private async invoke(target: ResolvedTarget, e: QueuedEvent): Promise<Attempted> {
    const fn = e.functionName;
    const unreserved = this.o.scheduler.reservation(fn) === undefined;
    this.running.set(fn, (this.running.get(fn) ?? 0) + 1);
    if (unreserved) this.runningUnreserved++;
    try {
      const result = await this.o.scheduler.invoke(target, { requestId: e.requestId }, e.payload);
      const record: AttemptRecord = { at: this.o.clock.now(), statusCode: 200, executedVersion: result.executedVersion, responsePayload: result.payload };
      if (!result.functionError) return { outcome: { kind: 'success' }, record };
      return { outcome: { kind: 'function-error' }, record: { ...record, functionError: 'Unhandled' } };
    } catch (err) {
      return failure(err, this.o.clock.now());
    } finally {
      const n = (this.running.get(fn) ?? 1) - 1;
      if (n > 0) this.running.set(fn, n);
      else this.running.delete(fn);
      if (unreserved) this.runningUnreserved--;
    }
  }

  private async after(lease: Lease, settings: Settings, attempted: Attempted): Promise<void> {
    const { outcome } = attempted;
    // Shutdown refused or cut short the attempt: it says nothing about the event. Left leased,
    // the event runs again after the restart with the retries it had.
    if (this.stopped && outcome.kind !== 'success') return;
    const e = lease.event;
    const decision = decideRetry(e, outcome, this.o.clock.now(), settings.retry);
    const record = lastResponse(attempted.record, e.lastAttempt);
    switch (decision.kind) {
      case 'done': {
        const plan = successPlan(settings.destinations, this.o.partition);
        if (!plan) {
          await this.settle(this.o.queue.complete(e.id, lease.token));
          return;
        }
        await this.deliver(lease, plan, 'Success', decision.counters, record);
        return;
      }
      case 'retry':
        await this.settle(this.o.queue.reschedule(e.id, lease.token, decision.at, decision.counters, record));
        return;
      case 'drop':
        return this.drop(lease, settings, decision.reason, decision.counters, record);
    }
  }

  /**
   * The event leaves the queue without success, counted whether or not it goes anywhere (as
   * Lambda's AsyncEventsDropped is): to its on-failure destination and dead-letter queue when
   * the function has them, otherwise it is gone.
   */
  private async drop(lease: Lease, settings: Settings, reason: DropReason, counters: EventCounters, record: AttemptRecord | undefined): Promise<void> {
    const plan = failurePlan(settings.destinations, reason, this.o.partition);
    const left = plan
      ? await this.deliver(lease, plan, reason, counters, record)
      : await this.settle(this.o.queue.complete(lease.event.id, lease.token));
    if (left) this.o.metrics.asyncDropped.inc({ function: lease.event.functionName, reason });
  }

  /**
   * Carries out a delivery plan, then takes the event out of the queue: into the failed-event
   * store when a target of the plan is stored there, else completed. True when this holder's
   * write removed the event (false for a lease that was lost meanwhile).
   */
  private async deliver(lease: Lease, plan: DeliveryPlan, reason: string, counters: EventCounters, record: AttemptRecord | undefined): Promise<boolean> {
    const e = lease.event;
    const now = this.o.clock.now();
    if (plan.invoke) {
      const rec = invocationRecord({
        condition: plan.condition,
        requestId: e.requestId,
        functionArn: functionArn(this.o.partition, e.functionName, e.qualifier ?? '$LATEST'),
        payload: e.payload,
        invocations: counters.invocations,
        ...(record ? { lastAttempt: record } : {}),
        now,
      });
      await this.invokeDestination(e.functionName, plan.invoke, Buffer.from(JSON.stringify(rec)));
    }
    if (plan.store.length === 0) return this.settle(this.o.queue.complete(e.id, lease.token));
    return this.store(lease, plan.store, reason, now, counters, record);
  }

  /** Sends a record to a Lambda destination as an Event invocation of it; a failure is counted, never retried. */
  private async invokeDestination(source: string, invoke: NonNullable<DeliveryPlan['invoke']>, record: Buffer): Promise<void> {
    const labels = { function: source, type: 'lambda' };
    // The series exists from the first delivery, so a rate over it sees the first failure.
    this.o.metrics.destinationDeliveryFailures.inc(labels, 0);
    const target = invoke.target;
    try {
      if (!target) throw new ResourceNotFoundException(`The destination ${invoke.arn} is not a function of this region and account.`);
      // A destination deleted since the config was written is a failed delivery now, not an
      // event that would be dropped FunctionNotFound later. Other refusals (Pending) pass: the
      // event waits in the queue like any other.
      try {
        this.o.resolve(target.functionName, target.qualifier);
      } catch (err) {
        if (err instanceof ResourceNotFoundException) throw err;
      }
      await this.submit({
        functionName: target.functionName,
        ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
        payload: record,
        requestId: randomUUID(),
      });
    } catch (err) {
      this.o.metrics.destinationDeliveryFailures.inc(labels);
      if (!(err instanceof ResourceNotFoundException || err instanceof EventPayloadTooLargeError)) this.o.onError?.(err);
    }
  }

  /**
   * Keeps the event in the failed-event store, bound for targets Laminar does not deliver to.
   * When the store refuses the write, the delivery failed: counted for each target, and the
   * event leaves the queue anyway, as Lambda deletes an event whose dead-letter send failed.
   */
  private async store(
    lease: Lease,
    targets: StoredTarget[],
    reason: string,
    now: number,
    counters: EventCounters,
    record: AttemptRecord | undefined,
  ): Promise<boolean> {
    const e = lease.event;
    const fn = e.functionName;
    for (const t of targets) {
      if (t.role === 'dead-letter') this.o.metrics.deadLetterErrors.inc({ function: fn }, 0);
      else this.o.metrics.destinationDeliveryFailures.inc({ function: fn, type: t.type }, 0);
    }
    try {
      const ending = { counters, destinations: targets.map((t) => t.arn), ...(record ? { lastAttempt: record } : {}) };
      const kept = await this.settle(this.o.queue.fail(e.id, lease.token, reason, now, ending));
      if (kept) this.o.metrics.asyncStored.inc({ function: fn, reason });
      return kept;
    } catch (err) {
      this.o.onError?.(err);
      for (const t of targets) {
        if (t.role === 'dead-letter') this.o.metrics.deadLetterErrors.inc({ function: fn });
        else this.o.metrics.destinationDeliveryFailures.inc({ function: fn, type: t.type });
      }
      return this.settle(this.o.queue.complete(e.id, lease.token));
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

/**
 * The attempt record to keep: this attempt's when it reached the function, else the last one
 * that did. A throttle after a function error keeps the error's response for the record of a
 * later drop, as Lambda's EventAgeExceeded record names the error it last saw.
 */
function lastResponse(current: AttemptRecord | undefined, previous: AttemptRecord | undefined): AttemptRecord | undefined {
  if (current?.executedVersion !== undefined) return current;
  if (previous?.executedVersion !== undefined) return previous;
  return current ?? previous;
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
