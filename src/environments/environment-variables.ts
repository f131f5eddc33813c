/**
 * The complete `process.env` of a function: its own variables plus what Lambda presets, and
 * nothing from the host (no LAMINAR_* settings, no host secrets).
 */
import { dirname, join } from 'node:path';
import type { EnvironmentSpec } from './environment.js';

/** Obviously fake, so SDK clients find credentials and nobody mistakes them for real ones. */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIALAMINARFAKEKEY00',
  AWS_SECRET_ACCESS_KEY: 'laminar/fake/secret/access/key/0000000000',
  AWS_SESSION_TOKEN: 'laminar-fake-session-token',
} as const;

export interface EnvironmentPaths {
  /** LAMBDA_RUNTIME_DIR: where the runtime bootstrap lives. */
  runtimeDir: string;
  /** The node binary, whose folder goes first on PATH as /var/lang/bin does on Lambda. */
  execPath: string;
}

/**
 * Presets a function may override (LANG, PATH, NODE_PATH, …), then the function's variables,
 * then the reserved ones it may not. TMPDIR is reserved here: it is how os.tmpdir() becomes the
 * environment's own /tmp.
 */
export function buildFunctionEnv(
  spec: EnvironmentSpec,
  paths: EnvironmentPaths,
  /** Reserved variables of one kind of environment (AWS_LAMBDA_RUNTIME_API for a process). */
  extraReserved: Record<string, string> = {},
): Record<string, string> {
  const presets: Record<string, string> = {
    LANG: 'en_US.UTF-8',
    PATH: [dirname(paths.execPath), '/usr/local/bin', '/usr/bin/', '/bin', '/opt/bin'].join(':'),
    LD_LIBRARY_PATH: ['/lib64', '/usr/lib64', join(spec.codeDir, 'lib'), '/opt/lib'].join(':'),
    NODE_PATH: [
      join(spec.codeDir, 'node_modules'),
      join(paths.runtimeDir, 'node_modules'),
      paths.runtimeDir,
      spec.codeDir,
    ].join(':'),
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  };
  const reserved: Record<string, string> = {
    _HANDLER: spec.handler,
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: spec.version,
    AWS_LAMBDA_INITIALIZATION_TYPE: spec.initializationType,
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: spec.logStreamName,
    LAMBDA_TASK_ROOT: spec.codeDir,
    LAMBDA_RUNTIME_DIR: paths.runtimeDir,
    TZ: ':UTC',
    TMPDIR: spec.tmpDir,
    ...FAKE_CREDENTIALS,
    ...extraReserved,
  };
  return { ...presets, ...spec.variables, ...reserved };
}
