import type { TimerHandle } from '../core/clock.js';
import type { ExecutionEnvironment } from '../environments/environment.js';

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
  /**
   * The members that are idle and not retiring, by kind, in the order `idle()` picks from: the
   * last is the most recently used, and among equally recent ones the first added. Kept as the
   * members change, so placing an invocation never walks the pool.
   */
  private readonly idleOf: Record<EnvironmentKind, PooledEnvironment[]> = { 'on-demand': [], provisioned: [] };
  private readonly added = new WeakMap<PooledEnvironment, number>();
  private isRetired = false;
  private addedCount = 0;

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

  /** The most recently used idle environment of `kind` that is not retiring, left where it is. */
  idle(kind: EnvironmentKind): PooledEnvironment | undefined {
    const list = this.idleOf[kind];
    return list[list.length - 1];
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
    this.added.set(member, this.addedCount++);
    return member;
  }

  /** An idle environment taken for an invocation, or a new one whose Init succeeded. */
  markBusy(member: PooledEnvironment): void {
    this.leaveIdle(member);
    member.idleTimer?.cancel();
    delete w(member).idleTimer;
    w(member).state = 'busy';
  }

  /** Idle from `now`: after an invocation, or a provisioned one whose Init succeeded. */
  markIdle(member: PooledEnvironment, now: number, expiry?: TimerHandle): void {
    this.leaveIdle(member);
    const m = w(member);
    m.state = 'idle';
    m.lastUsedAt = now;
    if (expiry) m.idleTimer = expiry;
    if (!m.retiring) this.enterIdle(member);
  }

  /** One more invocation ran on `member`. */
  countInvocation(member: PooledEnvironment): void {
    w(member).invocations++;
  }

  /** Destroyed when its current invocation ends instead of returning to the pool. */
  markRetiring(member: PooledEnvironment): void {
    this.leaveIdle(member);
    w(member).retiring = true;
  }

  remove(member: PooledEnvironment): void {
    this.leaveIdle(member);
    member.idleTimer?.cancel();
    delete w(member).idleTimer;
    this.all.delete(member);
  }

  /** No new invocation is placed here any more. */
  retire(): void {
    this.isRetired = true;
  }

  /** Files an idle member where `idle()` finds it: usually last, as the most recent. */
  private enterIdle(member: PooledEnvironment): void {
    const list = this.idleOf[member.kind];
    let i = list.length;
    for (; i > 0; i--) {
      const before = list[i - 1] as PooledEnvironment;
      if (before.lastUsedAt < member.lastUsedAt) break;
      // Idle since the same instant: the one added later goes first, so the earlier is taken first.
      if (before.lastUsedAt === member.lastUsedAt && (this.added.get(before) ?? 0) > (this.added.get(member) ?? 0)) break;
    }
    list.splice(i, 0, member);
  }

  /** Takes a member out of the idle list, where it is while idle and not retiring. */
  private leaveIdle(member: PooledEnvironment): void {
    if (member.state !== 'idle' || member.retiring) return;
    const list = this.idleOf[member.kind];
    const i = list.lastIndexOf(member);
    if (i >= 0) list.splice(i, 1);
  }

  count(state?: EnvironmentState): number {
    let n = 0;
    for (const m of this.members) if (!state || m.state === state) n++;
    return n;
  }
}
