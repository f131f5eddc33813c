/** Throttle reasons, as the `Reason` of a 429 body. The first three are AWS's own strings. */
export const ThrottleReason = {
  /** The function's reserved concurrency is in use (or is 0). */
  Reserved: 'ReservedFunctionConcurrentInvocationLimitExceeded',
  /** The account's unreserved pool (regional limit minus reservations) is in use. */
  Account: 'ConcurrentInvocationLimitExceeded',
  /** The function may not create new environments faster than the scaling rate. */
  ScalingRate: 'FunctionInvocationRateLimitExceeded',
  /** Laminar's own: the host's memory budget cannot fit another environment and none can be evicted. */
  HostCapacity: 'LaminarHostCapacityExceeded',
} as const;

export type ThrottleReason = (typeof ThrottleReason)[keyof typeof ThrottleReason];

/** The message Lambda sends with each reason. */
export function throttleMessage(reason: ThrottleReason): string {
  switch (reason) {
    case ThrottleReason.Reserved:
      return 'Rate Exceeded.';
    case ThrottleReason.Account:
      return 'Rate Exceeded.';
    case ThrottleReason.ScalingRate:
      return 'Rate Exceeded.';
    case ThrottleReason.HostCapacity:
      return 'Rate Exceeded: the Laminar host has no memory left for another execution environment.';
  }
}
