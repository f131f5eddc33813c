/**
 * Provisioned concurrency's rule: given a config's environments and the version its qualifier
 * names now, which to let go, how many to create, and the config's status. Pure: provisioned
 * concurrency applies the plan and the allocator creates what it asks for.
 */
import type { InitResult } from '../environments/environment.js';
import type { EnvironmentState } from './function-pool.js';

/** The fields the plan reads from a config's environment. */
export interface PlanMember {
  readonly state: EnvironmentState;
  readonly retiring?: boolean | undefined;
  readonly pool: { readonly version: string };
}

export interface ReconcilePlan<M> {
  /** Surplus on the version, idle ones first: destroyed now, busy ones when their invocation ends. */
  release: M[];
  /** New environments to create on the version. */
  create: number;
  /**
   * Environments on another version (the alias moved): let go now when nothing is created,
   * else once the new ones are ready, so the alias keeps warm capacity meanwhile.
   */
  stale: M[];
  /** READY when nothing is to be created and none of the kept environments still initialises. */
  status: 'READY' | 'IN_PROGRESS';
}

/** Brings `members` to `requested` environments on `version`. */
export function planReconcile<M extends PlanMember>(requested: number, version: string, members: Iterable<M>): ReconcilePlan<M> {
  const current: M[] = [];
  const stale: M[] = [];
  for (const m of members) {
    if (m.pool.version !== version) stale.push(m);
    else if (!m.retiring) current.push(m);
  }
  // Shrink: idle (and initializing) ones first; busy ones leave when their invocation ends.
  const release =
    current.length > requested
      ? current.sort((a, b) => Number(a.state === 'busy') - Number(b.state === 'busy')).slice(0, current.length - requested)
      : [];
  const create = requested - Math.min(current.length, requested);
  // READY once every environment it keeps finished Init (an earlier allocation may still run some).
  const initializing = current.some((m) => m.state === 'initializing' && !release.includes(m));
  return { release, create, stale, status: create === 0 && !initializing ? 'READY' : 'IN_PROGRESS' };
}

/** Environments of the config that finished Init and serve traffic on its version. */
export function usable<M extends PlanMember>(members: Iterable<M>, version: string): M[] {
  const out: M[] = [];
  for (const m of members) if (m.state !== 'initializing' && !m.retiring && m.pool.version === version) out.push(m);
  return out;
}

/** The status reason when the host cannot fit the environments a plan asked for. */
export function capacityFailure(count: number, memoryMb: number): string {
  return `The Laminar host's memory budget cannot fit ${count} more environments of ${memoryMb} MB.`;
}

/** The status reason when an Init failed, or undefined when every one succeeded. */
export function initFailure(results: readonly InitResult[]): string | undefined {
  const failure = results.find((r) => !r.ok);
  if (!failure) return undefined;
  return `FUNCTION_ERROR_INIT_FAILURE: ${failure.error?.errorType ?? 'Runtime.Unknown'}: ${failure.error?.errorMessage ?? ''}`.trim();
}
