import type { TimerHandle } from '../core/clock.js';
import type { ExecutionEnvironment } from '../environments/environment.js';

export type EnvironmentState = 'initializing' | 'idle' | 'busy';
export type EnvironmentKind = 'on-demand' | 'provisioned';

/** One environment as the scheduler sees it. */
export interface PooledEnvironment {
  readonly env: ExecutionEnvironment;
  readonly kind: EnvironmentKind;
  readonly pool: FunctionPool;
  state: EnvironmentState;
  /** Clock time of the last release; drives MRU placement and keep-alive. */
  lastUsedAt: number;
  invocations: number;
  idleTimer?: TimerHandle;
  /** Destroy instead of returning to the pool when the current invocation ends. */
  retiring?: boolean;
}

/**
 * The environments of one function version with one configuration (`stamp`). A new code or
 * configuration gets a new pool; the old one is retired: its idle environments are destroyed
 * and its busy ones are destroyed when they finish.
 */
export class FunctionPool {
  readonly members = new Set<PooledEnvironment>();
  retired = false;

  constructor(
    readonly functionName: string,
    readonly version: string,
    readonly stamp: string,
  ) {}

  /**
   * Marks busy and returns the most recently used idle environment of `kind`, so older on-demand
   * ones age out under keep-alive.
   */
  takeIdle(kind: EnvironmentKind): PooledEnvironment | undefined {
    let best: PooledEnvironment | undefined;
    for (const m of this.members) {
      if (m.kind === kind && m.state === 'idle' && !m.retiring && (!best || m.lastUsedAt > best.lastUsedAt)) best = m;
    }
    if (best) {
      best.idleTimer?.cancel();
      delete best.idleTimer;
      best.state = 'busy';
    }
    return best;
  }

  add(env: ExecutionEnvironment, kind: EnvironmentKind, now: number): PooledEnvironment {
    const member: PooledEnvironment = { env, kind, pool: this, state: 'initializing', lastUsedAt: now, invocations: 0 };
    this.members.add(member);
    return member;
  }

  remove(member: PooledEnvironment): void {
    member.idleTimer?.cancel();
    delete member.idleTimer;
    this.members.delete(member);
  }

  count(state?: EnvironmentState): number {
    let n = 0;
    for (const m of this.members) if (!state || m.state === state) n++;
    return n;
  }
}
