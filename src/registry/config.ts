/**
 * Building, updating and presenting FunctionConfiguration objects, and the state fields Lambda
 * moves through (Pending -> Active on create, InProgress -> Successful on update).
 */
import { createHash } from 'node:crypto';
import { functionArn, type Partition } from '../core/arn.js';
import { PreconditionFailedException } from '../core/errors.js';
import { revisionId } from '../core/ids.js';
import type { ConfigFields } from './validation.js';
import type { FunctionConfiguration } from './types.js';

/** Lambda requires Runtime for zip packages; Laminar defaults it for convenience instead. */
export const DEFAULT_RUNTIME = 'nodejs20.x';

/** Lambda's date format: `2019-11-21T19:32:12.000+0000`. */
export function lambdaDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function defaultRole(p: Partition): string {
  return `arn:aws:iam::${p.accountId}:role/laminar-execution`;
}

export function versionNumber(version: string): number {
  return version === '$LATEST' ? 0 : Number(version);
}

function loggingConfig(
  input: ConfigFields['LoggingConfig'],
  current: FunctionConfiguration['LoggingConfig'] | undefined,
  name: string,
): FunctionConfiguration['LoggingConfig'] {
  const format = (input?.LogFormat ?? current?.LogFormat ?? 'Text') as 'Text' | 'JSON';
  const out: FunctionConfiguration['LoggingConfig'] = {
    LogFormat: format,
    LogGroup: input?.LogGroup ?? current?.LogGroup ?? `/aws/lambda/${name}`,
  };
  // Log levels only mean something for JSON logs; Lambda fills in INFO when they are left out.
  if (format === 'JSON') {
    out.ApplicationLogLevel = input?.ApplicationLogLevel ?? current?.ApplicationLogLevel ?? 'INFO';
    out.SystemLogLevel = input?.SystemLogLevel ?? current?.SystemLogLevel ?? 'INFO';
  }
  return out;
}

/** The first $LATEST configuration of a new function, in the Pending state. */
export function newConfiguration(
  name: string,
  input: ConfigFields,
  code: { sha256: string; size: number },
  p: Partition,
  now: number,
): FunctionConfiguration {
  const cfg: FunctionConfiguration = {
    FunctionName: name,
    FunctionArn: functionArn(p, name),
    Runtime: input.Runtime ?? DEFAULT_RUNTIME,
    Role: input.Role ?? defaultRole(p),
    Handler: input.Handler ?? '',
    CodeSize: code.size,
    Description: input.Description ?? '',
    Timeout: input.Timeout ?? 3,
    MemorySize: input.MemorySize ?? 128,
    LastModified: lambdaDate(now),
    CodeSha256: code.sha256,
    Version: '$LATEST',
    TracingConfig: { Mode: (input.TracingConfig?.Mode ?? 'PassThrough') as 'PassThrough' | 'Active' },
    RevisionId: revisionId(),
    State: 'Pending',
    StateReason: 'The function is being created.',
    StateReasonCode: 'Creating',
    LastUpdateStatus: 'InProgress',
    LastUpdateStatusReason: 'The function is being created.',
    LastUpdateStatusReasonCode: 'Creating',
    PackageType: 'Zip',
    Architectures: [(input.Architectures?.[0] ?? 'x86_64') as 'x86_64' | 'arm64'],
    EphemeralStorage: { Size: input.EphemeralStorage?.Size ?? 512 },
    LoggingConfig: loggingConfig(input.LoggingConfig, undefined, name),
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
  };
  if (input.Environment !== undefined) cfg.Environment = { Variables: { ...(input.Environment.Variables ?? {}) } };
  if (input.DeadLetterConfig?.TargetArn) cfg.DeadLetterConfig = { TargetArn: input.DeadLetterConfig.TargetArn };
  return cfg;
}

/** Marks $LATEST as updating: Lambda reports the same reason text for updates as for creation. */
export function markUpdating(cfg: FunctionConfiguration, now: number): FunctionConfiguration {
  return {
    ...cfg,
    LastModified: lambdaDate(now),
    RevisionId: revisionId(),
    LastUpdateStatus: 'InProgress',
    LastUpdateStatusReason: 'The function is being created.',
    LastUpdateStatusReasonCode: 'Creating',
  };
}

/** UpdateFunctionConfiguration: only the fields given change. */
export function applyConfigUpdate(cfg: FunctionConfiguration, input: ConfigFields, now: number): FunctionConfiguration {
  const next: FunctionConfiguration = markUpdating(cfg, now);
  if (input.Runtime !== undefined) next.Runtime = input.Runtime;
  if (input.Role !== undefined) next.Role = input.Role;
  if (input.Handler !== undefined) next.Handler = input.Handler;
  if (input.Description !== undefined) next.Description = input.Description;
  if (input.Timeout !== undefined) next.Timeout = input.Timeout;
  if (input.MemorySize !== undefined) next.MemorySize = input.MemorySize;
  if (input.EphemeralStorage?.Size !== undefined) next.EphemeralStorage = { Size: input.EphemeralStorage.Size };
  if (input.TracingConfig?.Mode !== undefined) next.TracingConfig = { Mode: input.TracingConfig.Mode as 'PassThrough' | 'Active' };
  if (input.LoggingConfig !== undefined) next.LoggingConfig = loggingConfig(input.LoggingConfig, cfg.LoggingConfig, cfg.FunctionName);
  if (input.Environment !== undefined) next.Environment = { Variables: { ...(input.Environment.Variables ?? {}) } };
  // `DeadLetterConfig: {}` leaves the queue as it is (AWS answers with it still set); an empty TargetArn removes it.
  const dlq = input.DeadLetterConfig?.TargetArn;
  if (dlq) next.DeadLetterConfig = { TargetArn: dlq };
  else if (dlq === '') delete next.DeadLetterConfig;
  return next;
}

/**
 * Finishes a create or an update: Active and Successful, reason fields gone. Lambda gives $LATEST
 * a new RevisionId at this point; published versions keep theirs.
 */
export function settled(cfg: FunctionConfiguration, newRevision: boolean): FunctionConfiguration {
  const {
    StateReason: _sr,
    StateReasonCode: _src,
    LastUpdateStatusReason: _lr,
    LastUpdateStatusReasonCode: _lrc,
    ...rest
  } = cfg;
  return { ...rest, State: 'Active', LastUpdateStatus: 'Successful', RevisionId: newRevision ? revisionId() : cfg.RevisionId };
}

export function isSettled(cfg: FunctionConfiguration): boolean {
  return cfg.State !== 'Pending' && cfg.LastUpdateStatus !== 'InProgress';
}

/** A copy for callers, with the ARN in the form the operation reports. */
export function present(cfg: FunctionConfiguration, p: Partition, qualifier?: string): FunctionConfiguration {
  const out = structuredClone(cfg);
  out.FunctionArn = functionArn(p, cfg.FunctionName, qualifier);
  return out;
}

/** Fields that change without the code or configuration changing. */
const VOLATILE = new Set([
  'FunctionArn',
  'LastModified',
  'RevisionId',
  'Version',
  'State',
  'StateReason',
  'StateReasonCode',
  'LastUpdateStatus',
  'LastUpdateStatusReason',
  'LastUpdateStatusReasonCode',
]);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/**
 * What makes two snapshots "the same function" for PublishVersion: code and configuration,
 * not timestamps, revisions or states.
 */
export function fingerprint(cfg: FunctionConfiguration): string {
  const stable = Object.fromEntries(Object.entries(cfg).filter(([k]) => !VOLATILE.has(k)));
  return createHash('sha256').update(JSON.stringify(canonical(stable))).digest('hex');
}

export function assertRevision(given: string | undefined, current: string): void {
  if (given !== undefined && given !== current) {
    throw new PreconditionFailedException(
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
  }
}
