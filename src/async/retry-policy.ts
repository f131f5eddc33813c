/**
 * What happens to an Event invocation before and after each attempt, as Lambda does it: a pure
 * function of the event's counters, the outcome, the time and the function's event invoke
 * config. The dispatcher applies the decision (reschedule, complete, fail) and records metrics;
 * nothing here reads a clock or does I/O, so the schedule is table-tested in milliseconds.
 *
 * - Function errors (thrown, timeout, crash, out of memory) use up `MaximumRetryAttempts`
 *   (0–2, default 2): retries after about 1 and then 2 minutes (base delay × n).
 * - Throttles (429) and system errors (5xx) use up no retries: backoff from 1 s doubling to
 *   5 min, for as long as the event is younger than its maximum age (default 6 h). The last
 *   backoff is shortened to end exactly at the maximum age, so the event gets all the time it
 *   was promised.
 * - A function with reserved concurrency 0 can never run: its events are dropped at once rather
 *   than throttled for 6 hours.
 * - An event older than its maximum age is dropped before it runs. An event is still run at
 *   exactly its maximum age; only older is too old.
 * - An event whose function, version or alias no longer exists is dropped: nothing will ever
 *   run it, and waiting out its maximum age would only hide that.
 */
import type { EventCounters } from './queue.js';

/** Why an event left the queue without success: the `reason` label of the dropped-events metric. */
export type DropReason = 'RetriesExhausted' | 'EventAgeExceeded' | 'ReservedConcurrencyZero' | 'FunctionNotFound';

export interface RetryConfig {
  /** Retries after function errors. 0–2. @defaultValue 2 */
  maximumRetryAttempts: number;
  /** 60–21,600. @defaultValue 21,600 (6 hours) */
  maximumEventAgeSeconds: number;
  /**
   * The n-th retry after a function error waits n × this: about 1 and 2 minutes in AWS; shorter
   * for tests and impatient users. @defaultValue 60,000
   */
  functionErrorBaseDelayMs: number;
  /** First backoff after a throttle or system error. @defaultValue 1,000 */
  throttleInitialDelayMs: number;
  /** The backoff doubles up to this. @defaultValue 300,000 (5 minutes) */
  throttleMaxDelayMs: number;
  /** The function's reserved concurrency when the decision is made; undefined when it has none. */
  reservedConcurrency?: number;
}

export const DEFAULT_RETRY_CONFIG: Readonly<RetryConfig> = Object.freeze({
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 21_600,
  functionErrorBaseDelayMs: 60_000,
  throttleInitialDelayMs: 1_000,
  throttleMaxDelayMs: 300_000,
});

/** What the policy reads of an event. */
export interface RetryState {
  acceptedAt: number;
  counters: EventCounters;
}

/** How an attempt ended, as the dispatcher classifies it. */
export type AttemptOutcome =
  | { kind: 'success' }
  /** The function ran and failed: an error thrown or returned, a timeout, a crash, out of memory. */
  | { kind: 'function-error' }
  /** The scheduler refused the attempt (429): no concurrency, scaling rate or host capacity. */
  | { kind: 'throttled' }
  /** Laminar failed around the function (5xx): the function did not get to run or finish its part. */
  | { kind: 'system-error' }
  /** The function, version or alias the event names was deleted. */
  | { kind: 'function-not-found' };

export type AttemptDecision = { kind: 'run' } | { kind: 'drop'; reason: DropReason };

export type RetryDecision =
  | { kind: 'done'; counters: EventCounters }
  | { kind: 'retry'; at: number; counters: EventCounters }
  | { kind: 'drop'; reason: DropReason; counters: EventCounters };

/** The time after which the event may no longer run. */
export function expiresAt(event: RetryState, config: RetryConfig): number {
  return event.acceptedAt + config.maximumEventAgeSeconds * 1000;
}

/** Delay after the n-th consecutive throttle or system error (n ≥ 1): 1 s doubling up to 5 min. */
export function throttleBackoffMs(throttles: number, config: RetryConfig = DEFAULT_RETRY_CONFIG): number {
  const exponent = Math.min(Math.max(0, throttles - 1), 30);
  return Math.min(config.throttleMaxDelayMs, config.throttleInitialDelayMs * 2 ** exponent);
}

/** Delay before the retry that follows the n-th function error (n ≥ 1): n × the base delay. */
export function functionErrorDelayMs(functionErrors: number, config: RetryConfig = DEFAULT_RETRY_CONFIG): number {
  return config.functionErrorBaseDelayMs * functionErrors;
}

/** Before an attempt: run it, or drop the event without running. */
export function decideAttempt(event: RetryState, now: number, config: RetryConfig): AttemptDecision {
  if (now > expiresAt(event, config)) return { kind: 'drop', reason: 'EventAgeExceeded' };
  if (config.reservedConcurrency === 0) return { kind: 'drop', reason: 'ReservedConcurrencyZero' };
  return { kind: 'run' };
}

/** After an attempt that ended at `now`: finished, retry at a time, or drop. */
export function decideRetry(event: RetryState, outcome: AttemptOutcome, now: number, config: RetryConfig): RetryDecision {
  const c = event.counters;
  switch (outcome.kind) {
    case 'success':
      return { kind: 'done', counters: { ...c, invocations: c.invocations + 1, throttles: 0 } };
    case 'function-error': {
      const counters = { invocations: c.invocations + 1, functionErrors: c.functionErrors + 1, throttles: 0 };
      if (counters.functionErrors > config.maximumRetryAttempts) return { kind: 'drop', reason: 'RetriesExhausted', counters };
      const at = now + functionErrorDelayMs(counters.functionErrors, config);
      // The retry schedule is the promise here; a retry that would come after the event has
      // expired is not moved earlier, and waiting for it would only delay the failure record.
      if (at > expiresAt(event, config)) return { kind: 'drop', reason: 'EventAgeExceeded', counters };
      return { kind: 'retry', at, counters };
    }
    case 'function-not-found':
      return { kind: 'drop', reason: 'FunctionNotFound', counters: c };
    case 'throttled':
    case 'system-error': {
      const counters = { ...c, throttles: c.throttles + 1 };
      if (outcome.kind === 'throttled' && config.reservedConcurrency === 0) return { kind: 'drop', reason: 'ReservedConcurrencyZero', counters };
      const expiry = expiresAt(event, config);
      if (now >= expiry) return { kind: 'drop', reason: 'EventAgeExceeded', counters };
      return { kind: 'retry', at: Math.min(now + throttleBackoffMs(counters.throttles, config), expiry), counters };
    }
  }
}

/**
 * The `requestContext.condition` of the OnFailure record for a drop. AWS documents two
 * conditions; an event of a function with reservation 0 never ran, and what AWS reports for it
 * is undocumented, so Laminar reports the retries as exhausted (there is nothing left to try).
 * A deleted function has no failure handling left to deliver to; the mapping only keeps the
 * function total.
 */
export function failureCondition(reason: DropReason): 'RetriesExhausted' | 'EventAgeExceeded' {
  return reason === 'EventAgeExceeded' ? 'EventAgeExceeded' : 'RetriesExhausted';
}
