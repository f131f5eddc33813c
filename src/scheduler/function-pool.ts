import type { TimerHandle } from '../core/clock.js';
import type { ExecutionEnvironment } from '../environments/environment.js';
import { mostRecentlyUsed } from './placement.js';

export type EnvironmentState = 'initializing' | 'idle' | 'busy';
export type EnvironmentKind = 'on-demand' | 'provisioned';

/** Why an environment was destroyed (the `reason` label of laminar_environment_evictions_total). */
export type EvictionReason = 'idle-timeout' | 'capacity' | 'retired' | 'failed' | 'shutdown';

/**
 * One environment as the scheduler sees it. Read-only outside this module: every change of
 * state, keep-alive or membership is a method of its pool, called through `Environments`.
 */
export interface PooledEnvironment {
  readonly env: ExecutionEnvironment;
  readonly kind: EnvironmentKind;
  readonly pool: FunctionPool;
  readonly state: EnvironmentState;
  /** Clock time of the last release; drives MRU placement and keep-alive. */
  readonly lastUsedAt: number;
  readonly invocations: number;
  readonly idleTimer?: TimerHandle;
  /** Destroy instead of returning to the pool when the current invocation ends. */
  readonly retiring?: boolean;
}

type Member = { -readonly [K in keyof PooledEnvironment]: PooledEnvironment[K] };

/** The writable view of a member, for this module's methods only. */
const w = (m: PooledEnvironment): Member => m as Member;

/**
 * The environments of one function version with one configuration (`stamp`). A new code or
 * configuration gets a new pool; the old one is retired: its idle environments are destroyed
 * and its busy ones are destroyed when they finish. Its methods are the only code that changes a
 * member or the membership; `Environments` calls them, drivers ask `Environments`.
 */
export class FunctionPool {
  private readonly all = new Set<PooledEnvironment>();
  private isRetired = false;

  constructor(
    readonly functionName: string,
    readonly version: string,
    readonly stamp: string,
  ) {}

  get members(): ReadonlySet<PooledEnvironment> {
    return this.all;
  }

  get retired(): boolean {
    return this.isRetired;
  }

  /** The most recently used idle environment of `kind`, left where it is. */
  idle(kind: EnvironmentKind): PooledEnvironment | undefined {
    return mostRecentlyUsed(this.members, kind);
  }

  /**
   * Marks busy and returns the most recently used idle environment of `kind`, so older on-demand
   * ones age out under keep-alive.
   */
  takeIdle(kind: EnvironmentKind): PooledEnvironment | undefined {
    const best = this.idle(kind);
    if (best) this.markBusy(best);
    return best;
  }

  add(env: ExecutionEnvironment, kind: EnvironmentKind, now: number): PooledEnvironment {
    const member: PooledEnvironment = { env, kind, pool: this, state: 'initializing', lastUsedAt: now, invocations: 0 };
    this.all.add(member);
    return member;
  }

  /** An idle environment taken for an invocation, or a new one whose Init succeeded. */
  markBusy(member: PooledEnvironment): void {
    member.idleTimer?.cancel();
    delete w(member).idleTimer;
    w(member).state = 'busy';
  }

  /** Idle from `now`: after an invocation, or a provisioned one whose Init succeeded. */
  markIdle(member: PooledEnvironment, now: number, expiry?: TimerHandle): void {
    const m = w(member);
    m.state = 'idle';
    m.lastUsedAt = now;
    if (expiry) m.idleTimer = expiry;
  }

  /** One more invocation ran on `member`. */
  countInvocation(member: PooledEnvironment): void {
    w(member).invocations++;
  }

  /** Destroyed when its current invocation ends instead of returning to the pool. */
  markRetiring(member: PooledEnvironment): void {
    w(member).retiring = true;
  }

  remove(member: PooledEnvironment): void {
    member.idleTimer?.cancel();
    delete w(member).idleTimer;
    this.all.delete(member);
  }

  /** No new invocation is placed here any more. */
  retire(): void {
    this.isRetired = true;
  }

  count(state?: EnvironmentState): number {
    let n = 0;
    for (const m of this.members) if (!state || m.state === state) n++;
    return n;
  }
}
