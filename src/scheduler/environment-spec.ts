/**
 * What an environment of a resolved target is made of, and which configuration fields make
 * existing environments stale. Pure: ids, times and the stream suffix come from the caller.
 */
import { join } from 'node:path';
import type { Partition } from '../core/arn.js';
import type { EnvironmentSpec, Isolation } from '../environments/environment.js';
import type { ResolvedTarget } from '../registry/types.js';
import type { EnvironmentKind } from './function-pool.js';

/** Server settings every environment spec carries. */
export interface SpecSettings {
  partition: Partition;
  /** Parent of every environment's /tmp folder. */
  tmpRoot: string;
  /** Isolation of Node.js functions without a `laminar:isolation` tag (default thread). */
  isolation?: Isolation | undefined;
  /** Bytes of a function's output each environment keeps per Init and per invocation. */
  logBytesPerInvocation?: number | undefined;
}

export function environmentSpec(
  target: ResolvedTarget,
  kind: EnvironmentKind,
  id: string,
  now: number,
  streamSuffix: string,
  s: SpecSettings,
): EnvironmentSpec {
  const cfg = target.configuration;
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    functionName: target.functionName,
    version: target.version,
    runtime: cfg.Runtime,
    handler: cfg.Handler,
    codeDir: target.codeDir,
    memoryMb: cfg.MemorySize,
    timeoutSeconds: cfg.Timeout,
    variables: { ...(cfg.Environment?.Variables ?? {}) },
    initializationType: kind === 'provisioned' ? 'provisioned-concurrency' : 'on-demand',
    region: s.partition.region,
    accountId: s.partition.accountId,
    logGroupName: cfg.LoggingConfig.LogGroup,
    logStreamName: `${day}/[${target.version}]${streamSuffix}`,
    tmpDir: join(s.tmpRoot, id),
    layerDirs: target.layerDirs,
    ephemeralStorageMb: cfg.EphemeralStorage.Size,
    isolation: target.isolation ?? s.isolation ?? 'thread',
    ...(s.logBytesPerInvocation !== undefined ? { logBytesPerInvocation: s.logBytesPerInvocation } : {}),
  };
}

const stamps = new WeakMap<ResolvedTarget, string>();

/** The fields that, when changed, make existing environments stale (memoized: targets are cached by the registry). */
export function configStamp(t: ResolvedTarget): string {
  let stamp = stamps.get(t);
  if (stamp === undefined) {
    const c = t.configuration;
    // The isolation tag too: environments of the old kind must not keep serving after it changes.
    stamp = JSON.stringify([c.CodeSha256, c.Handler, c.Runtime, c.MemorySize, c.Timeout, c.Environment?.Variables ?? {}, t.codeDir, t.isolation ?? null]);
    stamps.set(t, stamp);
  }
  return stamp;
}
