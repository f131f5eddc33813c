/**
 * Function URL configs: one on the function itself (it serves `$LATEST`) and one per alias, each
 * with a URL id that is stored once and never changes. The refusals are AWS's, word for word:
 * Create and Update say "Function does not exist" when the function or alias is missing, Get and
 * Delete "The resource you requested does not exist." for anything missing.
 */
import type { Clock } from '../core/clock.js';
import { assertNoViolations, ResourceConflictException, ResourceNotFoundException } from '../core/errors.js';
import { urlId } from '../core/ids.js';
import { decodeMarker, toPage } from './paging.js';
import type { FunctionUrlRow, Store } from './store.js';
import type { FunctionUrlConfigInput, Page, StoredFunctionUrlConfig } from './types.js';
import { assertFunctionName, pageSize } from './validation.js';

/** What the URL config operations need from the registry. */
export interface FunctionUrlContext {
  store: Store;
  clock: Clock;
  arn(name: string, qualifier?: string): string;
}

/** AWS's pattern for the `Qualifier` of the URL config operations: an alias name, never a version or `$LATEST`. */
export const FUNCTION_URL_QUALIFIER_PATTERN = '((?!^\\d+$)^[0-9a-zA-Z-_]+$)';
const QUALIFIER_RE = /^(?!^\d+$)[0-9a-zA-Z-_]+$/;

const NO_RESOURCE = 'The resource you requested does not exist.';
const NO_FUNCTION = 'Function does not exist';

/** The qualifier as the store keys it: '' for the function's own URL. */
const key = (qualifier: string | undefined): string => qualifier ?? '';

/** Checks the qualifier as AWS does, before anything is looked up. */
function checkQualifier(qualifier: string | undefined): void {
  if (qualifier === undefined) return;
  const constraint =
    qualifier.length > 128
      ? 'Member must have length less than or equal to 128'
      : qualifier.length < 1
        ? 'Member must have length greater than or equal to 1'
        : !QUALIFIER_RE.test(qualifier)
          ? `Member must satisfy regular expression pattern: ${FUNCTION_URL_QUALIFIER_PATTERN}`
          : undefined;
  if (constraint !== undefined) assertNoViolations([{ field: 'qualifier', value: qualifier, constraint }]);
}

/** The function, and the alias when one is named, must exist; otherwise `message` is the answer. */
function requireTarget(ctx: FunctionUrlContext, fn: string, qualifier: string | undefined, message: string): void {
  assertFunctionName(fn);
  checkQualifier(qualifier);
  if (!ctx.store.getFunction(fn)) throw new ResourceNotFoundException(message);
  if (qualifier !== undefined && !ctx.store.getAlias(fn, qualifier)) throw new ResourceNotFoundException(message);
}

function requireConfig(ctx: FunctionUrlContext, fn: string, qualifier: string | undefined): FunctionUrlRow {
  const row = ctx.store.getFunctionUrl(fn, key(qualifier));
  if (!row) throw new ResourceNotFoundException(NO_RESOURCE);
  return row;
}

const isoNow = (ctx: FunctionUrlContext): string => new Date(ctx.clock.now()).toISOString();

export function createFunctionUrlConfig(
  ctx: FunctionUrlContext,
  fn: string,
  qualifier: string | undefined,
  input: FunctionUrlConfigInput & { AuthType: StoredFunctionUrlConfig['AuthType'] },
): FunctionUrlRow {
  requireTarget(ctx, fn, qualifier, NO_FUNCTION);
  return ctx.store.tx(() => {
    if (ctx.store.getFunctionUrl(fn, key(qualifier))) {
      throw new ResourceConflictException(
        `Failed to create function url config for [functionArn = ${ctx.arn(fn, qualifier)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      );
    }
    const now = isoNow(ctx);
    const config: StoredFunctionUrlConfig = { AuthType: input.AuthType, CreationTime: now, LastModifiedTime: now };
    if (input.Cors !== undefined) config.Cors = structuredClone(input.Cors);
    if (input.InvokeMode !== undefined) config.InvokeMode = input.InvokeMode;
    // Ids are 32 random characters; a collision is astronomically unlikely, but it would route two
    // configs to one URL, so it is drawn again rather than trusted.
    let id = urlId();
    while (ctx.store.functionUrlById(id)) id = urlId();
    const row: FunctionUrlRow = { functionName: fn, qualifier: key(qualifier), urlId: id, config };
    ctx.store.putFunctionUrl(row);
    return structuredClone(row);
  });
}

export function getFunctionUrlConfig(ctx: FunctionUrlContext, fn: string, qualifier: string | undefined): FunctionUrlRow {
  requireTarget(ctx, fn, qualifier, NO_RESOURCE);
  return requireConfig(ctx, fn, qualifier);
}

/** Settings left out keep their value; `Cors` given replaces the whole CORS configuration. */
export function updateFunctionUrlConfig(
  ctx: FunctionUrlContext,
  fn: string,
  qualifier: string | undefined,
  input: FunctionUrlConfigInput,
): FunctionUrlRow {
  requireTarget(ctx, fn, qualifier, NO_FUNCTION);
  return ctx.store.tx(() => {
    const row = requireConfig(ctx, fn, qualifier);
    const config: StoredFunctionUrlConfig = { ...row.config, LastModifiedTime: isoNow(ctx) };
    if (input.AuthType !== undefined) config.AuthType = input.AuthType;
    if (input.Cors !== undefined) config.Cors = structuredClone(input.Cors);
    if (input.InvokeMode !== undefined) config.InvokeMode = input.InvokeMode;
    const next: FunctionUrlRow = { ...row, config };
    ctx.store.putFunctionUrl(next);
    return structuredClone(next);
  });
}

/** Deletes the config of exactly the function or alias named: the function's own URL leaves its aliases' URLs alone. */
export function deleteFunctionUrlConfig(ctx: FunctionUrlContext, fn: string, qualifier: string | undefined): void {
  requireTarget(ctx, fn, qualifier, NO_RESOURCE);
  ctx.store.tx(() => {
    requireConfig(ctx, fn, qualifier);
    ctx.store.deleteFunctionUrl(fn, key(qualifier));
  });
}

export function listFunctionUrlConfigs(ctx: FunctionUrlContext, fn: string, opts: { marker?: string; maxItems?: number }): Page<FunctionUrlRow> {
  assertFunctionName(fn);
  const limit = pageSize(opts.maxItems);
  if (!ctx.store.getFunction(fn)) throw new ResourceNotFoundException(NO_FUNCTION);
  const after = decodeMarker(opts.marker)?.[0];
  const rows = ctx.store.functionUrlsPage(fn, after, limit + 1);
  return toPage(rows, limit, (r) => [r.qualifier, 0], (r) => r);
}
