import { ThrottleReason } from './reasons.js';

/**
 * The concurrency ledger: the only place Lambda's concurrency rules live. The decision functions
 * are pure (state and time in, decision out); `Ledger` commits decisions and hands out permits
 * that are released exactly once.
 */

export interface LedgerLimits {
  /** Account (regional) concurrency limit L. */
  regionalLimit: number;
  /** Concurrency U that reservations must leave unreserved: Σr ≤ L − U. */
  unreservedMinimum: number;
  /** New on-demand environments per function per window, refilling continuously. */
  scalingRateEnvironments: number;
  scalingRateWindowMs: number;
}

export interface Bucket {
  tokens: number;
  at: number;
}

export interface LedgerState {
  readonly limits: LedgerLimits;
  /** Reserved concurrency by function (absent = unreserved). */
  readonly reserved: ReadonlyMap<string, number>;
  /** In-flight invocations by function, across all its versions and aliases. */
  readonly inFlight: ReadonlyMap<string, number>;
}

export type Decision = { ok: true } | { ok: false; reason: ThrottleReason };

export function totalReserved(state: LedgerState): number {
  let sum = 0;
  for (const r of state.reserved.values()) sum += r;
  return sum;
}

/** Capacity shared by functions without a reservation: L − Σr. */
export function unreservedCapacity(state: LedgerState): number {
  return state.limits.regionalLimit - totalReserved(state);
}

/** In-flight invocations of functions without a reservation. */
export function unreservedInFlight(state: LedgerState): number {
  let sum = 0;
  for (const [fn, n] of state.inFlight) if (!state.reserved.has(fn)) sum += n;
  return sum;
}

/** May one more invocation of `fn` run now? */
export function decideConcurrency(state: LedgerState, fn: string): Decision {
  const reservation = state.reserved.get(fn);
  const current = state.inFlight.get(fn) ?? 0;
  if (reservation !== undefined) {
    return current < reservation ? { ok: true } : { ok: false, reason: ThrottleReason.Reserved };
  }
  return unreservedInFlight(state) < unreservedCapacity(state) ? { ok: true } : { ok: false, reason: ThrottleReason.Account };
}

/**
 * Why a reservation of `value` for `fn` is refused, or undefined when it is allowed: the sum of
 * reservations must leave the unreserved minimum. The message is AWS's.
 */
export function reservationProblem(state: LedgerState, fn: string, value: number): string | undefined {
  const others = totalReserved(state) - (state.reserved.get(fn) ?? 0);
  if (state.limits.regionalLimit - others - value < state.limits.unreservedMinimum) {
    return `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${state.limits.unreservedMinimum}].`;
  }
  return undefined;
}

/** The scaling-rate bucket of a function at `now`: refilled continuously, never above its size. */
export function refill(bucket: Bucket | undefined, now: number, limits: LedgerLimits): Bucket {
  const size = limits.scalingRateEnvironments;
  if (!bucket) return { tokens: size, at: now };
  const elapsed = Math.max(0, now - bucket.at);
  return { tokens: Math.min(size, bucket.tokens + (elapsed * size) / limits.scalingRateWindowMs), at: now };
}

/** May `fn` create one more environment now? Returns the bucket after the decision. */
export function decideScaling(bucket: Bucket | undefined, now: number, limits: LedgerLimits): { decision: Decision; bucket: Bucket } {
  const b = refill(bucket, now, limits);
  if (b.tokens >= 1) return { decision: { ok: true }, bucket: { tokens: b.tokens - 1, at: now } };
  return { decision: { ok: false, reason: ThrottleReason.ScalingRate }, bucket: b };
}

/** Seconds until the bucket holds a whole token: the Retry-After of a rate throttle. */
export function secondsUntilToken(bucket: Bucket, limits: LedgerLimits): number {
  const missing = Math.max(0, 1 - bucket.tokens);
  return Math.max(1, Math.ceil((missing * limits.scalingRateWindowMs) / limits.scalingRateEnvironments / 1000));
}

/** A granted slot; `release()` is idempotent so a slot is returned exactly once. */
export interface Permit {
  readonly functionName: string;
  release(): void;
  readonly released: boolean;
}

/** Holds the ledger's state and commits decisions. */
export class Ledger implements LedgerState {
  readonly reserved = new Map<string, number>();
  readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private releasedCount = 0;
  private grantedCount = 0;

  constructor(readonly limits: LedgerLimits) {}

  /** Grants a permit or says which rule refused it. */
  acquire(fn: string): Permit | { reason: ThrottleReason } {
    const d = decideConcurrency(this, fn);
    if (!d.ok) return { reason: d.reason };
    this.inFlight.set(fn, (this.inFlight.get(fn) ?? 0) + 1);
    this.grantedCount++;
    let released = false;
    const ledger = this;
    return {
      functionName: fn,
      get released() {
        return released;
      },
      release() {
        if (released) return;
        released = true;
        ledger.releasedCount++;
        const n = (ledger.inFlight.get(fn) ?? 1) - 1;
        if (n <= 0) ledger.inFlight.delete(fn);
        else ledger.inFlight.set(fn, n);
      },
    };
  }

  /** Takes a scaling-rate token for a new environment of `fn`, or says when to retry. */
  takeScalingToken(fn: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const { decision, bucket } = decideScaling(this.buckets.get(fn), now, this.limits);
    this.buckets.set(fn, bucket);
    return decision.ok ? { ok: true } : { ok: false, retryAfterSeconds: secondsUntilToken(bucket, this.limits) };
  }

  /** Sets a reservation, or returns AWS's message when it would break the unreserved minimum. */
  setReservation(fn: string, value: number): string | undefined {
    const problem = reservationProblem(this, fn, value);
    if (problem === undefined) this.reserved.set(fn, value);
    return problem;
  }

  deleteReservation(fn: string): void {
    this.reserved.delete(fn);
  }

  /** Forgets a deleted function's reservation and rate bucket. */
  forget(fn: string): void {
    this.reserved.delete(fn);
    this.buckets.delete(fn);
  }

  totalInFlight(): number {
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    return sum;
  }

  /** Permits granted and released so far (for leak checks). */
  counts(): { granted: number; released: number } {
    return { granted: this.grantedCount, released: this.releasedCount };
  }
}
