/**
 * The stored concurrency settings of functions: reserved concurrency per function, provisioned
 * concurrency per version or alias. The scheduler checks the concurrency rules; these only
 * check that the function (and qualifier) exist and persist what was granted.
 */
import { lambdaDate } from './config.js';
import type { RegistryInternals } from './internals.js';
import type { ProvisionedRow } from './store.js';
import type { ResolvedTarget } from './types.js';
import { assertFunctionName } from './validation.js';

export type ConcurrencyContext = Pick<RegistryInternals, 'store' | 'clock' | 'requireFunction'>;

/**
 * Throws ResourceNotFoundException when the function is unknown. `arnQualifier` goes into the
 * message's ARN: PutFunctionConcurrency, for one, names `…:$LATEST` there.
 */
export function assertFunctionExists(r: ConcurrencyContext, name: string, arnQualifier?: string): void {
  assertFunctionName(name);
  r.requireFunction(name, arnQualifier);
}

export function getReservedConcurrency(r: ConcurrencyContext, name: string): number | undefined {
  assertFunctionName(name);
  r.requireFunction(name);
  return r.store.getReservedConcurrency(name);
}

export function setReservedConcurrency(r: ConcurrencyContext, name: string, value: number | undefined): void {
  assertFunctionName(name);
  r.requireFunction(name);
  r.store.setReservedConcurrency(name, value);
}

/**
 * Stores a provisioned concurrency config on a published version or an alias (never $LATEST).
 * `resolvePrimary` refuses an unknown version or alias with Lambda's 404.
 */
export function putProvisionedConfig(
  r: ConcurrencyContext,
  resolvePrimary: (name: string, qualifier: string) => ResolvedTarget,
  name: string,
  qualifier: string,
  requested: number,
): ProvisionedRow {
  assertFunctionName(name);
  r.requireFunction(name, qualifier);
  resolvePrimary(name, qualifier);
  const row: ProvisionedRow = { functionName: name, qualifier, requested, lastModified: lambdaDate(r.clock.now()) };
  r.store.putProvisioned(row);
  return row;
}
