import { functionArn, VERSION_RE, type Partition } from '../core/arn.js';
import {
  InvalidParameterValueException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  ResourceNotFoundException,
  ValidationException,
  validationMessage,
} from '../core/errors.js';
import type { ProvisionedConcurrencyPort, ProvisionedConfigView, ProvisionedStatus, ProvisionedUsage } from '../autoscaling/port.js';
import type { ProvisionedSnapshot } from '../metrics/metrics.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import type { ResolvedTarget } from '../registry/types.js';
import type { Ledger } from './admission/ledger.js';
import type { Environments } from './environments.js';
import type { EnvironmentKind, PooledEnvironment } from './function-pool.js';
import { Limiter } from './limiter.js';
import type { Reaper } from './reaper.js';
import { provisionedInitLog } from './record.js';
import type { ProvisionedPort } from './scheduler.js';

/** The API shape of a provisioned concurrency config. */
export interface ProvisionedConfigOutput {
  FunctionArn?: string;
  RequestedProvisionedConcurrentExecutions: number;
  AvailableProvisionedConcurrentExecutions: number;
  AllocatedProvisionedConcurrentExecutions: number;
  Status: ProvisionedStatus;
  StatusReason?: string;
  LastModified: string;
}

interface Entry {
  functionName: string;
  qualifier: string;
  requested: number;
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

export interface ProvisionedOptions {
  /** Creates, readies and lets go of provisioned environments. */
  environments: Environments;
  /** Makes room in the host's memory budget for them. */
  reaper: Reaper;
  registry: Registry;
  ledger: Ledger;
  metrics: Metrics;
  partition: Partition;
  /** Inits run at once across all allocations, so a large request doesn't starve running traffic. */
  initConcurrency: number;
}

/** Configs by function, then qualifier: the invoke path looks at one function's configs only. */
class Entries {
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
}

/**
 * Provisioned concurrency: environments initialised ahead of traffic with
 * AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, pinned (never reaped or evicted),
 * serving their version first, replaced when they die, moved when an alias is re-pointed.
 * Their capacity is claimed in the ledger from the moment the config is accepted.
 */
export class ProvisionedConcurrency implements ProvisionedPort, ProvisionedConcurrencyPort {
  private readonly entries = new Entries();
  private readonly limiter: Limiter;

  constructor(private readonly o: ProvisionedOptions) {
    this.limiter = new Limiter(o.initConcurrency);
    o.metrics.bindProvisioned(() => this.snapshot());
  }

  /** Re-allocates the configs stored before a restart. */
  restore(): void {
    for (const row of this.o.registry.provisionedConfigs()) {
      let version: string;
      try {
        version = this.o.registry.resolvePrimary(row.functionName, row.qualifier).version;
      } catch {
        this.o.registry.deleteProvisionedConfig(row.functionName, row.qualifier);
        continue;
      }
      const entry = this.newEntry(row.functionName, row.qualifier, row.requested, row.lastModified, version);
      this.entries.set(entry);
      this.o.ledger.recordProvisioned(row.functionName, this.totalFor(row.functionName));
      this.reconcile(entry);
    }
  }

  // ---- API ---------------------------------------------------------------------------------

  putConfig(functionName: string, qualifier: string | undefined, requested: unknown): ProvisionedConfigOutput {
    const q = this.requireQualifier(qualifier);
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
      throw new ValidationException(
        validationMessage([
          { field: 'provisionedConcurrentExecutions', value: requested ?? null, constraint: 'Member must have value greater than or equal to 1' },
        ]),
      );
    }
    if (q === '$LATEST') throw unpublished();
    const version = this.resolve(functionName, q);
    if (version === '$LATEST') throw unpublished();
    for (const other of this.entries.of(functionName)) {
      if (other.qualifier !== q && other.version === version) {
        throw new ResourceConflictException(
          VERSION_RE.test(q)
            ? 'Version is pointed by a Provisioned Concurrency alias'
            : "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
        );
      }
    }
    const existing = this.entries.get(functionName, q);
    const total = this.totalFor(functionName) - (existing?.requested ?? 0) + requested;
    const problem = this.o.ledger.setProvisioned(functionName, total);
    if (problem) throw new InvalidParameterValueException(problem);
    const row = this.o.registry.putProvisionedConfig(functionName, q, requested);
    const entry = existing ?? this.newEntry(functionName, q, requested, row.lastModified, version);
    entry.requested = requested;
    entry.lastModified = row.lastModified;
    this.entries.set(entry);
    this.reconcile(entry);
    return this.output(entry);
  }

  getConfig(functionName: string, qualifier: string | undefined): ProvisionedConfigOutput {
    const entry = this.find(functionName, qualifier);
    if (!entry) throw new ProvisionedConcurrencyConfigNotFoundException('No Provisioned Concurrency Config found for this function');
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
    return e && { requested: e.requested, allocated: this.usable(e).length, status: e.status };
  }

  usage(functionName: string, qualifier: string): ProvisionedUsage | undefined {
    const e = this.entries.get(functionName, qualifier);
    if (!e) return undefined;
    const usable = this.usable(e);
    return { allocated: usable.length, inUse: usable.filter((m) => m.state === 'busy').length, invocations: e.invocations };
  }

  // ---- ProvisionedPort (the scheduler's) ----------------------------------------------------------

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

  snapshot(): ProvisionedSnapshot[] {
    return this.entries.all().map((e) => {
      const usable = this.usable(e);
      return { functionName: e.functionName, qualifier: e.qualifier, allocated: usable.length, inUse: usable.filter((m) => m.state === 'busy').length };
    });
  }

  // ---- allocation --------------------------------------------------------------------------

  private newEntry(functionName: string, qualifier: string, requested: number, lastModified: string, version: string): Entry {
    return { functionName, qualifier, requested, lastModified, version, status: 'IN_PROGRESS', members: new Set(), generation: 0, invocations: 0 };
  }

  /** Environments of the entry that finished Init and serve traffic. */
  private usable(e: Entry): PooledEnvironment[] {
    return [...e.members].filter((m) => m.state !== 'initializing' && !m.retiring && m.pool.version === e.version);
  }

  /** Brings the entry's environments to `requested` on the version its qualifier names now. */
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
    const current = [...entry.members].filter((m) => m.pool.version === target.version && !m.retiring);
    const stale = [...entry.members].filter((m) => m.pool.version !== target.version);
    if (current.length > entry.requested) {
      // Shrink: idle ones first; busy ones leave when their invocation ends.
      const surplus = current.sort((a, b) => Number(a.state === 'busy') - Number(b.state === 'busy')).slice(0, current.length - entry.requested);
      for (const m of surplus) this.release(entry, m);
    }
    const missing = entry.requested - Math.min(current.length, entry.requested);
    if (missing === 0) {
      entry.status = 'READY';
      delete entry.statusReason;
      for (const m of stale) this.release(entry, m);
      return;
    }
    entry.status = 'IN_PROGRESS';
    delete entry.statusReason;
    const { pool, displaced } = this.o.environments.poolFor(target);
    // Environments of a retired pool (the isolation changed) are re-created, once this one is done.
    for (const m of displaced) queueMicrotask(() => this.replace(m));
    const fresh: PooledEnvironment[] = [];
    for (let i = 0; i < missing; i++) {
      if (!this.o.reaper.makeRoom(target.configuration.MemorySize)) {
        for (const m of fresh) this.release(entry, m);
        this.fail(entry, `The Laminar host's memory budget cannot fit ${missing} more environments of ${target.configuration.MemorySize} MB.`);
        return;
      }
      const member = this.o.environments.create(pool, target, 'provisioned');
      entry.members.add(member);
      fresh.push(member);
    }
    void Promise.all(fresh.map((m) => this.limiter.run(() => m.env.init()))).then((results) => {
      if (entry.generation !== generation || !this.entries.has(entry)) {
        for (const m of fresh) if (m.state === 'initializing') this.release(entry, m);
        return;
      }
      const failure = results.find((r) => !r.ok);
      if (failure) {
        for (const m of fresh) this.release(entry, m);
        this.fail(entry, `FUNCTION_ERROR_INIT_FAILURE: ${failure.error?.errorType ?? 'Runtime.Unknown'}: ${failure.error?.errorMessage ?? ''}`.trim());
        return;
      }
      for (const [i, m] of fresh.entries()) {
        const r = results[i];
        if (r) {
          this.o.metrics.initDuration.observe({ function: entry.functionName, qualifier: entry.qualifier }, r.initDurationMs / 1000);
          this.o.environments.appendLog(m, provisionedInitLog(m.env.spec.runtime, r.logs, r.initDurationMs));
        }
        this.o.environments.initialised(m);
      }
      entry.status = 'READY';
      for (const m of stale) this.release(entry, m);
    });
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
    this.o.ledger.recordProvisioned(entry.functionName, this.totalFor(entry.functionName));
  }

  private totalFor(functionName: string): number {
    let total = 0;
    for (const e of this.entries.of(functionName)) total += e.requested;
    return total;
  }

  private requireQualifier(qualifier: string | undefined): string {
    if (!qualifier) {
      throw new ValidationException(
        validationMessage([{ field: 'qualifier', value: null, constraint: 'Member must not be null' }]),
      );
    }
    return qualifier;
  }

  /** The config of a version or alias, after checking that the version or alias exists. */
  private find(functionName: string, qualifier: string | undefined): Entry | undefined {
    const q = this.requireQualifier(qualifier);
    if (q === '$LATEST') throw new InvalidParameterValueException('The function resource provided must be an alias or a published version.');
    this.resolve(functionName, q);
    return this.entries.get(functionName, q);
  }

  /**
   * The version `q` names now. These operations report a missing function or alias as
   * `Cannot find alias arn: …` and a missing function or version as `Function not found: …:N`,
   * as Lambda does.
   */
  private resolve(functionName: string, q: string): string {
    try {
      return this.o.registry.resolvePrimary(functionName, q).version;
    } catch (err) {
      if (err instanceof ResourceNotFoundException && !VERSION_RE.test(q)) {
        throw new ResourceNotFoundException(`Cannot find alias arn: ${functionArn(this.o.partition, functionName, q)}`);
      }
      throw err;
    }
  }

  private output(e: Entry): ProvisionedConfigOutput {
    const allocated = this.usable(e).length;
    return {
      RequestedProvisionedConcurrentExecutions: e.requested,
      AvailableProvisionedConcurrentExecutions: allocated,
      AllocatedProvisionedConcurrentExecutions: allocated,
      Status: e.status,
      ...(e.statusReason ? { StatusReason: e.statusReason } : {}),
      LastModified: e.lastModified,
    };
  }
}

/** PutProvisionedConcurrencyConfig on `$LATEST`, or on an alias that points to it. */
function unpublished(): InvalidParameterValueException {
  return new InvalidParameterValueException('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
}
