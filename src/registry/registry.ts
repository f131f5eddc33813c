/**
 * The function registry: functions, versions, aliases and layers, their code, and the state machine
 * Lambda runs them through. Everything is persisted under `dataDir`; time comes only from the
 * injected clock. `Registry` is the one entry point: it opens the data dir, wires the modules that
 * own each part, and passes every call to the module that owns it.
 */
import path from 'node:path';
import { functionArn, type Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { CodeStore } from './code-store.js';
import * as concurrency from './concurrency-configs.js';
import { ensurePrivateDir, openRegistryDatabase, REGISTRY_DB } from './data-dir.js';
import { Effects, type RegistryReplication } from './effects.js';
import { FunctionOps } from './function-ops.js';
import * as reads from './function-reads.js';
import { FunctionResources } from './function-resources.js';
import { ChangeFeed, functionLookups, registryLimits, type RegistryChangeListener, type RegistryInternals, type RegistryLimits } from './internals.js';
import { LayerOps } from './layers.js';
import { Lifecycle, type BackgroundWrites } from './lifecycle.js';
import { Resolver } from './resolution.js';
import { Store, type ProvisionedRow } from './store.js';
import type {
  CreateFunctionInput,
  FunctionConfiguration,
  GetFunctionOutput,
  LayerFilter,
  LayersListItem,
  LayerVersion,
  LayerVersionsListItem,
  Page,
  PublishLayerVersionInput,
  PublishVersionInput,
  ResolvedTarget,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from './types.js';

export type { FunctionUrlRow, ProvisionedRow } from './store.js';
export type { RegistryChange, RegistryChangeListener, RegistryLimits } from './internals.js';
export type { RegistryReplication, WriteEffects } from './effects.js';

export interface RegistryOptions {
  /** Everything lives under it: dataDir/registry.db, dataDir/code/... */
  dataDir: string;
  /** The only source of time (LastModified, activation timers). */
  clock: Clock;
  partition: Partition;
  /** For alias weighted routing; default Math.random. */
  random?: () => number;
  /**
   * Delay of Pending->Active and InProgress->Successful. With 0 (the default) the transition
   * happens before the call returns: the response still shows Pending/InProgress, as in Lambda,
   * but the function is usable at once.
   */
  activationDelayMs?: number;
  limits?: Partial<RegistryLimits>;
  /** Opens the SQLite store; a cluster replica passes one that records its writes. */
  openStore?: (file: string) => Store;
  /**
   * Runs the writes the registry starts by itself: settling what a restart interrupted, and the
   * end of an activation delay. Default: at once. A cluster replica passes its `write`, so these
   * writes reach the cluster's log like any other.
   */
  backgroundWrites?: BackgroundWrites;
}

/** The modules of one registry, each owning its part, and the services they share. */
interface Parts {
  internals: RegistryInternals;
  changes: ChangeFeed;
  effects: Effects;
  lifecycle: Lifecycle;
  layers: LayerOps;
}

function wire(opts: RegistryOptions, store: Store, code: CodeStore): Parts {
  const changes = new ChangeFeed();
  const effects = new Effects(changes.emit.bind(changes), (hashes) => lifecycle.gc(hashes));
  const lifecycle = new Lifecycle(store, code, opts.clock, opts.activationDelayMs ?? 0, effects, opts.backgroundWrites);
  const arn = (name: string, qualifier?: string): string => functionArn(opts.partition, name, qualifier);
  const internals: RegistryInternals = {
    store,
    code,
    clock: opts.clock,
    partition: opts.partition,
    limits: registryLimits(opts.limits),
    arn,
    ...functionLookups(store, arn),
    scheduleSettle: (name) => lifecycle.schedule(name),
    gc: effects.gc,
    emit: effects.emit,
    cancelTimer: (name) => lifecycle.cancel(name),
    // Called only once wiring is done: LayerOps is built on these same services.
    resolveLayers: (arns) => layers.resolveForFunction(arns),
  };
  const layers = new LayerOps(internals);
  return { internals, changes, effects, lifecycle, layers };
}

export class Registry extends FunctionResources {
  private readonly store: Store;
  private readonly changes: ChangeFeed;
  private readonly effects: Effects;
  private readonly lifecycle: Lifecycle;
  private readonly layers: LayerOps;
  private readonly ops: FunctionOps;
  private readonly resolver: Resolver;

  private constructor(opts: RegistryOptions, parts: Parts) {
    super(parts.internals);
    this.store = parts.internals.store;
    this.changes = parts.changes;
    this.effects = parts.effects;
    this.lifecycle = parts.lifecycle;
    this.layers = parts.layers;
    this.ops = new FunctionOps(parts.internals);
    this.resolver = new Resolver(parts.internals, opts.random ?? Math.random);
  }

  /** Opens (or creates) the registry in `opts.dataDir`, settling anything a restart interrupted. */
  static open(opts: RegistryOptions): Registry {
    ensurePrivateDir(opts.dataDir);
    const store = openRegistryDatabase(path.join(opts.dataDir, REGISTRY_DB), opts.openStore ?? ((file) => new Store(file)));
    let registry: Registry | undefined;
    try {
      registry = new Registry(opts, wire(opts, store, new CodeStore(path.join(opts.dataDir, 'code'))));
      const lifecycle = registry.lifecycle;
      if (opts.backgroundWrites) opts.backgroundWrites(() => lifecycle.settleAll());
      else lifecycle.settleAll();
      lifecycle.sweep();
      return registry;
    } catch (err) {
      // A refused start leaves no open database or pending timer behind.
      if (registry) registry.close();
      else store.close();
      throw err;
    }
  }

  close(): void {
    if (this.lifecycle.closed) return;
    this.lifecycle.close();
    this.store.close();
  }

  /**
   * Called when $LATEST's code or configuration changed (once the update is Successful, i.e.
   * when resolve() starts returning the new snapshot) and for every version deleted.
   */
  onChange(listener: RegistryChangeListener): () => void {
    return this.changes.subscribe(listener);
  }

  /** What a cluster replica (src/cluster) uses to keep this registry in step with the cluster's log. */
  get replication(): RegistryReplication {
    const lifecycle = this.lifecycle;
    return { effects: this.effects, code: this.internals.code, sweepCode: () => lifecycle.sweep(), followSettling: (name) => lifecycle.follow(name) };
  }

  usage(): { totalCodeSize: number; functionCount: number } {
    return this.store.usage();
  }

  // ---- functions and versions --------------------------------------------------------------

  createFunction(input: CreateFunctionInput): Promise<FunctionConfiguration> {
    return this.ops.create(input);
  }

  getFunction(name: string, qualifier?: string): GetFunctionOutput {
    return reads.getFunction(this.internals, name, qualifier);
  }

  getFunctionConfiguration(name: string, qualifier?: string): FunctionConfiguration {
    return reads.getFunctionConfiguration(this.internals, name, qualifier);
  }

  /** The stored zip of a code hash (hex), or undefined when no such code is stored. */
  codeArchive(hash: string): string | undefined {
    return reads.codeArchive(this.internals, hash);
  }

  listFunctions(opts: { functionVersion?: 'ALL'; marker?: string; maxItems?: number }): Page<FunctionConfiguration> {
    return reads.listFunctions(this.internals, opts);
  }

  updateFunctionCode(name: string, input: UpdateFunctionCodeInput): Promise<FunctionConfiguration> {
    return this.ops.updateCode(name, input);
  }

  updateFunctionConfiguration(name: string, input: UpdateFunctionConfigurationInput): FunctionConfiguration {
    return this.ops.updateConfiguration(name, input);
  }

  deleteFunction(name: string, qualifier?: string): void {
    this.ops.delete(name, qualifier);
  }

  publishVersion(name: string, input: PublishVersionInput): FunctionConfiguration {
    return this.ops.publish(name, input);
  }

  listVersionsByFunction(name: string, opts: { marker?: string; maxItems?: number }): Page<FunctionConfiguration> {
    return reads.listVersionsByFunction(this.internals, name, opts);
  }

  // ---- resolution for invoke -----------------------------------------------------------------

  /**
   * For invoke: resolves name + qualifier (undefined => $LATEST; a version; an alias with its
   * weights applied using `random`). While an update is InProgress, $LATEST still resolves to
   * the code and configuration from before the update.
   */
  resolve(name: string, qualifier: string | undefined): ResolvedTarget {
    return this.resolver.resolve(name, qualifier);
  }

  /** Like resolve(), but an alias resolves to its primary version (no weighted pick). */
  resolvePrimary(name: string, qualifier: string | undefined): ResolvedTarget {
    return this.resolver.resolvePrimary(name, qualifier);
  }

  // ---- concurrency -------------------------------------------------------------------------

  /**
   * Throws ResourceNotFoundException when the function is unknown. `arnQualifier` goes into the
   * message's ARN: PutFunctionConcurrency, for one, names `…:$LATEST` there.
   */
  assertFunctionExists(name: string, arnQualifier?: string): void {
    concurrency.assertFunctionExists(this.internals, name, arnQualifier);
  }

  /** The function's reserved concurrency, or undefined when it has none. Throws when the function is unknown. */
  getReservedConcurrency(name: string): number | undefined {
    return concurrency.getReservedConcurrency(this.internals, name);
  }

  /** Persists (or, with undefined, removes) the reservation. The ledger validates it first. */
  setReservedConcurrency(name: string, value: number | undefined): void {
    concurrency.setReservedConcurrency(this.internals, name, value);
  }

  /** Every reservation, to load the ledger at start. */
  reservedConcurrency(): Map<string, number> {
    return this.store.allReservedConcurrency();
  }

  /**
   * Stores a provisioned concurrency config on a published version or an alias (never
   * $LATEST); the caller has checked the concurrency rules.
   */
  putProvisionedConfig(name: string, qualifier: string, requested: number): ProvisionedRow {
    return concurrency.putProvisionedConfig(this.internals, (n, q) => this.resolver.resolvePrimary(n, q), name, qualifier, requested);
  }

  deleteProvisionedConfig(name: string, qualifier: string): void {
    this.store.deleteProvisioned(name, qualifier);
  }

  /** Every stored provisioned concurrency config, to allocate them at start. */
  provisionedConfigs(): ProvisionedRow[] {
    return this.store.allProvisioned();
  }

  // ---- layers ----------------------------------------------------------------------------

  /** PublishLayerVersion: `name` is the layer's name or unversioned ARN. */
  publishLayerVersion(name: string, input: PublishLayerVersionInput): Promise<LayerVersion> {
    return this.layers.publish(name, input);
  }

  getLayerVersion(name: string, version: number): LayerVersion {
    return this.layers.get(name, version);
  }

  getLayerVersionByArn(arn: string): LayerVersion {
    return this.layers.getByArn(arn);
  }

  listLayerVersions(name: string, filter: LayerFilter): Page<LayerVersionsListItem> {
    return this.layers.listVersions(name, filter);
  }

  listLayers(filter: LayerFilter): Page<LayersListItem> {
    return this.layers.list(filter);
  }

  /** Functions that use the version keep their copy of its content. */
  deleteLayerVersion(name: string, version: number): void {
    this.layers.delete(name, version);
  }
}
