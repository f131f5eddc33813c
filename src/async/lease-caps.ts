/**
 * How many events of each function the dispatcher may hold at once: a pure function of the
 * ledger's counts and the dispatcher's own, recomputed before every lease. Leasing only what the
 * ledger could admit keeps a backlog from turning into a stream of throttles (each one a lease,
 * a refused attempt and a reschedule), and keeps asynchronous work from taking the concurrency
 * that synchronous invokes need:
 *
 * - A function with reservation R: R minus what its other invocations (synchronous ones) use.
 *   Its reservation is its own, so async work there never takes capacity from another function.
 * - A function with reservation 0 is not capped: its events are leased only to be dropped at once.
 * - Functions without reservation share the unreserved pool with every synchronous invoke. The
 *   dispatcher leases for them only while the pool has room and its own attempts hold less than
 *   half of the pool, so synchronous traffic always keeps at least the other half.
 *
 * Provisioned environments serve without a ledger decision, so an alias whose provisioned
 * environments are idle may wait while the pool is full; the dispatcher looks again shortly.
 */
import type { LeaseOptions } from './queue.js';

/** What the caps are computed from, read from the ledger and the dispatcher at lease time. */
export interface CapInputs {
  /** Reserved concurrency per function. */
  reserved: ReadonlyMap<string, number>;
  /** In-flight invocations of a function as the ledger counts them: sync and async, on-demand and provisioned. */
  concurrency(functionName: string): number;
  /** The dispatcher's attempts inside the scheduler, per function (part of `concurrency`). */
  running: ReadonlyMap<string, number>;
  /** The unreserved pool: the regional limit minus every reservation. */
  unreservedPool: number;
  /** Of the pool, what is in use now (on-demand in flight plus provisioned claims of unreserved functions). */
  unreservedUsed: number;
  /** The dispatcher's attempts of functions without reservation, inside the scheduler. */
  runningUnreserved: number;
}

/** A cap that never binds, for functions whose events must be leased to be dropped. */
const UNCAPPED = Number.MAX_SAFE_INTEGER;

/** The lease options for the next lease. */
export function leaseCaps(i: CapInputs): Required<Pick<LeaseOptions, 'caps'>> & Pick<LeaseOptions, 'defaultCap'> {
  const caps = new Map<string, number>();
  for (const [fn, r] of i.reserved) {
    if (r === 0) {
      caps.set(fn, UNCAPPED);
      continue;
    }
    const others = Math.max(0, i.concurrency(fn) - (i.running.get(fn) ?? 0));
    caps.set(fn, Math.max(0, r - others));
  }
  const share = Math.max(1, Math.floor(i.unreservedPool / 2));
  const full = i.unreservedUsed >= i.unreservedPool || i.runningUnreserved >= share;
  return full ? { caps, defaultCap: 0 } : { caps };
}
