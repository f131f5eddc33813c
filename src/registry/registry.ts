/**
 * The function registry: functions, versions, aliases and layers, their code, and the state machine
 * Lambda runs them through. Everything is persisted under `dataDir`; time comes only from the
 * injected clock.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { functionArn, VERSION_RE, type Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { assertNoViolations, ResourceNotFoundException, ServiceException } from '../core/errors.js';
import * as aliases from './aliases.js';
import * as eventInvokeConfigs from './event-invoke-config.js';
import * as functionUrls from './function-urls.js';
import { CodeStore } from './code-store.js';
import { ensurePrivateDir, openRegistryDatabase, REGISTRY_DB } from './data-dir.js';
import { lambdaDate, present } from './config.js';
import { FunctionOps } from './function-ops.js';
import {
  pendingConflict,
  type RegistryChange,
  type RegistryChangeListener,
  type RegistryInternals,
  type RegistryLimits,
} from './internals.js';
import { LayerOps } from './layers.js';
import { Lifecycle } from './lifecycle.js';
import { decodeMarker, toPage } from './paging.js';
import { pickVersion } from './routing.js';
import * as tags from './tags.js';
import { LATEST_NUM, Store, type FunctionRow, type FunctionUrlRow, type ProvisionedRow, type VersionRow } from './store.js';
export type { FunctionUrlRow, ProvisionedRow } from './store.js';
import type {
  AliasConfiguration,
  CreateAliasInput,
  EventInvokeConfigInput,
  FunctionEventInvokeConfig,
  StoredEventInvokeConfig,
  CreateFunctionInput,
  FunctionConfiguration,
  FunctionUrlConfigInput,
  GetFunctionOutput,
  LayerFilter,
  LayersListItem,
  LayerVersion,
  LayerVersionsListItem,
  Page,
  PublishLayerVersionInput,
  PublishVersionInput,
  ResolvedTarget,
  UpdateAliasInput,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from './types.js';
import { assertFunctionName, pageSize } from './validation.js';

export type { RegistryChange, RegistryChangeListener, RegistryLimits } from './internals.js';

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
}

export class Registry {
  private readonly listeners = new Set<RegistryChangeListener>();
  private readonly lifecycle: Lifecycle;
  private readonly ops: FunctionOps;
  private readonly layers: LayerOps;
  private readonly internals: RegistryInternals;
  private readonly random: () => number;

  private constructor(
    private readonly opts: RegistryOptions,
    private readonly store: Store,
    private readonly code: CodeStore,
  ) {
    this.random = opts.random ?? Math.random;
    this.lifecycle = new Lifecycle(store, code, opts.clock, opts.activationDelayMs ?? 0, (change) => this.emit(change));
    const limits: RegistryLimits = {
      codeSizeZipped: opts.limits?.codeSizeZipped ?? 52_428_800,
      codeSizeUnzipped: opts.limits?.codeSizeUnzipped ?? 262_144_000,
      totalCodeSize: opts.limits?.totalCodeSize ?? 80_530_636_800,
    };
    this.internals = {
      store,
      code,
      clock: opts.clock,
      partition: opts.partition,
      limits,
      arn: (name, qualifier) => functionArn(opts.partition, name, qualifier),
      requireFunction: (name, qualifier) => this.requireFunction(name, qualifier),
      notFound: (name, qualifier) => this.notFound(name, qualifier),
      latest: (name) => this.latest(name),
      scheduleSettle: (name) => this.lifecycle.schedule(name),
      gc: (hashes) => this.lifecycle.gc(hashes),
      emit: (change) => this.emit(change),
      cancelTimer: (name) => this.lifecycle.cancel(name),
      resolveLayers: (arns) => this.layers.resolveForFunction(arns),
    };
    this.ops = new FunctionOps(this.internals);
    this.layers = new LayerOps(this.internals);
  }

  /** Opens (or creates) the registry in `opts.dataDir`, settling anything a restart interrupted. */
  static open(opts: RegistryOptions): Registry {
    ensurePrivateDir(opts.dataDir);
    const store = openRegistryDatabase(path.join(opts.dataDir, REGISTRY_DB), (file) => new Store(file));
    let registry: Registry | undefined;
    try {
      registry = new Registry(opts, store, new CodeStore(path.join(opts.dataDir, 'code')));
      for (const name of store.functionNames()) registry.lifecycle.settle(name);
      registry.lifecycle.sweep();
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

  createFunction(input: CreateFunctionInput): Promise<FunctionConfiguration> {
    return this.ops.create(input);
  }

  getFunction(name: string, qualifier?: string): GetFunctionOutput {
    const { row, arnQualifier, fn } = this.lookup(name, qualifier);
    const out: GetFunctionOutput = {
      Configuration: present(row.config, this.opts.partition, arnQualifier),
      Code: { RepositoryType: 'S3', Location: pathToFileURL(this.code.zipPath(row.codeHash)).href },
    };
    if (fn.tags && Object.keys(fn.tags).length > 0) out.Tags = { ...fn.tags };
    const reserved = this.store.getReservedConcurrency(name);
    if (reserved !== undefined) out.Concurrency = { ReservedConcurrentExecutions: reserved };
    return out;
  }

  /** The stored zip of a code hash (hex), or undefined when no such code is stored. */
  codeArchive(hash: string): string | undefined {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const file = this.code.zipPath(hash);
    return existsSync(file) ? file : undefined;
  }

  /**
   * Throws ResourceNotFoundException when the function is unknown. `arnQualifier` goes into the
   * message's ARN: PutFunctionConcurrency, for one, names `…:$LATEST` there.
   */
  assertFunctionExists(name: string, arnQualifier?: string): void {
    assertFunctionName(name);
    this.requireFunction(name, arnQualifier);
  }

  /** The function's reserved concurrency, or undefined when it has none. Throws when the function is unknown. */
  getReservedConcurrency(name: string): number | undefined {
    assertFunctionName(name);
    this.requireFunction(name);
    return this.store.getReservedConcurrency(name);
  }

  /** Persists (or, with undefined, removes) the reservation. The ledger validates it first. */
  setReservedConcurrency(name: string, value: number | undefined): void {
    assertFunctionName(name);
    this.requireFunction(name);
    this.store.setReservedConcurrency(name, value);
  }

  /** Every reservation, to load the ledger at start. */
  reservedConcurrency(): Map<string, number> {
    return this.store.allReservedConcurrency();
  }

  getFunctionConfiguration(name: string, qualifier?: string): FunctionConfiguration {
    const { row, arnQualifier } = this.lookup(name, qualifier);
    return present(row.config, this.opts.partition, arnQualifier);
  }

  listFunctions(opts: { functionVersion?: 'ALL'; marker?: string; maxItems?: number }): Page<FunctionConfiguration> {
    if (opts.functionVersion !== undefined && opts.functionVersion !== 'ALL') {
      assertNoViolations([
        { field: 'functionVersion', value: opts.functionVersion, constraint: 'Member must satisfy enum value set: [ALL]' },
      ]);
    }
    const limit = pageSize(opts.maxItems);
    const [afterName, afterNum] = decodeMarker(opts.marker) ?? ['', -1];
    const p = this.opts.partition;
    if (opts.functionVersion === 'ALL') {
      const rows = this.store.allVersionsPage(afterName, afterNum, limit + 1);
      return toPage(rows, limit, (r) => [r.functionName, r.num], (r) => present(r.config, p, r.config.Version));
    }
    const rows = this.store.latestPage(afterName, limit + 1);
    return toPage(rows, limit, (r) => [r.functionName, r.num], (r) => present(r.config, p));
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
    assertFunctionName(name);
    const limit = pageSize(opts.maxItems);
    this.requireFunction(name);
    const afterNum = decodeMarker(opts.marker)?.[1] ?? -1;
    const rows = this.store.versionsPage(name, afterNum, limit + 1);
    const p = this.opts.partition;
    return toPage(rows, limit, (r) => [r.functionName, r.num], (r) => present(r.config, p, r.config.Version));
  }

  createAlias(name: string, input: CreateAliasInput): AliasConfiguration {
    return aliases.createAlias(this.internals, name, input);
  }

  getAlias(name: string, alias: string): AliasConfiguration {
    return aliases.getAlias(this.internals, name, alias);
  }

  updateAlias(name: string, alias: string, input: UpdateAliasInput): AliasConfiguration {
    return aliases.updateAlias(this.internals, name, alias, input);
  }

  deleteAlias(name: string, alias: string): void {
    aliases.deleteAlias(this.internals, name, alias);
  }

  listAliases(name: string, opts: { functionVersion?: string; marker?: string; maxItems?: number }): Page<AliasConfiguration> {
    return aliases.listAliases(this.internals, name, opts);
  }

  // ---- function URLs ---------------------------------------------------------------------

  /** CreateFunctionUrlConfig on the function (`qualifier` undefined) or one of its aliases. */
  createFunctionUrlConfig(name: string, qualifier: string | undefined, input: FunctionUrlConfigInput & { AuthType: 'NONE' | 'AWS_IAM' }): FunctionUrlRow {
    return functionUrls.createFunctionUrlConfig(this.internals, name, qualifier, input);
  }

  getFunctionUrlConfig(name: string, qualifier: string | undefined): FunctionUrlRow {
    return functionUrls.getFunctionUrlConfig(this.internals, name, qualifier);
  }

  updateFunctionUrlConfig(name: string, qualifier: string | undefined, input: FunctionUrlConfigInput): FunctionUrlRow {
    return functionUrls.updateFunctionUrlConfig(this.internals, name, qualifier, input);
  }

  deleteFunctionUrlConfig(name: string, qualifier: string | undefined): void {
    functionUrls.deleteFunctionUrlConfig(this.internals, name, qualifier);
  }

  listFunctionUrlConfigs(name: string, opts: { marker?: string; maxItems?: number }): Page<FunctionUrlRow> {
    return functionUrls.listFunctionUrlConfigs(this.internals, name, opts);
  }

  /** The config a request to a function URL names by its id, or undefined for an unknown id. */
  functionUrlById(urlId: string): FunctionUrlRow | undefined {
    return this.store.functionUrlById(urlId);
  }

  /** The function's tags ({} when it has none). */
  listTags(name: string): Record<string, string> {
    return tags.listTags(this.internals, name);
  }

  /** Adds tags to the function, replacing the values of keys it has already. */
  tagResource(name: string, add: Record<string, string>): void {
    tags.tagResource(this.internals, name, add);
  }

  /** Removes the tags with these keys; keys the function does not have are ignored. */
  untagResource(name: string, keys: readonly string[]): void {
    tags.untagResource(this.internals, name, keys);
  }

  // ---- event invoke configs ----------------------------------------------------------------

  /** PutFunctionEventInvokeConfig: replaces the config of $LATEST (no qualifier), a version or an alias. */
  putEventInvokeConfig(name: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    return eventInvokeConfigs.putEventInvokeConfig(this.internals, name, qualifier, input);
  }

  /** UpdateFunctionEventInvokeConfig: changes only the settings given. */
  updateEventInvokeConfig(name: string, qualifier: string | undefined, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    return eventInvokeConfigs.updateEventInvokeConfig(this.internals, name, qualifier, input);
  }

  getEventInvokeConfig(name: string, qualifier: string | undefined): FunctionEventInvokeConfig {
    return eventInvokeConfigs.getEventInvokeConfig(this.internals, name, qualifier);
  }

  deleteEventInvokeConfig(name: string, qualifier: string | undefined): void {
    eventInvokeConfigs.deleteEventInvokeConfig(this.internals, name, qualifier);
  }

  listEventInvokeConfigs(name: string, opts: { marker?: string; maxItems?: number }): Page<FunctionEventInvokeConfig> {
    return eventInvokeConfigs.listEventInvokeConfigs(this.internals, name, opts);
  }

  /**
   * What an Event invocation of `name` and `qualifier` runs under: the config stored for that
   * qualifier ($LATEST's for an unqualified invocation), undefined when there is none. No
   * fallback from an alias or version to $LATEST, as in Lambda.
   */
  eventInvokeConfigFor(name: string, qualifier: string | undefined): StoredEventInvokeConfig | undefined {
    // Read at every attempt of every event: cached until the next registry write.
    const cache = this.asyncCache();
    const key = `${name}\u0000${qualifier ?? ''}`;
    if (!cache.configs.has(key)) cache.configs.set(key, eventInvokeConfigs.eventInvokeConfigFor(this.internals, name, qualifier));
    return cache.configs.get(key);
  }

  /**
   * The function's dead-letter queue (`DeadLetterConfig.TargetArn` of $LATEST), undefined when
   * it has none or no longer exists. A function-level setting that versions share, as Lambda's
   * current documentation has it.
   */
  deadLetterTarget(name: string): string | undefined {
    const cache = this.asyncCache();
    if (!cache.deadLetters.has(name)) {
      const arn = this.store.getVersion(name, LATEST_NUM)?.config.DeadLetterConfig?.TargetArn;
      cache.deadLetters.set(name, arn ? arn : undefined);
    }
    return cache.deadLetters.get(name);
  }

  private asyncSettings: {
    generation: number;
    configs: Map<string, StoredEventInvokeConfig | undefined>;
    deadLetters: Map<string, string | undefined>;
  } = { generation: -1, configs: new Map(), deadLetters: new Map() };

  private asyncCache(): Registry['asyncSettings'] {
    if (this.asyncSettings.generation !== this.store.generation) {
      this.asyncSettings = { generation: this.store.generation, configs: new Map(), deadLetters: new Map() };
    }
    return this.asyncSettings;
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

  /**
   * For invoke: resolves name + qualifier (undefined => $LATEST; a version; an alias with its
   * weights applied using `random`). While an update is InProgress, $LATEST still resolves to
   * the code and configuration from before the update.
   */
  resolve(name: string, qualifier: string | undefined): ResolvedTarget {
    // The hot path of every invoke: resolution is cached until the next registry write, and an
    // alias's weighted pick is drawn on each call from the cached alias.
    if (this.resolveCache.generation !== this.store.generation) this.resolveCache = { generation: this.store.generation, targets: new Map() };
    const isAlias = qualifier !== undefined && qualifier !== '$LATEST' && !VERSION_RE.test(qualifier);
    if (isAlias) {
      const alias = this.cachedAlias(name, qualifier);
      if (alias) {
        const version = pickVersion(alias.FunctionVersion, alias.RoutingConfig, this.random);
        return this.cachedTarget(name, qualifier, () => this.resolveWith(name, qualifier, () => version), version);
      }
    }
    return this.cachedTarget(name, qualifier, () => this.resolveWith(name, qualifier, (a) => a.FunctionVersion));
  }

  private resolveCache: { generation: number; targets: Map<string, ResolvedTarget>; aliases?: Map<string, AliasConfiguration | undefined> } = {
    generation: -1,
    targets: new Map(),
  };

  private cachedAlias(name: string, alias: string): AliasConfiguration | undefined {
    const aliases = (this.resolveCache.aliases ??= new Map());
    const key = `${name}\u0000${alias}`;
    if (!aliases.has(key)) aliases.set(key, this.store.getAlias(name, alias));
    return aliases.get(key);
  }

  /** Only settled, Active functions are cached: Pending and InProgress change without a store write. */
  private cachedTarget(name: string, qualifier: string | undefined, build: () => ResolvedTarget, version?: string): ResolvedTarget {
    const key = `${name}\u0000${qualifier ?? ''}\u0000${version ?? ''}`;
    const hit = this.resolveCache.targets.get(key);
    if (hit) return hit;
    const target = build();
    const fn = this.store.getFunction(name);
    if (!fn?.previous) this.resolveCache.targets.set(key, target);
    return target;
  }

  /** Like resolve(), but an alias resolves to its primary version (no weighted pick). */
  resolvePrimary(name: string, qualifier: string | undefined): ResolvedTarget {
    return this.resolveWith(name, qualifier, (a) => a.FunctionVersion);
  }

  /**
   * Stores a provisioned concurrency config on a published version or an alias (never
   * $LATEST); the caller has checked the concurrency rules.
   */
  putProvisionedConfig(name: string, qualifier: string, requested: number): ProvisionedRow {
    assertFunctionName(name);
    this.requireFunction(name, qualifier);
    this.resolvePrimary(name, qualifier); // 404 for an unknown version or alias
    const row: ProvisionedRow = { functionName: name, qualifier, requested, lastModified: lambdaDate(this.opts.clock.now()) };
    this.store.putProvisioned(row);
    return row;
  }

  deleteProvisionedConfig(name: string, qualifier: string): void {
    this.store.deleteProvisioned(name, qualifier);
  }

  /** Every stored provisioned concurrency config, to allocate them at start. */
  provisionedConfigs(): ProvisionedRow[] {
    return this.store.allProvisioned();
  }

  private resolveWith(name: string, qualifier: string | undefined, pick: (a: AliasConfiguration) => string): ResolvedTarget {
    assertFunctionName(name);
    // An invoke without a qualifier runs $LATEST, and Lambda's not-found message says so.
    const fn = this.requireFunction(name, qualifier ?? '$LATEST');
    const latest = this.latest(name);
    if (latest.config.State === 'Pending') throw pendingConflict();
    let version = qualifier ?? '$LATEST';
    let alias: string | undefined;
    if (qualifier !== undefined && qualifier !== '$LATEST' && !VERSION_RE.test(qualifier)) {
      const a = this.store.getAlias(name, qualifier);
      if (!a) throw this.notFound(name, qualifier);
      alias = qualifier;
      version = pick(a);
    }
    let snapshot: { config: FunctionConfiguration; codeHash: string; layerHashes?: string[] };
    if (version === '$LATEST') {
      snapshot = fn.previous ?? latest;
    } else {
      const row = this.store.getVersion(name, Number(version));
      if (!row) throw this.notFound(name, qualifier);
      snapshot = row;
    }
    const codeDir = this.code.dir(snapshot.codeHash);
    if (!existsSync(codeDir)) throw new ServiceException(`The code of ${this.internals.arn(name, version)} is missing from ${codeDir}.`);
    const layerDirs = (snapshot.layerHashes ?? []).map((hash) => this.code.dir(hash));
    const lost = layerDirs.find((dir) => !existsSync(dir));
    if (lost !== undefined) throw new ServiceException(`A layer of ${this.internals.arn(name, version)} is missing from ${lost}.`);
    const target: ResolvedTarget = {
      functionName: name,
      version,
      configuration: present(snapshot.config, this.opts.partition, version === '$LATEST' ? undefined : version),
      codeDir,
      layerDirs,
      invokedFunctionArn: this.internals.arn(name, qualifier),
    };
    if (qualifier !== undefined) target.qualifier = qualifier;
    if (alias !== undefined) target.alias = alias;
    // Read from the function row that resolution has loaded already: the tag costs invokes nothing more.
    const isolation = tags.isolationOf(fn.tags);
    if (isolation !== undefined) target.isolation = isolation;
    return target;
  }

  /**
   * Called when $LATEST's code or configuration changed (once the update is Successful, i.e.
   * when resolve() starts returning the new snapshot) and for every version deleted.
   */
  onChange(listener: RegistryChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  usage(): { totalCodeSize: number; functionCount: number } {
    return this.store.usage();
  }

  // ---- internals -------------------------------------------------------------------------

  private notFound(name: string, qualifier?: string): ResourceNotFoundException {
    return new ResourceNotFoundException(`Function not found: ${this.internals.arn(name, qualifier)}`);
  }

  private requireFunction(name: string, qualifier?: string): FunctionRow {
    const fn = this.store.getFunction(name);
    if (!fn) throw this.notFound(name, qualifier);
    return fn;
  }

  private latest(name: string): VersionRow {
    const row = this.store.getVersion(name, LATEST_NUM);
    if (!row) throw this.notFound(name);
    return row;
  }


  /** The row a Get* call reports, and the qualifier its ARN carries. */
  private lookup(name: string, qualifier?: string): { fn: FunctionRow; row: VersionRow; arnQualifier?: string } {
    assertFunctionName(name);
    const fn = this.requireFunction(name, qualifier);
    if (qualifier === undefined) return { fn, row: this.latest(name) };
    if (qualifier === '$LATEST') return { fn, row: this.latest(name), arnQualifier: qualifier };
    let version = qualifier;
    if (!VERSION_RE.test(qualifier)) {
      const alias = this.store.getAlias(name, qualifier);
      if (!alias) throw this.notFound(name, qualifier);
      version = alias.FunctionVersion;
      if (version === '$LATEST') return { fn, row: this.latest(name), arnQualifier: qualifier };
    }
    const row = this.store.getVersion(name, Number(version));
    if (!row) throw this.notFound(name, qualifier);
    return { fn, row, arnQualifier: qualifier };
  }

  private emit(change: RegistryChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A failing listener must not undo or block a registry change that is already committed.
      }
    }
  }
}
