import { decideConcurrency, decideScaling, secondsUntilToken, type Bucket, type LedgerState } from './ledger.js';
import { ThrottleReason } from './reasons.js';

/**
 * The whole admission of one invocation as a single pure decision: the concurrency rules, then,
 * when the invocation needs a new environment, the scaling-rate bucket. It is the specification
 * every ledger implementation commits atomically (the embedded ledger in memory, the Redis ledger
 * in one Lua script); the shared case tables hold them all to it.
 */

export type AdmissionKind = 'on-demand' | 'provisioned';

export interface AdmissionRequest {
  /** `provisioned`: runs on an idle provisioned environment, capacity its config already claimed. */
  kind: AdmissionKind;
  /** The invocation needs a new on-demand environment, so it takes a scaling-rate token. */
  scalingToken?: boolean;
  /** Milliseconds since the epoch, from the node's Clock. */
  now: number;
}

export type AdmissionDecision = { ok: true } | { ok: false; reason: ThrottleReason; retryAfterSeconds?: number };

/**
 * Decides one admission and returns the bucket to store afterwards (undefined: leave it as it
 * was). Order matters and is Lambda's: a concurrency throttle takes no token, and a token refused
 * takes no slot, so neither a throttled request nor a cold start that was refused its
 * environment uses up capacity.
 */
export function decideAdmission(
  state: LedgerState,
  bucket: Bucket | undefined,
  fn: string,
  request: AdmissionRequest,
): { decision: AdmissionDecision; bucket: Bucket | undefined } {
  if (request.kind === 'on-demand') {
    const d = decideConcurrency(state, fn);
    if (!d.ok) return { decision: d, bucket };
  }
  if (!request.scalingToken) return { decision: { ok: true }, bucket };
  const scaled = decideScaling(bucket, request.now, state.limits);
  if (scaled.decision.ok) return { decision: { ok: true }, bucket: scaled.bucket };
  return {
    decision: { ok: false, reason: ThrottleReason.ScalingRate, retryAfterSeconds: secondsUntilToken(scaled.bucket, state.limits) },
    bucket: scaled.bucket,
  };
}
