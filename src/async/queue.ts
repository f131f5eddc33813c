/**
 * The event queue port: where Event (asynchronous) invocations wait between being accepted with
 * a 202 and finishing. Implementations: SQLite in the data dir (embedded, the reference) and,
 * later, Redis for several nodes; one conformance suite (test/unit/async/queue-conformance.ts)
 * runs against each, so they cannot drift apart.
 *
 * Semantics, shared by every implementation:
 * - `enqueue` is durable when its promise resolves; the 202 is answered only after it.
 * - Delivery is at least once, as in AWS. `lease` hands out one due event with a token that is
 *   valid for `visibilityMs`; a holder that dies leaves the event to be leased again once that
 *   time has passed. A token stops working when the event is leased again, so a holder that
 *   overran its lease cannot complete or reschedule work that someone else now owns.
 * - An event names its function and qualifier, never a resolved version or code path: each
 *   attempt resolves the target afresh, so an attempt after a code update runs the new code.
 * - Time is always passed in (`now`, `runAt`); no implementation reads a clock, so tests drive
 *   visibility timeouts and schedules with a manual clock.
 */

/** Event invocations carry at most 1 MB (256 KB before Oct 2025). */
export const MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;

/** What the retry policy counts across attempts. */
export interface EventCounters {
  /** Attempts that reached the function (success or function error): `approximateInvokeCount`. */
  invocations: number;
  /** Attempts that ended in a function error; these use up `MaximumRetryAttempts`. */
  functionErrors: number;
  /** Throttles and system errors since the function was last reached; they set the backoff and use up no retries. */
  throttles: number;
}

export const ZERO_COUNTERS: Readonly<EventCounters> = Object.freeze({ invocations: 0, functionErrors: 0, throttles: 0 });

/**
 * How the last attempt ended, kept for the destination record of an event that later expires
 * (EventAgeExceeded after a function error names the error it last saw).
 */
export interface AttemptRecord {
  /** When the attempt ended. */
  at: number;
  statusCode: number;
  executedVersion?: string;
  /** `Unhandled` when the function failed. */
  functionError?: string;
  /** For a throttle or a platform error: the error code that stopped the attempt. */
  errorCode?: string;
  errorMessage?: string;
  /** The function's response or error object, as bytes. */
  responsePayload?: Buffer;
}

/** What the invoke route hands to the queue. */
export interface NewEvent {
  functionName: string;
  /** Version or alias as the caller named it; absent for the unqualified function ($LATEST). */
  qualifier?: string;
  payload: Buffer;
  requestId: string;
  acceptedAt: number;
  /** First attempt not before this time; defaults to `acceptedAt`. */
  runAt?: number;
}

export interface QueuedEvent {
  /** Assigned by the queue; unique within it and kept across replay. */
  id: string;
  functionName: string;
  qualifier?: string;
  payload: Buffer;
  requestId: string;
  acceptedAt: number;
  /** When the event became (or becomes) due: its scheduled run time, or when a lease on it expired. */
  runAt: number;
  counters: EventCounters;
  /** Times the event has been leased: more than the attempts when holders died while holding it. */
  deliveries: number;
  lastAttempt?: AttemptRecord;
}

export interface Lease {
  event: QueuedEvent;
  token: string;
  /** The event is leased to this holder until then; after it, anyone may lease it again. */
  expiresAt: number;
}

export interface LeaseOptions {
  /**
   * In-flight caps by function name: a function at its cap (unexpired leases) gets no further
   * lease, so a function with reservation R never has more than R events in flight and its
   * backlog never takes queue slots from others. Functions absent from the map have no cap; a
   * cap of 0 leases nothing.
   */
  caps?: ReadonlyMap<string, number>;
  /**
   * The cap of every function absent from `caps`; none when undefined. A dispatcher passes 0
   * when the shared (unreserved) concurrency pool is full, so only functions with capacity of
   * their own (their reservation, named in `caps`) are leased.
   */
  defaultCap?: number;
}

export interface FailedEvent extends QueuedEvent {
  /** Why the event left the queue, e.g. `RetriesExhausted`, `EventAgeExceeded`, `Success`. */
  reason: string;
  failedAt: number;
  /**
   * The targets the event was bound for when it was stored (a dead-letter queue, a destination
   * Laminar does not deliver to); empty when none was named.
   */
  destinations: string[];
}

/** How an event that goes to the failed store ended; what is left out is kept as the queue has it. */
export interface FailEnding {
  /** The counters after the last attempt. */
  counters?: EventCounters;
  lastAttempt?: AttemptRecord;
  /** The targets the event was bound for (a dead-letter queue, destinations Laminar does not deliver to). */
  destinations?: readonly string[];
}

export interface ListFailedOptions {
  /** Only events with a greater id (a page marker: the last id of the previous page). */
  after?: string;
  /** @defaultValue 100 */
  limit?: number;
}

export interface EventQueue {
  /** Stores the event; durable once the promise resolves. Throws `EventPayloadTooLargeError` above 1 MB. */
  enqueue(event: NewEvent): Promise<QueuedEvent>;

  /**
   * Leases the next due event, or undefined when none is due (or every function with a due event
   * is at its cap). Fair across functions: successive leases take functions in turn, so one
   * function's backlog cannot delay another function's event by more than one round.
   * Within a function, the event due earliest goes first.
   */
  lease(now: number, visibilityMs: number, opts?: LeaseOptions): Promise<Lease | undefined>;

  /** Keeps a lease alive until `expiresAt` (long invocations); false if the token is no longer valid. */
  extend(id: string, token: string, expiresAt: number): Promise<boolean>;

  /** The event is finished: removed for good. False (and nothing changes) for a stale token. */
  complete(id: string, token: string): Promise<boolean>;

  /**
   * Releases the lease and makes the event due again at `runAt` with the given counters (and the
   * last attempt's record, if given). False (and nothing changes) for a stale token.
   */
  reschedule(id: string, token: string, runAt: number, counters: EventCounters, lastAttempt?: AttemptRecord): Promise<boolean>;

  /**
   * Moves the event to the failed store, where it can be listed and replayed, with how it ended.
   * False (and nothing changes) for a stale token.
   */
  fail(id: string, token: string, reason: string, now: number, ending?: FailEnding): Promise<boolean>;

  /** Events of the function in the failed store, oldest first. */
  listFailed(functionName: string, opts?: ListFailedOptions): Promise<FailedEvent[]>;

  /**
   * Puts a failed event back in the queue as a fresh acceptance at `now` (counters reset, so it
   * gets its full retries and maximum age again). Undefined if there is no such failed event.
   */
  replay(id: string, now: number): Promise<QueuedEvent | undefined>;

  /** Events waiting or in flight (not failed) per function; functions that ever had events read 0 once drained. */
  depth(): Promise<Map<string, number>>;
  depth(functionName: string): Promise<number>;

  /** Age of the function's oldest queued event, in milliseconds; undefined when it has none. */
  oldestAge(functionName: string, now: number): Promise<number | undefined>;

  /** The earliest time any event is due (a lease expiry counts), so a dispatcher knows when to wake. */
  nextDueAt(): Promise<number | undefined>;

  close(): Promise<void>;
}

/** An Event invoke larger than the asynchronous payload limit. */
export class EventPayloadTooLargeError extends Error {
  constructor(readonly size: number) {
    super(`Event payload of ${size} bytes exceeds the ${MAX_EVENT_PAYLOAD_BYTES}-byte limit for asynchronous invocation`);
    this.name = new.target.name;
  }
}

/** The checks every implementation applies to `enqueue`'s argument. */
export function checkNewEvent(event: NewEvent): void {
  if (event.payload.length > MAX_EVENT_PAYLOAD_BYTES) throw new EventPayloadTooLargeError(event.payload.length);
}

/**
 * Functions in the order a fair lease tries them: those after `cursor` (the function leased
 * last), then from the start. `names` must be sorted. Taking functions in turn rather than
 * events by due time is what keeps one function's backlog from delaying another's event.
 */
export function roundRobinOrder(names: readonly string[], cursor: string | undefined): string[] {
  if (cursor === undefined) return [...names];
  const i = names.findIndex((n) => n > cursor);
  return i < 0 ? [...names] : [...names.slice(i), ...names.slice(0, i)];
}
