import type { Clock, TimerHandle } from '../core/clock.js';
import { TooManyRequestsException } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { ThrottleReason } from '../scheduler/admission/reasons.js';
import type { Scheduler } from '../scheduler/scheduler.js';

export interface EventInvokerOptions {
  scheduler: Scheduler;
  metrics: Metrics;
  clock: Clock;
  /** Lambda's defaults: 2 retries after function errors, events kept for 6 hours. */
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
}

interface Event {
  target: ResolvedTarget;
  payload: Buffer;
  requestId: string;
  acceptedAt: number;
  /** Attempts that ended in a function error (throttles don't count, as in Lambda). */
  failures: number;
  /** Consecutive throttles, for the backoff. */
  throttles: number;
  timer?: TimerHandle;
}

/** Delay before retrying after a throttle or a service error: 1 s doubling up to 5 min. */
export function throttleBackoffMs(throttles: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, throttles - 1));
}

/** Delay before retrying after a function error: about 1 minute, then 2 minutes. */
export function errorRetryDelayMs(failures: number): number {
  return 60_000 * failures;
}

/**
 * Event (asynchronous) invocations: accepted at once, invoked through the scheduler, retried on
 * function errors (twice, after 1 and 2 minutes) and on throttles (backing off until the event
 * is too old), and dropped with a reason when they cannot succeed. Events are held in memory:
 * they do not survive a restart.
 */
export class EventInvoker {
  private readonly pending = new Set<Event>();
  /** Functions that received events, so their backlog reads 0 rather than vanishing. */
  private readonly known = new Set<string>();
  private closed = false;

  constructor(private readonly o: EventInvokerOptions) {
    o.metrics.bindAsyncQueue(() => this.depth());
  }

  submit(target: ResolvedTarget, payload: Buffer, requestId: string): void {
    this.o.metrics.asyncReceived.inc({ function: target.functionName });
    this.known.add(target.functionName);
    const event: Event = { target, payload, requestId, acceptedAt: this.o.clock.now(), failures: 0, throttles: 0 };
    this.pending.add(event);
    void this.attempt(event);
  }

  depth(): Map<string, number> {
    const out = new Map<string, number>([...this.known].map((fn) => [fn, 0]));
    for (const e of this.pending) out.set(e.target.functionName, (out.get(e.target.functionName) ?? 0) + 1);
    return out;
  }

  private async attempt(event: Event): Promise<void> {
    if (this.closed) return;
    delete event.timer;
    const fn = event.target.functionName;
    const ageMs = this.o.clock.now() - event.acceptedAt;
    if (ageMs > (this.o.maximumEventAgeSeconds ?? 21_600) * 1000) return this.drop(event, 'EventAgeExceeded');
    this.o.metrics.asyncEventAge.observe({ function: fn }, ageMs / 1000);
    try {
      const result = await this.o.scheduler.invoke(event.target, { requestId: event.requestId }, event.payload);
      event.throttles = 0;
      if (!result.functionError) return this.done(event);
      event.failures++;
      if (event.failures > (this.o.maximumRetryAttempts ?? 2)) return this.drop(event, 'RetriesExhausted');
      this.retry(event, errorRetryDelayMs(event.failures));
    } catch (err) {
      if (err instanceof TooManyRequestsException && err.reason === ThrottleReason.Reserved && this.reservedZero(fn)) {
        return this.drop(event, 'ReservedConcurrencyZero');
      }
      event.throttles++;
      this.retry(event, throttleBackoffMs(event.throttles));
    }
  }

  private reservedZero(fn: string): boolean {
    return this.o.scheduler.reservation(fn) === 0;
  }

  private retry(event: Event, delayMs: number): void {
    if (this.closed) return;
    event.timer = this.o.clock.setTimeout(() => void this.attempt(event), delayMs);
  }

  private done(event: Event): void {
    this.pending.delete(event);
  }

  private drop(event: Event, reason: string): void {
    this.o.metrics.asyncDropped.inc({ function: event.target.functionName, reason });
    this.pending.delete(event);
  }

  /** Stops retrying; events still pending are lost (they are not durable yet). */
  close(): void {
    this.closed = true;
    for (const e of this.pending) e.timer?.cancel();
  }
}
