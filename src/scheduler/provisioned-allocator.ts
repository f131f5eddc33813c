/**
 * The allocator: creates provisioned environments and runs their Inits. It makes room in the
 * host's memory budget for each (no scaling-rate token: provisioned allocation is not paced),
 * paces Inits through a limiter so a large request doesn't starve running traffic, and readies
 * the environments once provisioned concurrency confirms they are still wanted.
 */
import type { InitResult } from '../environments/environment.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import type { Environments } from './environments.js';
import type { FunctionPool, PooledEnvironment } from './function-pool.js';
import { Limiter } from './limiter.js';
import { capacityFailure } from './provisioned-plan.js';
import type { Reaper } from './reaper.js';
import { provisionedInitLog } from './record.js';

export interface AllocatorOptions {
  environments: Environments;
  reaper: Reaper;
  metrics: Metrics;
  /** Inits run at once across all allocations. */
  initConcurrency: number;
}

export type Allocation =
  /** The host cannot fit them; nothing stays allocated. */
  | { ok: false; reason: string }
  /** Created and initialising; `inits` settles with each one's result, in order. */
  | { ok: true; members: PooledEnvironment[]; inits: Promise<InitResult[]> };

export class ProvisionedAllocator {
  private readonly limiter: Limiter;

  constructor(private readonly o: AllocatorOptions) {
    this.limiter = new Limiter(o.initConcurrency);
  }

  /** Creates `count` provisioned environments of `target` in `pool` and starts their Inits. */
  allocate(pool: FunctionPool, target: ResolvedTarget, count: number): Allocation {
    const memoryMb = target.configuration.MemorySize;
    const members: PooledEnvironment[] = [];
    for (let i = 0; i < count; i++) {
      if (!this.o.reaper.makeRoom(memoryMb)) {
        for (const m of members) this.o.environments.letGo(m);
        return { ok: false, reason: capacityFailure(count, memoryMb) };
      }
      members.push(this.o.environments.create(pool, target, 'provisioned'));
    }
    return { ok: true, members, inits: Promise.all(members.map((m) => this.limiter.run(() => m.env.init()))) };
  }

  /** Every Init succeeded and the environments are still wanted: they log their Init and serve. */
  ready(members: readonly PooledEnvironment[], results: readonly InitResult[], labels: { function: string; qualifier: string }): void {
    for (const [i, m] of members.entries()) {
      const r = results[i];
      if (r) {
        this.o.metrics.initDuration.observe(labels, r.initDurationMs / 1000);
        this.o.environments.appendLog(m, provisionedInitLog(m.env.spec.runtime, r.logs, r.initDurationMs));
      }
      this.o.environments.initialised(m);
    }
  }
}
