/**
 * Alias operations. An alias names a published version (or $LATEST) and optionally routes a
 * share of invokes to one more published version.
 */
import { assertNoViolations, ResourceConflictException, ResourceNotFoundException, type Violation } from '../core/errors.js';
import { revisionId } from '../core/ids.js';
import { assertRevision } from './config.js';
import { decodeMarker, toPage } from './paging.js';
import { normalizeRouting } from './routing.js';
import type { Store } from './store.js';
import type { AliasConfiguration, CreateAliasInput, Page, UpdateAliasInput } from './types.js';
import { aliasNameViolations, assertFunctionName, pageSize } from './validation.js';

import type { RegistryChange } from './internals.js';

/** What alias operations need from the registry. */
export interface AliasContext {
  store: Store;
  arn(name: string, qualifier?: string): string;
  /**
   * Throws ResourceNotFoundException when the function does not exist; the message names the
   * ARN with `qualifier` when one is given.
   */
  requireFunction(name: string, qualifier?: string): void;
  emit(change: RegistryChange): void;
}

function check(violations: Violation[]): void {
  assertNoViolations(violations);
}

function versionExists(ctx: AliasContext, fn: string, version: string): boolean {
  return version === '$LATEST' || ctx.store.getVersion(fn, Number(version)) !== undefined;
}

function requireVersion(ctx: AliasContext, fn: string, version: string): void {
  if (!versionExists(ctx, fn, version)) throw new ResourceNotFoundException(`Function not found: ${ctx.arn(fn, version)}`);
}

/** GetAlias says `Cannot find alias arn: …` for a missing alias, UpdateAlias `Alias not found: …`. */
function requireAlias(ctx: AliasContext, fn: string, name: string, prefix: 'Cannot find alias arn' | 'Alias not found'): AliasConfiguration {
  const alias = ctx.store.getAlias(fn, name);
  if (!alias) throw new ResourceNotFoundException(`${prefix}: ${ctx.arn(fn, name)}`);
  return alias;
}

function routing(ctx: AliasContext, fn: string, input: AliasConfiguration['RoutingConfig'], primary: string) {
  // Only published versions may carry weight, so `$LATEST` does not count as existing here.
  const published = (v: string): boolean => v !== '$LATEST' && versionExists(ctx, fn, v);
  return normalizeRouting(input, primary, published, (v) => ctx.arn(fn, v));
}

/** Alias names in a path (Get, Update, Delete); bodies were checked against registry/shapes.ts. */
function checkNames(fn: string, name: string): void {
  assertFunctionName(fn);
  check(aliasNameViolations(name));
}

export function createAlias(ctx: AliasContext, fn: string, input: CreateAliasInput): AliasConfiguration {
  assertFunctionName(fn);
  // Lambda names the version the alias would point to when the function is missing.
  ctx.requireFunction(fn, input.FunctionVersion);
  requireVersion(ctx, fn, input.FunctionVersion);
  if (ctx.store.getAlias(fn, input.Name)) {
    throw new ResourceConflictException(`Alias already exists: ${ctx.arn(fn, input.Name)}`);
  }
  const alias: AliasConfiguration = {
    AliasArn: ctx.arn(fn, input.Name),
    Name: input.Name,
    FunctionVersion: input.FunctionVersion,
    Description: input.Description ?? '',
    RevisionId: revisionId(),
  };
  const route = routing(ctx, fn, input.RoutingConfig, input.FunctionVersion);
  if (route) alias.RoutingConfig = route;
  ctx.store.putAlias(fn, alias);
  return structuredClone(alias);
}

export function getAlias(ctx: AliasContext, fn: string, name: string): AliasConfiguration {
  checkNames(fn, name);
  ctx.requireFunction(fn);
  return requireAlias(ctx, fn, name, 'Cannot find alias arn');
}

export function updateAlias(ctx: AliasContext, fn: string, name: string, input: UpdateAliasInput): AliasConfiguration {
  checkNames(fn, name);
  ctx.requireFunction(fn);
  const updated = ctx.store.tx(() => {
    const current = requireAlias(ctx, fn, name, 'Alias not found');
    assertRevision(input.RevisionId, current.RevisionId);
    const primary = input.FunctionVersion ?? current.FunctionVersion;
    requireVersion(ctx, fn, primary);
    // Routing left out is kept, but checked again because the primary may have moved onto it.
    const route = routing(ctx, fn, input.RoutingConfig ?? current.RoutingConfig, primary);
    const { RoutingConfig: _old, ...rest } = current;
    const next: AliasConfiguration = {
      ...rest,
      FunctionVersion: primary,
      Description: input.Description ?? current.Description,
      RevisionId: revisionId(),
    };
    if (route) next.RoutingConfig = route;
    ctx.store.putAlias(fn, next);
    return structuredClone(next);
  });
  ctx.emit({ functionName: fn, version: name, kind: 'alias-updated' });
  return updated;
}

/** Deleting an alias that does not exist succeeds, as in Lambda; the function must exist. */
export function deleteAlias(ctx: AliasContext, fn: string, name: string): void {
  checkNames(fn, name);
  ctx.requireFunction(fn);
  if (!ctx.store.getAlias(fn, name)) return;
  ctx.store.tx(() => {
    ctx.store.deleteAlias(fn, name);
    ctx.store.deleteProvisioned(fn, name);
    ctx.store.deleteEventInvokeConfig(fn, name);
    // The alias's function URL goes with it, as in Lambda: its address then answers 403.
    ctx.store.deleteFunctionUrl(fn, name);
  });
  ctx.emit({ functionName: fn, version: name, kind: 'alias-deleted' });
}

export function listAliases(
  ctx: AliasContext,
  fn: string,
  opts: { functionVersion?: string; marker?: string; maxItems?: number },
): Page<AliasConfiguration> {
  assertFunctionName(fn);
  const limit = pageSize(opts.maxItems);
  ctx.requireFunction(fn);
  const after = decodeMarker(opts.marker)?.[0] ?? '';
  const rows = ctx.store.aliasesPage(fn, opts.functionVersion, after, limit + 1);
  return toPage(rows, limit, (a) => [a.Name, 0], (a) => a);
}
