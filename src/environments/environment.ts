/**
 * An execution environment: Init once, then one invocation at a time, then Shutdown. The
 * scheduler decides when environments are created, reused and destroyed; an environment only
 * runs what it is given and reports what happened, including its own death.
 */

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** Where a Node.js function's runtime runs: a worker thread of the server, or a process of its own. */
export type Isolation = 'thread' | 'process';

/** Everything an environment needs, copied out of the registry (never a registry object). */
export interface EnvironmentSpec {
  functionName: string;
  /** `$LATEST` or a version number. */
  version: string;
  runtime: string;
  /** `file.export` or `dir/file.a.b`. */
  handler: string;
  /** Absolute path of the extracted code (LAMBDA_TASK_ROOT). */
  codeDir: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The function's own environment variables (reserved ones are added by the environment). */
  variables: Record<string, string>;
  initializationType: InitializationType;
  region: string;
  accountId: string;
  logGroupName: string;
  logStreamName: string;
  /** A folder that is this environment's /tmp; created by the environment, removed on destroy. */
  tmpDir: string;
  /** The extracted folders of the function's layers, in the order Lambda merges them into /opt. */
  layerDirs: string[];
  /** Size of /tmp (EphemeralStorage) in MB; 512 when absent. Enforced where the environment is sandboxed. */
  ephemeralStorageMb?: number;
  /**
   * How a Node.js function is isolated (its `laminar:isolation` tag, else the server default);
   * thread when absent. Custom runtimes always run as a process.
   */
  isolation?: Isolation;
  /**
   * Bytes of output kept per Init and per invocation; beyond them output is dropped as it
   * arrives and one line says how much (see log-limit.ts). Default 1 MiB.
   */
  logBytesPerInvocation?: number;
}

/** Lambda's function error object, as the Node.js runtime sends it. */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InitResult {
  ok: boolean;
  /** Wall time of Init (thread start, runtime bootstrap, handler import), in ms. */
  initDurationMs: number;
  /** Set when Init failed (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, …). */
  error?: FunctionErrorPayload;
  /** Log lines written during Init, formatted `${ISO}\tundefined\tLEVEL\tmsg` (newline-terminated). */
  logs: string;
}

export interface InvokeRequest {
  requestId: string;
  /** The JSON event as bytes (already validated as JSON by the caller); every kind carries bytes. */
  payload: Buffer;
  invokedFunctionArn: string;
  /** Epoch ms by which the handler must finish (context.getRemainingTimeInMillis). */
  deadlineMs: number;
  /** Decoded JSON text of X-Amz-Client-Context, when given on a sync invoke. */
  clientContext?: string;
  /** JSON text of the Cognito identity, when known. */
  identity?: string;
  traceId?: string;
}

export type InvokeStatus = 'success' | 'error' | 'timeout' | 'crash';

export interface InvokeOutcome {
  status: InvokeStatus;
  /** The result JSON on success, the error object's JSON otherwise, as bytes. */
  payload: Buffer;
  /** errorType of the function error; undefined on success. */
  errorType?: string;
  /** Handler wall time in ms (Init excluded). */
  durationMs: number;
  /** Peak memory the environment used, in MB, measured inside it. */
  maxMemoryUsedMb: number;
  /** App log lines of this invocation, `${ISO}\t${requestId}\tLEVEL\tmsg\n` each. */
  logs: string;
  /**
   * True when the environment cannot be reused (timeout, out of memory, process.exit, fatal
   * runtime error): the scheduler must destroy it.
   */
  environmentDead: boolean;
}

export interface ExecutionEnvironment {
  readonly id: string;
  readonly spec: EnvironmentSpec;
  /** Starts the environment and runs Init. Never rejects: failures come back in InitResult. */
  init(): Promise<InitResult>;
  /** Runs one invocation. Never rejects: every failure is an InvokeOutcome. Only after a successful init. */
  invoke(request: InvokeRequest): Promise<InvokeOutcome>;
  /** Stops the environment and frees its resources (threads, /tmp). Idempotent. */
  destroy(): Promise<void>;
}

/** Builds environments; the scheduler holds one and never constructs environments itself. */
export type EnvironmentFactory = (id: string, spec: EnvironmentSpec) => ExecutionEnvironment;
