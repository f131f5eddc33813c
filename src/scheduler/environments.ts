/**
 * The owner of every execution environment: creates them, moves them between idle and busy,
 * retires pools and destroys environments. The scheduler, the reaper and provisioned
 * concurrency ask it; none of them changes an environment's state or a pool's membership itself.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { streamSuffix } from '../core/ids.js';
import type { EnvironmentFactory } from '../environments/environment.js';
import type { LogStore } from '../logs/log-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import { configStamp, environmentSpec, type SpecSettings } from './environment-spec.js';
import { FunctionPool, type EnvironmentKind, type EvictionReason, type PooledEnvironment } from './function-pool.js';

export interface EnvironmentsOptions extends SpecSettings {
  clock: Clock;
  factory: EnvironmentFactory;
  metrics: Metrics;
  /** Where each environment's log stream is written. */
  logs: Pick<LogStore, 'append' | 'closeStream'>;
}

/** A pool, and the provisioned environments its predecessor's retirement destroyed. */
export interface PoolLookup {
  pool: FunctionPool;
  /** For the caller to have replaced (empty during shutdown: nothing is replaced then). */
  displaced: PooledEnvironment[];
}

const NONE: PooledEnvironment[] = [];

export class Environments {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly retiredPools = new Set<FunctionPool>();
  private readonly byId = new Map<string, PooledEnvironment>();
  private seq = 0;
  private shuttingDown = false;

  constructor(private readonly o: EnvironmentsOptions) {}

  /** Set once shutdown starts: environments are destroyed as their invocations end. */
  get closing(): boolean {
    return this.shuttingDown;
  }

  /** The pool of `target`'s version with its current configuration; a stale one is retired. */
  poolFor(target: ResolvedTarget): PoolLookup {
    const key = `${target.functionName}\u0000${target.version}`;
    const stamp = configStamp(target);
    let pool = this.pools.get(key);
    let displaced = NONE;
    if (pool && pool.stamp !== stamp) {
      displaced = this.retire(pool);
      pool = undefined;
    }
    if (!pool) {
      pool = new FunctionPool(target.functionName, target.version, stamp);
      this.pools.set(key, pool);
    }
    return { pool, displaced };
  }

  /** The current pool of `target`'s version, if it has one; a read that changes nothing. */
  existingPool(target: ResolvedTarget): FunctionPool | undefined {
    const pool = this.pools.get(`${target.functionName}\u0000${target.version}`);
    return pool && pool.stamp === configStamp(target) ? pool : undefined;
  }

  /** Creates (not yet initialised) an environment of `kind` in `pool`. */
  create(pool: FunctionPool, target: ResolvedTarget, kind: EnvironmentKind): PooledEnvironment {
    const id = `env-${++this.seq}-${streamSuffix().slice(0, 8)}`;
    const now = this.o.clock.now();
    const member = pool.add(this.o.factory(id, environmentSpec(target, kind, id, now, streamSuffix(), this.o)), kind, now);
    this.byId.set(member.env.id, member);
    return member;
  }

  /** An idle environment taken for an invocation. */
  take(member: PooledEnvironment): void {
    member.pool.markBusy(member);
  }

  /** Init succeeded: an on-demand environment runs the invocation that waited; a provisioned one waits idle. */
  initialised(member: PooledEnvironment): void {
    if (member.kind === 'provisioned') member.pool.markIdle(member, this.o.clock.now());
    else member.pool.markBusy(member);
  }

  /** Back to idle after an invocation; `expiry` is its keep-alive timer, cancelled when it is taken. */
  release(member: PooledEnvironment, expiry?: TimerHandle): void {
    member.pool.markIdle(member, this.o.clock.now(), expiry);
  }

  countInvocation(member: PooledEnvironment): void {
    member.pool.countInvocation(member);
  }

  /** Takes an environment out of service: destroyed now, or when its invocation ends if busy. */
  letGo(member: PooledEnvironment): void {
    if (member.state === 'busy') member.pool.markRetiring(member);
    else this.destroy(member, 'retired');
  }

  /** Appends to the environment's log stream. */
  appendLog(member: PooledEnvironment, text: string): void {
    const spec = member.env.spec;
    this.o.logs.append(spec.functionName, spec.logStreamName, text);
  }

  destroy(member: PooledEnvironment, reason: EvictionReason): void {
    const pool = member.pool;
    if (!pool.members.has(member)) return;
    this.o.metrics.evictions.inc({ function: pool.functionName, reason });
    pool.remove(member);
    this.byId.delete(member.env.id);
    this.o.logs.closeStream(member.env.spec.functionName, member.env.spec.logStreamName);
    if (pool.retired && pool.count() === 0) this.retiredPools.delete(pool);
    void member.env.destroy();
  }

  /** Destroys the environment with this id, if it still exists. */
  destroyById(id: string, reason: EvictionReason): void {
    const member = this.byId.get(id);
    if (member) this.destroy(member, reason);
  }

  /**
   * Retires every environment of a function (all versions, or one), e.g. after DeleteFunction.
   * Returns the provisioned environments destroyed, for the caller to have replaced.
   */
  retireFunction(functionName: string, version?: string): PooledEnvironment[] {
    const displaced: PooledEnvironment[] = [];
    for (const pool of [...this.pools.values()]) {
      if (pool.functionName === functionName && (version === undefined || pool.version === version)) displaced.push(...this.retire(pool));
    }
    return displaced;
  }

  /** Every environment, in current and retired pools. */
  allMembers(): PooledEnvironment[] {
    return [...this.pools.values(), ...this.retiredPools].flatMap((p) => [...p.members]);
  }

  /** Environments per function, state and kind (the laminar_environments gauge). */
  counts(): { functionName: string; state: string; kind: string; count: number }[] {
    const counts = new Map<string, { functionName: string; state: string; kind: string; count: number }>();
    for (const m of this.allMembers()) {
      const key = `${m.pool.functionName}\u0000${m.state}\u0000${m.kind}`;
      const entry = counts.get(key) ?? { functionName: m.pool.functionName, state: m.state, kind: m.kind, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  /** Shutdown starts: environments are destroyed as their invocations end, and nothing is replaced. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Forgets every pool and destroys every environment. */
  async destroyAll(): Promise<void> {
    const all = this.allMembers();
    this.pools.clear();
    this.retiredPools.clear();
    this.byId.clear();
    await Promise.allSettled(all.map((m) => m.env.destroy()));
  }

  /**
   * No new invocation goes to `pool`: its idle environments are destroyed now, its busy ones
   * when they finish. Returns the provisioned ones destroyed (none during shutdown).
   */
  private retire(pool: FunctionPool): PooledEnvironment[] {
    pool.retire();
    this.pools.delete(`${pool.functionName}\u0000${pool.version}`);
    const displaced: PooledEnvironment[] = [];
    for (const m of [...pool.members]) {
      if (m.state !== 'idle') continue;
      this.destroy(m, 'retired');
      if (m.kind === 'provisioned' && !this.shuttingDown) displaced.push(m);
    }
    if (pool.count() > 0) this.retiredPools.add(pool);
    return displaced;
  }
}
