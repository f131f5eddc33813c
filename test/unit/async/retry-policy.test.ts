import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import type { EventCounters } from '../../../src/async/queue.js';
import {
  DEFAULT_RETRY_CONFIG,
  decideAttempt,
  decideRetry,
  failureCondition,
  throttleBackoffMs,
  type AttemptOutcome,
  type RetryConfig,
  type RetryDecision,
  type RetryState,
} from '../../../src/async/retry-policy.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;

function counters(functionErrors = 0, throttles = 0, invocations = functionErrors): EventCounters {
  return { invocations, functionErrors, throttles };
}

function event(c: EventCounters = counters()): RetryState {
  return { acceptedAt: T0, counters: c };
}

const config = (over: Partial<RetryConfig> = {}): RetryConfig => ({ ...DEFAULT_RETRY_CONFIG, ...over });
const ok: AttemptOutcome = { kind: 'success' };
const fnError: AttemptOutcome = { kind: 'function-error' };
const throttled: AttemptOutcome = { kind: 'throttled' };
const systemError: AttemptOutcome = { kind: 'system-error' };

describe('decideRetry', () => {
  // [name, counters before, outcome, ms after acceptance, config, expected]
  const table: [string, EventCounters, AttemptOutcome, number, Partial<RetryConfig>, RetryDecision][] = [
    ['success is done', counters(), ok, 10, {}, { kind: 'done', counters: counters(0, 0, 1) }],
    ['success after errors and throttles is done', counters(2, 3), ok, 10, {}, { kind: 'done', counters: counters(2, 0, 3) }],
    ['first function error: retry after 1 minute', counters(), fnError, 10, {}, { kind: 'retry', at: T0 + 10 + MIN, counters: counters(1) }],
    ['second function error: retry after 2 minutes', counters(1), fnError, 2 * MIN, {}, { kind: 'retry', at: T0 + 4 * MIN, counters: counters(2) }],
    ['third function error: retries exhausted (the last retry was the third attempt)', counters(2), fnError, 5 * MIN, {}, { kind: 'drop', reason: 'RetriesExhausted', counters: counters(3) }],
    ['zero retries configured: the first function error drops', counters(), fnError, 10, { maximumRetryAttempts: 0 }, { kind: 'drop', reason: 'RetriesExhausted', counters: counters(1) }],
    ['one retry configured: the second function error drops', counters(1), fnError, MIN, { maximumRetryAttempts: 1 }, { kind: 'drop', reason: 'RetriesExhausted', counters: counters(2) }],
    ['a function error resets the throttle backoff', counters(0, 7), fnError, 10, {}, { kind: 'retry', at: T0 + 10 + MIN, counters: counters(1, 0) }],
    ['base delay is configurable', counters(1), fnError, 0, { functionErrorBaseDelayMs: 100 }, { kind: 'retry', at: T0 + 200, counters: counters(2) }],
    ['a function-error retry landing exactly at the maximum age is kept', counters(), fnError, 0, { maximumEventAgeSeconds: 60 }, { kind: 'retry', at: T0 + MIN, counters: counters(1) }],
    ['a function-error retry landing after the maximum age drops as EventAgeExceeded', counters(), fnError, 1, { maximumEventAgeSeconds: 60 }, { kind: 'drop', reason: 'EventAgeExceeded', counters: counters(1) }],
    ['first throttle: retry after 1 s, no retry used', counters(), throttled, 0, {}, { kind: 'retry', at: T0 + 1000, counters: counters(0, 1, 0) }],
    ['throttles double: 2 s', counters(0, 1, 0), throttled, 0, {}, { kind: 'retry', at: T0 + 2000, counters: counters(0, 2, 0) }],
    ['throttles double: 256 s', counters(0, 8, 0), throttled, 0, {}, { kind: 'retry', at: T0 + 256_000, counters: counters(0, 9, 0) }],
    ['throttles cap at 5 minutes', counters(0, 9, 0), throttled, 0, {}, { kind: 'retry', at: T0 + 5 * MIN, counters: counters(0, 10, 0) }],
    ['far past the cap it stays 5 minutes', counters(0, 500, 0), throttled, 0, {}, { kind: 'retry', at: T0 + 5 * MIN, counters: counters(0, 501, 0) }],
    ['system errors back off like throttles, keeping retries', counters(1, 2), systemError, 0, {}, { kind: 'retry', at: T0 + 4000, counters: counters(1, 3) }],
    ['the last backoff ends at the maximum age', counters(0, 9, 0), throttled, 6 * HOUR - MIN, {}, { kind: 'retry', at: T0 + 6 * HOUR, counters: counters(0, 10, 0) }],
    ['throttled exactly at the maximum age: EventAgeExceeded', counters(0, 10, 0), throttled, 6 * HOUR, {}, { kind: 'drop', reason: 'EventAgeExceeded', counters: counters(0, 11, 0) }],
    ['throttled with reservation 0: dropped at once', counters(), throttled, 0, { reservedConcurrency: 0 }, { kind: 'drop', reason: 'ReservedConcurrencyZero', counters: counters(0, 1, 0) }],
    ['the function was deleted: dropped, counters kept', counters(1, 2), { kind: 'function-not-found' }, MIN, {}, { kind: 'drop', reason: 'FunctionNotFound', counters: counters(1, 2) }],
    ['throttled with reservation 1: backoff', counters(), throttled, 0, { reservedConcurrency: 1 }, { kind: 'retry', at: T0 + 1000, counters: counters(0, 1, 0) }],
  ];
  for (const [name, before, outcome, after, over, expected] of table) {
    it(name, () => {
      const clock = new ManualClock(T0);
      clock.advance(after);
      expect(decideRetry(event(before), outcome, clock.now(), config(over))).toEqual(expected);
    });
  }
});

describe('decideAttempt', () => {
  const table: [string, number, Partial<RetryConfig>, ReturnType<typeof decideAttempt>][] = [
    ['a fresh event runs', 0, {}, { kind: 'run' }],
    ['exactly at the maximum age it still runs', 6 * HOUR, {}, { kind: 'run' }],
    ['1 ms older is dropped', 6 * HOUR + 1, {}, { kind: 'drop', reason: 'EventAgeExceeded' }],
    ['a configured maximum age of 60 s', 60_001, { maximumEventAgeSeconds: 60 }, { kind: 'drop', reason: 'EventAgeExceeded' }],
    ['reservation 0 drops before running', 0, { reservedConcurrency: 0 }, { kind: 'drop', reason: 'ReservedConcurrencyZero' }],
    ['an expired event with reservation 0 reports its age', 6 * HOUR + 1, { reservedConcurrency: 0 }, { kind: 'drop', reason: 'EventAgeExceeded' }],
  ];
  for (const [name, after, over, expected] of table) {
    it(name, () => {
      const clock = new ManualClock(T0);
      clock.advance(after);
      expect(decideAttempt(event(), clock.now(), config(over))).toEqual(expected);
    });
  }
});

/** Runs an event through the policy with a manual clock; `outcomes` are the attempts' results in turn. */
function schedule(outcomes: AttemptOutcome[], over: Partial<RetryConfig> = {}, attemptMs = 0): { attempts: number[]; end: string } {
  const clock = new ManualClock(T0);
  const cfg = config(over);
  let state = event();
  const attempts: number[] = [];
  for (const outcome of outcomes) {
    const before = decideAttempt(state, clock.now(), cfg);
    if (before.kind === 'drop') return { attempts, end: `${before.reason} at ${clock.now() - T0}` };
    attempts.push(clock.now() - T0);
    clock.advance(attemptMs);
    const d = decideRetry(state, outcome, clock.now(), cfg);
    if (d.kind === 'done') return { attempts, end: `done at ${clock.now() - T0}` };
    if (d.kind === 'drop') return { attempts, end: `${d.reason} at ${clock.now() - T0}` };
    state = { ...state, counters: d.counters };
    clock.advance(d.at - clock.now());
  }
  return { attempts, end: 'pending' };
}

describe('schedules', () => {
  it('function errors: three attempts, at 0, 1 and 3 minutes, then RetriesExhausted', () => {
    expect(schedule([fnError, fnError, fnError, fnError])).toEqual({ attempts: [0, MIN, 3 * MIN], end: `RetriesExhausted at ${3 * MIN}` });
  });

  it('throttles in between do not use up retries', () => {
    expect(schedule([fnError, throttled, throttled, fnError, ok])).toEqual({
      attempts: [0, MIN, MIN + 1000, MIN + 3000, 3 * MIN + 3000],
      end: `done at ${3 * MIN + 3000}`,
    });
  });

  it('constant throttling retries until exactly the maximum age, then EventAgeExceeded', () => {
    const r = schedule(Array.from({ length: 200 }, () => throttled));
    expect(r.attempts.slice(0, 10)).toEqual([0, 1, 3, 7, 15, 31, 63, 127, 255, 511].map((s) => s * 1000));
    expect(r.attempts.at(-1)).toBe(6 * HOUR);
    expect(r.end).toBe(`EventAgeExceeded at ${6 * HOUR}`);
    // 1 + 2 + … + 256 s, then 5-minute steps to 6 hours, then the shortened last step.
    const gaps = r.attempts.slice(1).map((a, i) => a - r.attempts[i]!);
    expect(Math.max(...gaps)).toBe(5 * MIN);
  });

  it('with a short maximum age the first attempt after it never happens', () => {
    // Attempts take 30 s each: the error at 30 s schedules a retry at 90 s, after the 60 s age.
    expect(schedule([fnError, fnError], { maximumEventAgeSeconds: 60 }, 30_000)).toEqual({ attempts: [0], end: 'EventAgeExceeded at 30000' });
  });

  it('reservation 0: nothing runs', () => {
    expect(schedule([ok], { reservedConcurrency: 0 })).toEqual({ attempts: [], end: 'ReservedConcurrencyZero at 0' });
  });
});

describe('policy properties', () => {
  const outcomeArb = fc.constantFrom<AttemptOutcome>(ok, fnError, throttled, systemError);
  it('never runs an event more than 1 + MaximumRetryAttempts times after function errors, nor after its maximum age, and always ends', () => {
    fc.assert(
      fc.property(fc.array(outcomeArb, { minLength: 1, maxLength: 400 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 60, max: 21_600 }), (outcomes, retries, age) => {
        const r = schedule(outcomes, { maximumRetryAttempts: retries, maximumEventAgeSeconds: age });
        let fnErrors = 0;
        for (let i = 0; i < r.attempts.length; i++) if (outcomes[i]!.kind === 'function-error') fnErrors++;
        expect(fnErrors).toBeLessThanOrEqual(retries + 1);
        for (const a of r.attempts) expect(a).toBeLessThanOrEqual(age * 1000);
        for (let i = 1; i < r.attempts.length; i++) expect(r.attempts[i]!).toBeGreaterThan(r.attempts[i - 1]!);
      }),
    );
  });

  it('backoff is 1 s doubling, capped at 5 minutes', () => {
    expect([1, 2, 3, 9, 10, 11, 1000].map((n) => throttleBackoffMs(n))).toEqual([1000, 2000, 4000, 256_000, 300_000, 300_000, 300_000]);
  });

  it('failure conditions are AWS’s two', () => {
    expect(failureCondition('RetriesExhausted')).toBe('RetriesExhausted');
    expect(failureCondition('EventAgeExceeded')).toBe('EventAgeExceeded');
    expect(failureCondition('ReservedConcurrencyZero')).toBe('RetriesExhausted');
    expect(failureCondition('FunctionNotFound')).toBe('RetriesExhausted');
  });
});
