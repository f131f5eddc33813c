/**
 * The reads of functions and versions: GetFunction, GetFunctionConfiguration, ListFunctions,
 * ListVersionsByFunction, and the stored zip GetFunction's Code.Location points at.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { VERSION_RE } from '../core/arn.js';
import { assertNoViolations } from '../core/errors.js';
import { present } from './config.js';
import type { RegistryInternals } from './internals.js';
import { decodeMarker, toPage } from './paging.js';
import type { FunctionRow, VersionRow } from './store.js';
import type { FunctionConfiguration, GetFunctionOutput, Page } from './types.js';
import { assertFunctionName, pageSize } from './validation.js';

export type FunctionReadContext = Pick<RegistryInternals, 'store' | 'code' | 'partition' | 'requireFunction' | 'latest' | 'notFound'>;

/** The row a Get* call reports, and the qualifier its ARN carries. */
function lookup(r: FunctionReadContext, name: string, qualifier?: string): { fn: FunctionRow; row: VersionRow; arnQualifier?: string } {
  assertFunctionName(name);
  const fn = r.requireFunction(name, qualifier);
  if (qualifier === undefined) return { fn, row: r.latest(name) };
  if (qualifier === '$LATEST') return { fn, row: r.latest(name), arnQualifier: qualifier };
  let version = qualifier;
  if (!VERSION_RE.test(qualifier)) {
    const alias = r.store.getAlias(name, qualifier);
    if (!alias) throw r.notFound(name, qualifier);
    version = alias.FunctionVersion;
    if (version === '$LATEST') return { fn, row: r.latest(name), arnQualifier: qualifier };
  }
  const row = r.store.getVersion(name, Number(version));
  if (!row) throw r.notFound(name, qualifier);
  return { fn, row, arnQualifier: qualifier };
}

export function getFunction(r: FunctionReadContext, name: string, qualifier?: string): GetFunctionOutput {
  const { row, arnQualifier, fn } = lookup(r, name, qualifier);
  const out: GetFunctionOutput = {
    Configuration: present(row.config, r.partition, arnQualifier),
    Code: { RepositoryType: 'S3', Location: pathToFileURL(r.code.zipPath(row.codeHash)).href },
  };
  if (fn.tags && Object.keys(fn.tags).length > 0) out.Tags = { ...fn.tags };
  const reserved = r.store.getReservedConcurrency(name);
  if (reserved !== undefined) out.Concurrency = { ReservedConcurrentExecutions: reserved };
  return out;
}

export function getFunctionConfiguration(r: FunctionReadContext, name: string, qualifier?: string): FunctionConfiguration {
  const { row, arnQualifier } = lookup(r, name, qualifier);
  return present(row.config, r.partition, arnQualifier);
}

/** The stored zip of a code hash (hex), or undefined when no such code is stored. */
export function codeArchive(r: Pick<RegistryInternals, 'code'>, hash: string): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const file = r.code.zipPath(hash);
  return existsSync(file) ? file : undefined;
}

export function listFunctions(
  r: Pick<RegistryInternals, 'store' | 'partition'>,
  opts: { functionVersion?: 'ALL'; marker?: string; maxItems?: number },
): Page<FunctionConfiguration> {
  if (opts.functionVersion !== undefined && opts.functionVersion !== 'ALL') {
    assertNoViolations([
      { field: 'functionVersion', value: opts.functionVersion, constraint: 'Member must satisfy enum value set: [ALL]' },
    ]);
  }
  const limit = pageSize(opts.maxItems);
  const [afterName, afterNum] = decodeMarker(opts.marker) ?? ['', -1];
  const p = r.partition;
  if (opts.functionVersion === 'ALL') {
    const rows = r.store.allVersionsPage(afterName, afterNum, limit + 1);
    return toPage(rows, limit, (row) => [row.functionName, row.num], (row) => present(row.config, p, row.config.Version));
  }
  const rows = r.store.latestPage(afterName, limit + 1);
  return toPage(rows, limit, (row) => [row.functionName, row.num], (row) => present(row.config, p));
}

export function listVersionsByFunction(
  r: Pick<RegistryInternals, 'store' | 'partition' | 'requireFunction'>,
  name: string,
  opts: { marker?: string; maxItems?: number },
): Page<FunctionConfiguration> {
  assertFunctionName(name);
  const limit = pageSize(opts.maxItems);
  r.requireFunction(name);
  const afterNum = decodeMarker(opts.marker)?.[1] ?? -1;
  const rows = r.store.versionsPage(name, afterNum, limit + 1);
  const p = r.partition;
  return toPage(rows, limit, (row) => [row.functionName, row.num], (row) => present(row.config, p, row.config.Version));
}
