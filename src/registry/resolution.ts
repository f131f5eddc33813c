/**
 * Resolution for invoke: a function name and qualifier to the snapshot that runs, with its code
 * and layer folders. This is the hot path of every invoke, so results are cached until the next
 * registry write.
 */
import { existsSync } from 'node:fs';
import { VERSION_RE } from '../core/arn.js';
import { ServiceException } from '../core/errors.js';
import { present } from './config.js';
import { pendingConflict, type RegistryInternals } from './internals.js';
import { pickVersion } from './routing.js';
import { isolationOf } from './tags.js';
import type { AliasConfiguration, FunctionConfiguration, ResolvedTarget } from './types.js';
import { assertFunctionName } from './validation.js';

export type ResolutionContext = Pick<RegistryInternals, 'store' | 'code' | 'partition' | 'arn' | 'requireFunction' | 'latest' | 'notFound'>;

const isAliasName = (qualifier: string | undefined): qualifier is string =>
  qualifier !== undefined && qualifier !== '$LATEST' && !VERSION_RE.test(qualifier);

export class Resolver {
  private cache: { generation: number; targets: Map<string, ResolvedTarget>; aliases?: Map<string, AliasConfiguration | undefined> } = {
    generation: -1,
    targets: new Map(),
  };

  /** `random` makes the weighted pick of an alias with a routing config. */
  constructor(
    private readonly r: ResolutionContext,
    private readonly random: () => number,
  ) {}

  /**
   * Resolves name + qualifier (undefined => $LATEST; a version; an alias with its weights
   * applied using `random`). While an update is InProgress, $LATEST still resolves to the code
   * and configuration from before the update.
   */
  resolve(name: string, qualifier: string | undefined): ResolvedTarget {
    // An alias's weighted pick is drawn on each call from the cached alias.
    if (this.cache.generation !== this.r.store.generation) this.cache = { generation: this.r.store.generation, targets: new Map() };
    if (isAliasName(qualifier)) {
      const alias = this.cachedAlias(name, qualifier);
      if (alias) {
        const version = pickVersion(alias.FunctionVersion, alias.RoutingConfig, this.random);
        return this.cachedTarget(name, qualifier, () => this.resolveWith(name, qualifier, () => version), version);
      }
    }
    return this.cachedTarget(name, qualifier, () => this.resolveWith(name, qualifier, (a) => a.FunctionVersion));
  }

  /** Like resolve(), but an alias resolves to its primary version (no weighted pick). */
  resolvePrimary(name: string, qualifier: string | undefined): ResolvedTarget {
    return this.resolveWith(name, qualifier, (a) => a.FunctionVersion);
  }

  private cachedAlias(name: string, alias: string): AliasConfiguration | undefined {
    const aliases = (this.cache.aliases ??= new Map());
    const key = `${name}\u0000${alias}`;
    if (!aliases.has(key)) aliases.set(key, this.r.store.getAlias(name, alias));
    return aliases.get(key);
  }

  /** Only settled, Active functions are cached: Pending and InProgress change without a store write. */
  private cachedTarget(name: string, qualifier: string | undefined, build: () => ResolvedTarget, version?: string): ResolvedTarget {
    const key = `${name}\u0000${qualifier ?? ''}\u0000${version ?? ''}`;
    const hit = this.cache.targets.get(key);
    if (hit) return hit;
    const target = build();
    const fn = this.r.store.getFunction(name);
    if (!fn?.previous) this.cache.targets.set(key, target);
    return target;
  }

  private resolveWith(name: string, qualifier: string | undefined, pick: (a: AliasConfiguration) => string): ResolvedTarget {
    assertFunctionName(name);
    // An invoke without a qualifier runs $LATEST, and Lambda's not-found message says so.
    const fn = this.r.requireFunction(name, qualifier ?? '$LATEST');
    const latest = this.r.latest(name);
    if (latest.config.State === 'Pending') throw pendingConflict();
    let version = qualifier ?? '$LATEST';
    let alias: string | undefined;
    if (isAliasName(qualifier)) {
      const a = this.r.store.getAlias(name, qualifier);
      if (!a) throw this.r.notFound(name, qualifier);
      alias = qualifier;
      version = pick(a);
    }
    let snapshot: { config: FunctionConfiguration; codeHash: string; layerHashes?: string[] };
    if (version === '$LATEST') {
      snapshot = fn.previous ?? latest;
    } else {
      const row = this.r.store.getVersion(name, Number(version));
      if (!row) throw this.r.notFound(name, qualifier);
      snapshot = row;
    }
    const codeDir = this.r.code.dir(snapshot.codeHash);
    if (!existsSync(codeDir)) throw new ServiceException(`The code of ${this.r.arn(name, version)} is missing from ${codeDir}.`);
    const layerDirs = (snapshot.layerHashes ?? []).map((hash) => this.r.code.dir(hash));
    const lost = layerDirs.find((dir) => !existsSync(dir));
    if (lost !== undefined) throw new ServiceException(`A layer of ${this.r.arn(name, version)} is missing from ${lost}.`);
    const target: ResolvedTarget = {
      functionName: name,
      version,
      configuration: present(snapshot.config, this.r.partition, version === '$LATEST' ? undefined : version),
      codeDir,
      layerDirs,
      invokedFunctionArn: this.r.arn(name, qualifier),
    };
    if (qualifier !== undefined) target.qualifier = qualifier;
    if (alias !== undefined) target.alias = alias;
    // Read from the function row that resolution has loaded already: the tag costs invokes nothing more.
    const isolation = isolationOf(fn.tags);
    if (isolation !== undefined) target.isolation = isolation;
    return target;
  }
}
