import type { ProvisionedStatus, ProvisionedUsage } from '../autoscaling/port.js';
import type { PooledEnvironment } from './function-pool.js';
import { usable } from './provisioned-plan.js';

/** One provisioned concurrency config and the environments allocated for it. */
export interface Entry {
  functionName: string;
  qualifier: string;
  requested: number;
  /** The environments this node keeps for it, as of the last reconcile: `requested`, or in a cluster this node's share. */
  target: number;
  lastModified: string;
  /** The version the qualifier resolved to at the last allocation. */
  version: string;
  status: ProvisionedStatus;
  statusReason?: string;
  members: Set<PooledEnvironment>;
  /** Bumped by every reconcile, so a slower, older allocation knows it was superseded. */
  generation: number;
  invocations: number;
}

export function newEntry(functionName: string, qualifier: string, requested: number, lastModified: string, version: string): Entry {
  return { functionName, qualifier, requested, target: 0, lastModified, version, status: 'IN_PROGRESS', members: new Set(), generation: 0, invocations: 0 };
}

/** The config's environments on this node: those serving its version, and of them the busy ones. */
export function entryUsage(e: Entry): ProvisionedUsage {
  const serving = usable(e.members, e.version);
  return { allocated: serving.length, inUse: serving.filter((m) => m.state === 'busy').length, invocations: e.invocations };
}

/** Configs by function, then qualifier: the invoke path looks at one function's configs only. */
export class Entries {
  private readonly byFunction = new Map<string, Map<string, Entry>>();

  get(fn: string, qualifier: string): Entry | undefined {
    return this.byFunction.get(fn)?.get(qualifier);
  }

  set(e: Entry): void {
    let configs = this.byFunction.get(e.functionName);
    if (!configs) this.byFunction.set(e.functionName, (configs = new Map()));
    configs.set(e.qualifier, e);
  }

  delete(e: Entry): void {
    const configs = this.byFunction.get(e.functionName);
    configs?.delete(e.qualifier);
    if (configs?.size === 0) this.byFunction.delete(e.functionName);
  }

  has(e: Entry): boolean {
    return this.get(e.functionName, e.qualifier) === e;
  }

  of(fn: string): Entry[] {
    return [...(this.byFunction.get(fn)?.values() ?? [])];
  }

  all(): Entry[] {
    return [...this.byFunction.values()].flatMap((configs) => [...configs.values()]);
  }

  /** Provisioned concurrency requested by all of a function's configs (its claim in the ledger). */
  totalFor(fn: string): number {
    let total = 0;
    for (const e of this.of(fn)) total += e.requested;
    return total;
  }
}
