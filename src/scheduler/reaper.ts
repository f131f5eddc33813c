/**
 * The reaper: destroys on-demand environments that sat idle past the keep-alive, and evicts idle
 * ones least recently used first when the host's memory budget needs room. Driven by the Clock;
 * the decisions are placement's and keep-alive's, the state changes the environment owner's.
 */
import type { Clock } from '../core/clock.js';
import type { Environments } from './environments.js';
import type { PooledEnvironment } from './function-pool.js';
import { planCreate, type HostView } from './placement.js';

export interface ReaperOptions {
  clock: Clock;
  /** Memory budget for all environments; each is charged its MemorySize. */
  hostMemoryMb: number;
  environmentIdleTimeoutSeconds: number;
}

export class Reaper {
  constructor(
    private readonly environments: Environments,
    private readonly o: ReaperOptions,
  ) {}

  get idleTimeoutMs(): number {
    return this.o.environmentIdleTimeoutSeconds * 1000;
  }

  /** Every environment on the host, for a new one of `needMb`. */
  hostView(needMb: number): HostView {
    return {
      environments: this.environments.allMembers().map((m) => ({
        id: m.env.id,
        memoryMb: m.env.spec.memoryMb,
        evictable: m.state === 'idle' && m.kind === 'on-demand',
        lastUsedAt: m.lastUsedAt,
      })),
      budgetMb: this.o.hostMemoryMb,
      needMb,
    };
  }

  /** Destroys the environments a capacity plan chose. */
  evict(ids: readonly string[]): void {
    for (const id of ids) this.environments.destroyById(id, 'capacity');
  }

  /** Makes room for an environment of `memoryMb` that needs no scaling-rate token; false when it cannot. */
  makeRoom(memoryMb: number): boolean {
    const plan = planCreate(this.hostView(memoryMb), false);
    if (plan.kind !== 'create') return false;
    this.evict(plan.evict);
    return true;
  }

  /**
   * Returns an environment to idle after its invocation. With `expiresAt` (on-demand ones) it is
   * destroyed then, unless an invocation takes it first (taking it cancels the timer).
   */
  keepAlive(member: PooledEnvironment, expiresAt?: number): void {
    const expiry =
      expiresAt === undefined
        ? undefined
        : this.o.clock.setTimeout(() => this.environments.destroy(member, 'idle-timeout'), expiresAt - this.o.clock.now());
    this.environments.release(member, expiry);
  }
}
