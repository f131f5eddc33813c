/**
 * The complete `process.env` of a function: its own variables plus what Lambda presets, and
 * nothing from the host (no LAMINAR_* settings, no host secrets).
 */
import { dirname, join } from 'node:path';
import type { EnvironmentSpec } from './environment.js';
import { layerBinDirs, layerLibDirs, layerNodeModulesDirs, OPT_DIRS_VARIABLE } from './layer-paths.js';

/** Obviously fake, so SDK clients find credentials and nobody mistakes them for real ones. */
export const FAKE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIALAMINARFAKEKEY00',
  AWS_SECRET_ACCESS_KEY: 'laminar/fake/secret/access/key/0000000000',
  AWS_SESSION_TOKEN: 'laminar-fake-session-token',
} as const;

export interface EnvironmentPaths {
  /** LAMBDA_RUNTIME_DIR: where the runtime bootstrap lives. */
  runtimeDir: string;
  /** The node binary, whose folder goes first on PATH as /var/lang/bin does on Lambda; none for custom runtimes. */
  execPath?: string;
  /**
   * The layers are merged at Lambda's own /opt (a sandbox), so nothing needs to name their
   * folders: the environment holds Lambda's variables only.
   */
  layersAtOpt?: boolean;
}

/** The Node.js major a runtime name stands for (`nodejs22.x`: 22), else the host's. */
export function nodeMajorOf(runtime: string): number {
  const m = /^nodejs(\d+)\.x$/.exec(runtime);
  return Number(m ? m[1] : process.versions.node.split('.')[0]);
}

/**
 * Presets a function may override (LANG, PATH, NODE_PATH, …), then the function's variables,
 * then the reserved ones it may not. TMPDIR is reserved here: it is how os.tmpdir() becomes the
 * environment's own /tmp. The layers' folders stand where Lambda's PATH, LD_LIBRARY_PATH and
 * NODE_PATH name `/opt`: the host's own /opt is not the function's.
 */
export function buildFunctionEnv(
  spec: EnvironmentSpec,
  paths: EnvironmentPaths,
  /** Reserved variables of one kind of environment (AWS_LAMBDA_RUNTIME_API for a process). */
  extraReserved: Record<string, string> = {},
): Record<string, string> {
  const presets: Record<string, string> = {
    LANG: 'en_US.UTF-8',
    PATH: [...(paths.execPath === undefined ? [] : [dirname(paths.execPath)]), '/usr/local/bin', '/usr/bin/', '/bin', ...layerBinDirs(spec.layerDirs)].join(':'),
    LD_LIBRARY_PATH: ['/lib64', '/usr/lib64', join(spec.codeDir, 'lib'), ...layerLibDirs(spec.layerDirs)].join(':'),
    NODE_PATH: [
      join(spec.codeDir, 'node_modules'),
      ...layerNodeModulesDirs(spec.layerDirs, nodeMajorOf(spec.runtime)),
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
    ...(paths.layersAtOpt === true ? {} : { [OPT_DIRS_VARIABLE]: spec.layerDirs.join(':') }),
    ...FAKE_CREDENTIALS,
    ...extraReserved,
  };
  return { ...presets, ...spec.variables, ...reserved };
}
