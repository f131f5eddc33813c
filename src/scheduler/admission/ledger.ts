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
  /** On-demand in-flight invocations by function, across all its versions and aliases. */
  readonly inFlight: ReadonlyMap<string, number>;
  /**
   * Provisioned concurrency claimed by function (all its configs). It is capacity taken from the
   * reservation or the unreserved pool whether or not it is busy.
   */
  readonly provisioned: ReadonlyMap<string, number>;
}

/**
 * What the ledger holds, read without waiting: the embedded ledger itself, or, in a cluster, a
 * snapshot a moment old. Decisions never rest on it alone (the ledger's acquire decides); it
 * serves gauges, the async dispatcher's caps and the early throttle check.
 */
export interface LedgerView extends LedgerState {
  readonly provisionedInFlight: ReadonlyMap<string, number>;
  /** In-flight invocations of `fn`, on-demand and provisioned. */
  concurrency(fn: string): number;
  /** True while the view cannot be brought up to date (a cluster's Redis is away). */
  readonly stale?: boolean;
  /** What a scaling-rate token request would answer now; absent where buckets are not local. */
  peekScalingToken?(fn: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number };
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

/** On-demand in-flight invocations of functions without a reservation (UnreservedConcurrentExecutions). */
export function unreservedInFlight(state: LedgerState): number {
  let sum = 0;
  for (const [fn, n] of state.inFlight) if (!state.reserved.has(fn)) sum += n;
  return sum;
}

/** Provisioned concurrency of functions without a reservation: it is carved out of the unreserved pool. */
export function unreservedProvisioned(state: LedgerState): number {
  let sum = 0;
  for (const [fn, n] of state.provisioned) if (!state.reserved.has(fn)) sum += n;
  return sum;
}

/** ClaimedAccountConcurrency: unreserved in use + Σ reservations + provisioned of unreserved functions. */
export function claimedAccountConcurrency(state: LedgerState): number {
  return unreservedInFlight(state) + totalReserved(state) + unreservedProvisioned(state);
}

/** May one more on-demand invocation of `fn` run now? (Invocations on provisioned environments need no decision.) */
export function decideConcurrency(state: LedgerState, fn: string): Decision {
  const reservation = state.reserved.get(fn);
  const current = (state.inFlight.get(fn) ?? 0) + (state.provisioned.get(fn) ?? 0);
  if (reservation !== undefined) {
    return current < reservation ? { ok: true } : { ok: false, reason: ThrottleReason.Reserved };
  }
  return unreservedInFlight(state) + unreservedProvisioned(state) < unreservedCapacity(state)
    ? { ok: true }
    : { ok: false, reason: ThrottleReason.Account };
}

/**
 * Why `fn` may not hold `total` provisioned concurrency (over all its configs), or undefined:
 * within its reservation, or for an unreserved function within what the unreserved pool can
 * give while keeping the minimum. The messages are AWS's: beyond the unreserved pool (regional
 * limit minus reservations and other functions' provisioned concurrency) Lambda quotes that
 * pool; within it but eating into the minimum, it quotes the minimum.
 */
export function provisionedProblem(state: LedgerState, fn: string, total: number): string | undefined {
  const reservation = state.reserved.get(fn);
  if (reservation !== undefined) {
    return total > reservation ? 'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function' : undefined;
  }
  const others = unreservedProvisioned(state) - (state.provisioned.get(fn) ?? 0);
  const unreserved = unreservedCapacity(state) - others;
  if (total > unreserved) {
    return `Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${Math.max(0, unreserved)}].`;
  }
  if (unreserved - total < state.limits.unreservedMinimum) {
    return `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${state.limits.unreservedMinimum}].`;
  }
  return undefined;
}

/**
 * Why a reservation of `value` for `fn` is refused, or undefined when it is allowed: it may not
 * be below the function's provisioned concurrency, and the sum of reservations must leave the
 * unreserved minimum. The messages are AWS's, spacing included.
 */
export function reservationProblem(state: LedgerState, fn: string, value: number): string | undefined {
  const provisioned = state.provisioned.get(fn) ?? 0;
  if (value < provisioned) {
    return ` ReservedConcurrentExecutions  ${value} should not be lower than function's total provisioned concurrency [${provisioned}].`;
  }
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
export class Ledger implements LedgerView {
  readonly reserved = new Map<string, number>();
  readonly inFlight = new Map<string, number>();
  readonly provisioned = new Map<string, number>();
  /** Invocations running on provisioned environments, by function (for ConcurrentExecutions). */
  readonly provisionedInFlight = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private releasedCount = 0;
  private grantedCount = 0;

  constructor(readonly limits: LedgerLimits) {}

  /**
   * Grants a permit or says which rule refused it. A provisioned invocation runs on capacity its
   * config already claimed, so it is always granted.
   */
  acquire(fn: string, kind: 'on-demand' | 'provisioned' = 'on-demand'): Permit | { reason: ThrottleReason } {
    if (kind === 'on-demand') {
      const d = decideConcurrency(this, fn);
      if (!d.ok) return { reason: d.reason };
    }
    const counter = kind === 'on-demand' ? this.inFlight : this.provisionedInFlight;
    counter.set(fn, (counter.get(fn) ?? 0) + 1);
    this.grantedCount++;
    return new LedgerPermit(this, counter, fn);
  }

  /** Gives back a slot of `counter` (a permit's release; see LedgerPermit). */
  returnSlot(counter: Map<string, number>, fn: string): void {
    this.releasedCount++;
    const n = (counter.get(fn) ?? 1) - 1;
    if (n <= 0) counter.delete(fn);
    else counter.set(fn, n);
  }

  /** Takes a scaling-rate token for a new environment of `fn`, or says when to retry. */
  takeScalingToken(fn: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const { answer, bucket } = this.scaling(fn, now);
    this.buckets.set(fn, bucket);
    return answer;
  }

  /** What `takeScalingToken` would answer now, without taking anything. */
  peekScalingToken(fn: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    return this.scaling(fn, now).answer;
  }

  private scaling(fn: string, now: number): { answer: { ok: true } | { ok: false; retryAfterSeconds: number }; bucket: Bucket } {
    const { decision, bucket } = decideScaling(this.buckets.get(fn), now, this.limits);
    return { answer: decision.ok ? { ok: true } : { ok: false, retryAfterSeconds: secondsUntilToken(bucket, this.limits) }, bucket };
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

  /** Claims `total` provisioned concurrency for `fn` (all its configs), or says why not. */
  setProvisioned(fn: string, total: number): string | undefined {
    const problem = provisionedProblem(this, fn, total);
    if (problem === undefined) this.recordProvisioned(fn, total);
    return problem;
  }

  /**
   * Records `fn`'s provisioned claim without checking the rules: for configs accepted before a
   * restart, and for releases, which only ever lower it.
   */
  recordProvisioned(fn: string, total: number): void {
    if (total > 0) this.provisioned.set(fn, total);
    else this.provisioned.delete(fn);
  }

  /** Forgets a deleted function's reservation, provisioned claim and rate bucket. */
  forget(fn: string): void {
    this.reserved.delete(fn);
    this.provisioned.delete(fn);
    this.buckets.delete(fn);
  }

  /** In-flight invocations of `fn`, on-demand and provisioned (ConcurrentExecutions). */
  concurrency(fn: string): number {
    return (this.inFlight.get(fn) ?? 0) + (this.provisionedInFlight.get(fn) ?? 0);
  }

  totalInFlight(): number {
    let sum = 0;
    for (const n of this.inFlight.values()) sum += n;
    for (const n of this.provisionedInFlight.values()) sum += n;
    return sum;
  }

  /** Permits granted and released so far (for leak checks). */
  counts(): { granted: number; released: number } {
    return { granted: this.grantedCount, released: this.releasedCount };
  }
}

/**
 * A slot granted by the ledger. A class, not an object literal with a getter: a literal's
 * accessor is defined afresh on every grant, on V8's slow path, once per invocation.
 */
class LedgerPermit implements Permit {
  private done = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly counter: Map<string, number>,
    readonly functionName: string,
  ) {}

  get released(): boolean {
    return this.done;
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.ledger.returnSlot(this.counter, this.functionName);
  }
}
