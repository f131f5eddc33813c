/**
 * Event invoke configs: how Lambda handles a function's asynchronous invocations (retries,
 * maximum event age, destinations), per function ($LATEST), version or alias. Put replaces a
 * config, Update changes only what it is given, and the checks and messages are AWS's, in AWS's
 * order: "nothing to set" before "no such function", the function before its destinations.
 */
import { VERSION_RE } from '../core/arn.js';
import { InvalidParameterValueException, ResourceNotFoundException } from '../core/errors.js';
import { checkDestinationConfig } from './destinations.js';
import type { RegistryInternals } from './internals.js';
import type { EventInvokeConfigRow } from './store.js';
import type { DestinationConfig, EventInvokeConfigInput, FunctionEventInvokeConfig, OnDestination, Page, StoredEventInvokeConfig } from './types.js';
import { assertFunctionName } from './validation.js';

export type EventInvokeConfigContext = Pick<RegistryInternals, 'store' | 'clock' | 'partition' | 'arn'>;

const LATEST = '$LATEST';
/** ListFunctionEventInvokeConfigs pages hold at most 50 configs. */
const MAX_PAGE = 50;

const noSuchFunction = () => new ResourceNotFoundException("The function doesn't exist.");
const noConfig = (ctx: EventInvokeConfigContext, name: string, qualifier: string) =>
  new ResourceNotFoundException(`The function ${ctx.arn(name, qualifier)} doesn't have an EventInvokeConfig`);

function assertSomething(input: EventInvokeConfigInput): void {
  if (input.MaximumRetryAttempts === undefined && input.MaximumEventAgeInSeconds === undefined && input.DestinationConfig === undefined) {
    throw new InvalidParameterValueException('You must specify at least one of error handling or destination setting.');
  }
}

/** Whether the function has this qualifier: `$LATEST`, a version it has, or one of its aliases. */
function qualifierExists(ctx: EventInvokeConfigContext, name: string, qualifier: string): boolean {
  if (qualifier === LATEST) return true;
  if (VERSION_RE.test(qualifier)) return ctx.store.getVersion(name, Number(qualifier)) !== undefined;
  return ctx.store.getAlias(name, qualifier) !== undefined;
}

/** The function and qualifier a Put or Update writes to; AWS answers one message for either missing. */
function target(ctx: EventInvokeConfigContext, name: string, qualifier: string | undefined): string {
  assertFunctionName(name);
  const q = qualifier ?? LATEST;
  if (!ctx.store.getFunction(name) || !qualifierExists(ctx, name, q)) throw noSuchFunction();
  return q;
}

const side = (s: OnDestination | undefined): OnDestination => (s?.Destination ? { Destination: s.Destination } : {});

function present(ctx: EventInvokeConfigContext, row: EventInvokeConfigRow): FunctionEventInvokeConfig {
  const c = row.config;
  return {
    FunctionArn: ctx.arn(row.functionName, row.qualifier),
    LastModified: row.lastModified / 1000,
    ...(c.MaximumRetryAttempts !== undefined ? { MaximumRetryAttempts: c.MaximumRetryAttempts } : {}),
    ...(c.MaximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: c.MaximumEventAgeInSeconds } : {}),
    DestinationConfig: { OnSuccess: { ...c.DestinationConfig.OnSuccess }, OnFailure: { ...c.DestinationConfig.OnFailure } },
  };
}

function checkDestinations(ctx: EventInvokeConfigContext, name: string, input: EventInvokeConfigInput): void {
  checkDestinationConfig(input.DestinationConfig, name, ctx.partition, (fn) => ctx.store.getFunction(fn) !== undefined);
}

/** PutFunctionEventInvokeConfig: the config becomes exactly what is given; settings left out are Lambda's defaults. */
export function putEventInvokeConfig(
  ctx: EventInvokeConfigContext,
  name: string,
  qualifier: string | undefined,
  input: EventInvokeConfigInput,
): FunctionEventInvokeConfig {
  assertSomething(input);
  const q = target(ctx, name, qualifier);
  checkDestinations(ctx, name, input);
  const config: StoredEventInvokeConfig = {
    ...(input.MaximumRetryAttempts !== undefined ? { MaximumRetryAttempts: input.MaximumRetryAttempts } : {}),
    ...(input.MaximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: input.MaximumEventAgeInSeconds } : {}),
    DestinationConfig: { OnSuccess: side(input.DestinationConfig?.OnSuccess), OnFailure: side(input.DestinationConfig?.OnFailure) },
  };
  const row: EventInvokeConfigRow = { functionName: name, qualifier: q, config, lastModified: ctx.clock.now() };
  ctx.store.putEventInvokeConfig(row);
  return present(ctx, row);
}

/**
 * UpdateFunctionEventInvokeConfig: changes only the settings given. `OnSuccess` and `OnFailure`
 * are each settings of their own: giving one leaves the other as it was, and giving one without
 * a `Destination` removes that destination.
 */
export function updateEventInvokeConfig(
  ctx: EventInvokeConfigContext,
  name: string,
  qualifier: string | undefined,
  input: EventInvokeConfigInput,
): FunctionEventInvokeConfig {
  assertSomething(input);
  const q = target(ctx, name, qualifier);
  const current = ctx.store.getEventInvokeConfig(name, q);
  if (!current) throw noConfig(ctx, name, q);
  checkDestinations(ctx, name, input);
  const given = input.DestinationConfig;
  const destinations: DestinationConfig = {
    OnSuccess: given?.OnSuccess !== undefined ? side(given.OnSuccess) : current.config.DestinationConfig.OnSuccess,
    OnFailure: given?.OnFailure !== undefined ? side(given.OnFailure) : current.config.DestinationConfig.OnFailure,
  };
  const config: StoredEventInvokeConfig = { ...current.config, DestinationConfig: destinations };
  if (input.MaximumRetryAttempts !== undefined) config.MaximumRetryAttempts = input.MaximumRetryAttempts;
  if (input.MaximumEventAgeInSeconds !== undefined) config.MaximumEventAgeInSeconds = input.MaximumEventAgeInSeconds;
  const row: EventInvokeConfigRow = { functionName: name, qualifier: q, config, lastModified: ctx.clock.now() };
  ctx.store.putEventInvokeConfig(row);
  return present(ctx, row);
}

/** A missing function, qualifier or config all answer "doesn't have an EventInvokeConfig", as in Lambda. */
export function getEventInvokeConfig(ctx: EventInvokeConfigContext, name: string, qualifier: string | undefined): FunctionEventInvokeConfig {
  assertFunctionName(name);
  const q = qualifier ?? LATEST;
  const row = ctx.store.getEventInvokeConfig(name, q);
  if (!row) throw noConfig(ctx, name, q);
  return present(ctx, row);
}

export function deleteEventInvokeConfig(ctx: EventInvokeConfigContext, name: string, qualifier: string | undefined): void {
  assertFunctionName(name);
  const q = qualifier ?? LATEST;
  if (!ctx.store.deleteEventInvokeConfig(name, q)) throw noConfig(ctx, name, q);
}

/** Sort key: $LATEST, then versions by number, then aliases by name. */
function order(qualifier: string): [number, number, string] {
  if (qualifier === LATEST) return [0, 0, ''];
  if (VERSION_RE.test(qualifier)) return [1, Number(qualifier), ''];
  return [2, 0, qualifier];
}

function compare(a: string, b: string): number {
  const [x, y] = [order(a), order(b)];
  return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
}

/** ListFunctionEventInvokeConfigs: the marker is the qualifier of the last config of the previous page. */
export function listEventInvokeConfigs(
  ctx: EventInvokeConfigContext,
  name: string,
  opts: { marker?: string; maxItems?: number },
): Page<FunctionEventInvokeConfig> {
  assertFunctionName(name);
  if (!ctx.store.getFunction(name)) throw noSuchFunction();
  const limit = Math.min(opts.maxItems ?? MAX_PAGE, MAX_PAGE);
  const after = opts.marker ? decodeQualifier(opts.marker) : undefined;
  const rows = ctx.store
    .eventInvokeConfigsOf(name)
    .sort((a, b) => compare(a.qualifier, b.qualifier))
    .filter((r) => after === undefined || compare(r.qualifier, after) > 0);
  const items = rows.slice(0, limit);
  const page: Page<FunctionEventInvokeConfig> = { items: items.map((r) => present(ctx, r)) };
  const last = items[items.length - 1];
  if (rows.length > limit && last) page.nextMarker = Buffer.from(last.qualifier, 'utf8').toString('base64url');
  return page;
}

function decodeQualifier(marker: string): string {
  const q = Buffer.from(marker, 'base64url').toString('utf8');
  if (q === '' || !/^[a-zA-Z0-9$_-]+$/.test(q)) throw new InvalidParameterValueException(`Invalid pagination marker: ${marker}`);
  return q;
}

/** The config an Event invocation of `qualifier` (undefined: the unqualified function, i.e. $LATEST) runs under, if any. */
export function eventInvokeConfigFor(ctx: EventInvokeConfigContext, name: string, qualifier: string | undefined): StoredEventInvokeConfig | undefined {
  return ctx.store.getEventInvokeConfig(name, qualifier ?? LATEST)?.config;
}
