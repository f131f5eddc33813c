/**
 * The operations of the registry on what a function carries besides its code and configuration:
 * aliases, tags, function URL configs and event invoke configs, each handed to the module that
 * owns it. `Registry` extends this, so callers reach them on the one registry object.
 */
import * as aliases from './aliases.js';
import { AsyncSettings } from './async-settings.js';
import * as eventInvokeConfigs from './event-invoke-config.js';
import * as functionUrls from './function-urls.js';
import type { RegistryInternals } from './internals.js';
import type { FunctionUrlRow } from './store.js';
import * as tags from './tags.js';
import type {
  AliasConfiguration,
  CreateAliasInput,
  EventInvokeConfigInput,
  FunctionEventInvokeConfig,
  FunctionUrlConfigInput,
  Page,
  StoredEventInvokeConfig,
  UpdateAliasInput,
} from './types.js';

export abstract class FunctionResources {
  private readonly asyncSettings: AsyncSettings;

  protected constructor(protected readonly internals: RegistryInternals) {
    this.asyncSettings = new AsyncSettings(internals);
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
    return this.internals.store.functionUrlById(urlId);
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
    return this.asyncSettings.eventInvokeConfigFor(name, qualifier);
  }

  /**
   * The function's dead-letter queue (`DeadLetterConfig.TargetArn` of $LATEST), undefined when
   * it has none or no longer exists. A function-level setting that versions share, as Lambda's
   * current documentation has it.
   */
  deadLetterTarget(name: string): string | undefined {
    return this.asyncSettings.deadLetterTarget(name);
  }
}
