import { ResourceNotFoundException } from '../../../src/core/errors.js';
import type { ProvisionedConcurrencyPort, ProvisionedConfigView, ProvisionedUsage } from '../../../src/autoscaling/port.js';

/**
 * A provisioned concurrency port in memory: configs become READY at once, and the test sets how
 * many environments are busy and whether invocations are arriving.
 */
export class FakePort implements ProvisionedConcurrencyPort {
  readonly configs = new Map<string, ProvisionedConfigView>();
  readonly calls: string[] = [];
  readonly functions = new Set<string>();
  private readonly load = new Map<string, { inUse: number; invocations: number; flowing: boolean }>();
  /** When set, put() throws it (to see Failed activities). */
  failWith: Error | undefined;

  constructor(...functions: string[]) {
    for (const f of functions) this.functions.add(f);
  }

  put(fn: string, q: string, requested: number): void {
    this.calls.push(`put ${fn}:${q} ${requested}`);
    if (!this.functions.has(fn)) throw new ResourceNotFoundException(`Function not found: arn:aws:lambda:us-east-1:000000000000:function:${fn}:${q}`);
    if (this.failWith) throw this.failWith;
    this.configs.set(`${fn}:${q}`, { requested, allocated: requested, status: 'READY' });
  }

  delete(fn: string, q: string): void {
    this.calls.push(`delete ${fn}:${q}`);
    this.configs.delete(`${fn}:${q}`);
  }

  get(fn: string, q: string): ProvisionedConfigView | undefined {
    return this.configs.get(`${fn}:${q}`);
  }

  usage(fn: string, q: string): ProvisionedUsage | undefined {
    const c = this.configs.get(`${fn}:${q}`);
    if (!c) return undefined;
    const l = this.loadOf(`${fn}:${q}`);
    if (l.flowing) l.invocations += 1;
    return { allocated: c.allocated, inUse: Math.min(l.inUse, c.allocated), invocations: l.invocations };
  }

  /** `inUse` environments busy; `flowing` = new invocations keep arriving. */
  setLoad(fn: string, q: string, inUse: number, flowing = true): void {
    const l = this.loadOf(`${fn}:${q}`);
    l.inUse = inUse;
    l.flowing = flowing;
  }

  /** Sets busy environments to a fraction of what is allocated now. */
  setUtilization(fn: string, q: string, utilization: number, flowing = true): void {
    const c = this.configs.get(`${fn}:${q}`);
    this.setLoad(fn, q, Math.round((c?.allocated ?? 0) * utilization), flowing);
  }

  requested(fn: string, q: string): number | undefined {
    return this.configs.get(`${fn}:${q}`)?.requested;
  }

  private loadOf(key: string) {
    let l = this.load.get(key);
    if (!l) this.load.set(key, (l = { inUse: 0, invocations: 0, flowing: false }));
    return l;
  }
}
