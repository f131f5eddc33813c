import { functionArn } from '../core/arn.js';
import { InvalidParameterValueException } from '../core/errors.js';
import type { ProvisionedConcurrencyPort, ProvisionedConfigView, ProvisionedUsage } from '../autoscaling/port.js';
import type { InitResult } from '../environments/environment.js';
import type { ProvisionedSnapshot } from '../metrics/metrics.js';
import type { ResolvedTarget } from '../registry/types.js';
import type { EnvironmentKind, PooledEnvironment } from './function-pool.js';
import { ProvisionedAllocator } from './provisioned-allocator.js';
import { checkLookup, checkPut, configNotFound, configOutput, resolveVersion, type ProvisionedConfigOutput } from './provisioned-api.js';
import { Entries, entryUsage, newEntry, type Entry } from './provisioned-entries.js';
import { initFailure, planReconcile, usable } from './provisioned-plan.js';
import type { ProvisionedOptions } from './provisioned-options.js';
import type { ProvisionedRow } from '../registry/store.js';
import type { ProvisionedPort } from './scheduler.js';

export type { ProvisionedConfigOutput } from './provisioned-api.js';

export type { ProvisionedClaims, ProvisionedOptions } from './provisioned-options.js';

/**
 * Provisioned concurrency: environments initialised ahead of traffic with
 * AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, pinned (never reaped or evicted),
 * serving their version first, replaced when they die, moved when an alias is re-pointed.
 * Their capacity is claimed in the ledger from the moment the config is accepted. In a cluster a
 * node keeps only its share of each config's environments (the `share` option).
 */
export class ProvisionedConcurrency implements ProvisionedPort, ProvisionedConcurrencyPort {
  private readonly entries = new Entries();
  private readonly allocator: ProvisionedAllocator;

  constructor(private readonly o: ProvisionedOptions) {
    this.allocator = new ProvisionedAllocator({ environments: o.environments, reaper: o.reaper, metrics: o.metrics, initConcurrency: o.initConcurrency });
    o.metrics.bindProvisioned(() => this.snapshot());
  }

  /** Re-allocates the configs stored before a restart; a config whose version is gone goes too. */
  restore(): void {
    for (const row of this.o.registry.provisionedConfigs()) {
      if (!this.adopt(row)) this.o.registry.deleteProvisionedConfig(row.functionName, row.qualifier);
    }
  }

  /**
   * In a cluster: the configs as the shared registry now holds them, after a write through
   * another node. New and changed configs are allocated (this node's share), deleted ones let go.
   */
  follow(): void {
    const rows = this.o.registry.provisionedConfigs();
    const wanted = new Set(rows.map((r) => `${r.functionName}\u0000${r.qualifier}`));
    for (const entry of this.entries.all()) if (!wanted.has(`${entry.functionName}\u0000${entry.qualifier}`)) this.remove(entry);
    for (const row of rows) if (this.entries.get(row.functionName, row.qualifier)?.requested !== row.requested) this.adopt(row);
  }

  /** Takes a stored config as this node's and allocates it; false when its version is gone. */
  private adopt(row: ProvisionedRow): boolean {
    let version: string;
    try {
      version = this.o.registry.resolvePrimary(row.functionName, row.qualifier).version;
    } catch {
      return false;
    }
    const entry = this.entries.get(row.functionName, row.qualifier) ?? newEntry(row.functionName, row.qualifier, row.requested, row.lastModified, version);
    entry.requested = row.requested;
    entry.lastModified = row.lastModified;
    this.entries.set(entry);
    this.o.ledger.recordProvisioned(row.functionName, this.entries.totalFor(row.functionName));
    this.reconcile(entry);
    return true;
  }

  // ---- API ---------------------------------------------------------------------------------

  putConfig(functionName: string, qualifier: string | undefined, count: unknown): ProvisionedConfigOutput {
    const resolve = (q: string) => resolveVersion(this.o.registry, this.o.partition, functionName, q);
    const { qualifier: q, requested, version } = checkPut(resolve, this.entries.of(functionName), qualifier, count);
    const existing = this.entries.get(functionName, q);
    const total = this.entries.totalFor(functionName) - (existing?.requested ?? 0) + requested;
    const problem = this.o.ledger.setProvisioned(functionName, total);
    if (problem) throw new InvalidParameterValueException(problem);
    const row = this.o.registry.putProvisionedConfig(functionName, q, requested);
    const entry = existing ?? newEntry(functionName, q, requested, row.lastModified, version);
    entry.requested = requested;
    entry.lastModified = row.lastModified;
    this.entries.set(entry);
    this.reconcile(entry);
    return this.output(entry);
  }

  getConfig(functionName: string, qualifier: string | undefined): ProvisionedConfigOutput {
    const entry = this.find(functionName, qualifier);
    if (!entry) throw configNotFound();
    return this.output(entry);
  }

  /** Deleting a config that does not exist succeeds, as in Lambda, once the version or alias exists. */
  deleteConfig(functionName: string, qualifier: string | undefined): void {
    const entry = this.find(functionName, qualifier);
    if (!entry) return;
    this.remove(entry);
    this.o.registry.deleteProvisionedConfig(functionName, entry.qualifier);
  }

  listConfigs(functionName: string): ProvisionedConfigOutput[] {
    this.o.registry.getReservedConcurrency(functionName); // 404 for an unknown function
    return this.entries
      .of(functionName)
      .sort((a, b) => a.qualifier.localeCompare(b.qualifier))
      .map((e) => ({ FunctionArn: functionArn(this.o.partition, e.functionName, e.qualifier), ...this.output(e) }));
  }

  /** The cluster's live nodes changed: each config whose share on this node changed is brought to it. */
  reshare(): void {
    for (const entry of this.entries.all()) {
      if (this.targetOf(entry) !== entry.target) this.reconcile(entry);
    }
  }

  /** An alias moved: its provisioned environments move to the new version. */
  aliasChanged(functionName: string, alias: string): void {
    const entry = this.entries.get(functionName, alias);
    if (entry) this.reconcile(entry);
  }

  /** A version or alias (or, with `$LATEST`, the whole function) was deleted. */
  deleted(functionName: string, qualifier: string): void {
    for (const entry of this.entries.of(functionName)) {
      if (qualifier === '$LATEST' || entry.qualifier === qualifier || entry.version === qualifier) this.remove(entry);
    }
  }

  // ---- ProvisionedConcurrencyPort (autoscaling acts through the same code path) --------------

  put(functionName: string, qualifier: string, requested: number): void {
    this.putConfig(functionName, qualifier, requested);
  }

  delete(functionName: string, qualifier: string): void {
    this.deleteConfig(functionName, qualifier);
  }

  get(functionName: string, qualifier: string): ProvisionedConfigView | undefined {
    const e = this.entries.get(functionName, qualifier);
    return e && { requested: e.requested, allocated: usable(e.members, e.version).length, status: e.status };
  }

  /** This node's usage of the config (in a cluster, autoscaling adds the other nodes'). */
  usage(functionName: string, qualifier: string): ProvisionedUsage | undefined {
    const e = this.entries.get(functionName, qualifier);
    return e && entryUsage(e);
  }

  // ---- ProvisionedPort (the scheduler's) ----------------------------------------------------

  recordInvocation(target: ResolvedTarget, kind: EnvironmentKind): void {
    let covered = false;
    for (const e of this.entries.of(target.functionName)) {
      if (e.version !== target.version) continue;
      covered = true;
      e.invocations++;
    }
    const labels = { function: target.functionName, qualifier: target.qualifier ?? '$LATEST' };
    if (kind === 'provisioned') this.o.metrics.provisionedInvocations.inc(labels);
    else if (covered) this.o.metrics.provisionedSpillover.inc(labels);
  }

  replace(member: PooledEnvironment): void {
    for (const e of this.entries.of(member.pool.functionName)) {
      if (e.members.delete(member)) this.reconcile(e);
    }
  }

  /** Every config's usage on this node. */
  snapshot(): (ProvisionedSnapshot & ProvisionedUsage)[] {
    return this.entries.all().map((e) => ({ functionName: e.functionName, qualifier: e.qualifier, ...entryUsage(e) }));
  }

  // ---- reconcile: the plan, applied --------------------------------------------------------

  /** Brings the entry's environments to its target (`requested`, or this node's share) on the version its qualifier names now. */
  private reconcile(entry: Entry): void {
    const generation = ++entry.generation;
    let target: ResolvedTarget;
    try {
      target = this.o.registry.resolvePrimary(entry.functionName, entry.qualifier);
    } catch {
      this.remove(entry);
      return;
    }
    entry.version = target.version;
    entry.target = this.targetOf(entry);
    const plan = planReconcile(entry.target, target.version, entry.members);
    for (const m of plan.release) this.release(entry, m);
    entry.status = plan.status;
    delete entry.statusReason;
    if (plan.create === 0) {
      for (const m of plan.stale) this.release(entry, m);
      return;
    }
    const { pool, displaced } = this.o.environments.poolFor(target);
    // Environments of a retired pool (the isolation changed) are re-created, once this one is done.
    for (const m of displaced) queueMicrotask(() => this.replace(m));
    const allocation = this.allocator.allocate(pool, target, plan.create);
    if (!allocation.ok) return this.fail(entry, allocation.reason);
    for (const m of allocation.members) entry.members.add(m);
    void allocation.inits.then((results) => {
      // A newer reconcile (or the config's removal) superseded this allocation.
      if (entry.generation !== generation || !this.entries.has(entry)) return this.superseded(entry, allocation.members, results);
      const failure = initFailure(results);
      if (failure !== undefined) {
        for (const m of allocation.members) this.release(entry, m);
        return this.fail(entry, failure);
      }
      this.allocator.ready(allocation.members, results, { function: entry.functionName, qualifier: entry.qualifier });
      if (!this.initializing(entry)) entry.status = 'READY';
      for (const m of plan.stale) this.release(entry, m);
    });
  }

  /**
   * The Inits of an allocation a newer reconcile superseded finished. The newer plan counted the
   * environments it kept (they are still the entry's): those serve once their Init succeeded, and
   * the config is READY when nothing of it still initialises, FAILED when one of them failed.
   * Any other is let go.
   */
  private superseded(entry: Entry, members: readonly PooledEnvironment[], results: readonly InitResult[]): void {
    const counted = this.entries.has(entry) ? members.filter((m) => entry.members.has(m) && m.state === 'initializing') : [];
    const failure = initFailure(counted.map((m) => results[members.indexOf(m)] as InitResult));
    const kept = failure === undefined ? counted : [];
    for (const m of members) if (m.state === 'initializing' && !kept.includes(m)) this.release(entry, m);
    if (failure !== undefined) return this.fail(entry, failure);
    if (kept.length === 0) return;
    this.allocator.ready(kept, kept.map((m) => results[members.indexOf(m)] as InitResult), { function: entry.functionName, qualifier: entry.qualifier });
    if (entry.status === 'IN_PROGRESS' && !this.initializing(entry)) entry.status = 'READY';
  }

  private initializing(entry: Entry): boolean {
    return [...entry.members].some((m) => m.state === 'initializing');
  }

  /** How many environments this node keeps for the entry. */
  private targetOf(entry: Entry): number {
    return this.o.share ? this.o.share(entry.functionName, entry.qualifier, entry.requested) : entry.requested;
  }

  private fail(entry: Entry, reason: string): void {
    entry.status = 'FAILED';
    entry.statusReason = reason;
  }

  /** Takes an environment out of the entry: destroyed now when idle, after its invocation when busy. */
  private release(entry: Entry, member: PooledEnvironment): void {
    entry.members.delete(member);
    this.o.environments.letGo(member);
  }

  private remove(entry: Entry): void {
    entry.generation++;
    for (const m of [...entry.members]) this.release(entry, m);
    this.entries.delete(entry);
    this.o.ledger.recordProvisioned(entry.functionName, this.entries.totalFor(entry.functionName));
  }

  /** The config of a version or alias, after checking that the version or alias exists. */
  private find(functionName: string, qualifier: string | undefined): Entry | undefined {
    const q = checkLookup(qualifier);
    resolveVersion(this.o.registry, this.o.partition, functionName, q);
    return this.entries.get(functionName, q);
  }

  private output(e: Entry): ProvisionedConfigOutput {
    const local = usable(e.members, e.version).length;
    return configOutput(e, this.o.allocated ? this.o.allocated(e.functionName, e.qualifier, local) : local);
  }
}
