import type { AdmissionKind, AdmissionRequest } from './admit.js';
import type { LedgerLimits, LedgerState } from './ledger.js';
import type { ThrottleReason } from './reasons.js';

/**
 * The concurrency ledger as a port: the embedded ledger (one node, in memory) and the Redis
 * ledger (a cluster of nodes sharing one account) both implement it, and one conformance suite
 * runs against both. Every method is asynchronous because the cluster's state is a network away;
 * the embedded implementation answers at once.
 *
 * Failure contract: when the shared store cannot be reached, every method except
 * `Grant.release` and `close` rejects with `ClusterUnavailableError` (a `ServiceException`) and
 * changes nothing. In particular `acquire` never grants a slot it could not check.
 */

export type { AdmissionKind, AdmissionRequest } from './admit.js';

/** A granted slot. */
export interface Grant {
  readonly functionName: string;
  readonly kind: AdmissionKind;
  /**
   * Returns the slot, exactly once however often it is called. It never rejects: in a cluster, a
   * release that cannot reach Redis leaves a lease that nobody renews, and it expires by itself
   * within the lease time, so the caller's `finally` has nothing to handle.
   */
  release(): Promise<void>;
  readonly released: boolean;
}

/** Why an acquire was refused. */
export interface Refusal {
  readonly reason: ThrottleReason;
  /** Set for a scaling-rate refusal: whole seconds until the bucket holds a token. */
  readonly retryAfterSeconds?: number;
}

export function isGrant(r: Grant | Refusal): r is Grant {
  return 'release' in r;
}

/** The ledger's counts at one moment: what the gauges, `/health` and the async lease caps read. */
export interface LedgerSnapshot extends LedgerState {
  /** Invocations running on provisioned environments, by function. */
  readonly provisionedInFlight: ReadonlyMap<string, number>;
}

export type ScalingToken = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface LedgerPort {
  readonly limits: LedgerLimits;

  /**
   * One atomic admission (see `decideAdmission`): the regional limit, the function's reservation
   * or the unreserved pool, provisioned claims, and with `scalingToken` the scaling-rate bucket.
   * A refused token takes no slot; a concurrency refusal takes no token.
   */
  acquire(functionName: string, request: AdmissionRequest): Promise<Grant | Refusal>;

  /**
   * A scaling-rate token on its own, for when the need for a new environment shows only after
   * the slot was granted (the idle environment the caller meant to reuse was taken meanwhile).
   */
  takeScalingToken(functionName: string, now: number): Promise<ScalingToken>;

  /** Sets a reservation, or returns AWS's message (as `reservationProblem`) and changes nothing. */
  setReservation(functionName: string, value: number): Promise<string | undefined>;
  /** Records a reservation accepted earlier (loaded at start) without checking the rules again. */
  recordReservation(functionName: string, value: number): Promise<void>;
  deleteReservation(functionName: string): Promise<void>;

  /** Claims `total` provisioned concurrency for the function (all its configs), or says why not. */
  setProvisioned(functionName: string, total: number): Promise<string | undefined>;
  /** Records a provisioned claim unchecked: configs accepted before a restart, and decreases. */
  recordProvisioned(functionName: string, total: number): Promise<void>;

  /** Forgets a deleted function's reservation, provisioned claim and scaling bucket. */
  forget(functionName: string): Promise<void>;

  /** The counts at `now` (a cluster ledger first drops leases that expired by then). */
  snapshot(now: number): Promise<LedgerSnapshot>;
  /** In-flight invocations of the function, on-demand and provisioned (ConcurrentExecutions). */
  concurrency(functionName: string, now: number): Promise<number>;

  /** Returns the slots this node still holds and lets go of what the ledger opened. */
  close(): Promise<void>;
}
