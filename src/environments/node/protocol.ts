/**
 * The messages between an environment and Laminar's Node.js runtime, whether the runtime runs in
 * a worker thread (structured clone through piscina) or a child process (frames on a pipe).
 * Everything here is plain data: errors travel as FunctionErrorPayload objects, never as thrown
 * values (piscina drops custom error properties, and a pipe carries no objects at all).
 */
import type { FunctionErrorPayload, InvokeRequest } from '../environment.js';

/** Given to the worker as `workerData`; read once when the bootstrap loads. */
export interface BootstrapConfig {
  /** `_HANDLER`: `index.handler` or `dir/file.a.b`. */
  handler: string;
  /** LAMBDA_TASK_ROOT. */
  codeDir: string;
  functionName: string;
  functionVersion: string;
  /** A string, as Lambda's context.memoryLimitInMB is. */
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  /** The layers' node_modules folders, in NODE_PATH's order, for `import`. */
  layerNodeModules?: string[];
  /** Bytes of output the runtime keeps per Init and per invocation (thread runtime; see LogLimiter). */
  logBytesPerInvocation?: number;
  /**
   * Eight bytes shared with the environment, where the thread runtime keeps the count of bytes
   * dropped in the current phase (a BigInt64): a thread killed mid-invocation cannot say it.
   */
  logDroppedCounter?: SharedArrayBuffer;
}

export interface InitTask {
  kind: 'init';
}

/**
 * An invocation as the worker receives it: the event as JSON text, so the handler parses its own
 * objects; `deadlineMs` is real time. Text rather than the request's Buffer: structured cloning
 * copies a Buffer's whole backing store, which for a small Buffer is Node's shared 8 KB pool,
 * other requests' bytes included.
 */
export interface InvokeTask extends Omit<InvokeRequest, 'payload'> {
  kind: 'invoke';
  payload: string;
}

export type RuntimeTask = InitTask | InvokeTask;

export interface InitReply {
  kind: 'init';
  ok: boolean;
  error?: FunctionErrorPayload;
  /** Log lines written during Init (request id printed as `undefined`). */
  logs: string;
  maxMemoryUsedMb: number;
}

export interface InvokeReply {
  kind: 'invoke';
  ok: boolean;
  /** The handler's result serialized as JSON text (`null` for undefined). */
  result?: string;
  error?: FunctionErrorPayload;
  logs: string;
  /** Handler wall time measured inside the thread. */
  durationMs: number;
  maxMemoryUsedMb: number;
  /**
   * The runtime itself is broken (uncaught exception, unhandled rejection): Lambda's runtime
   * exits after reporting these, so the environment must not be reused.
   */
  fatal?: boolean;
}

export type RuntimeReply = InitReply | InvokeReply;

/**
 * Posted on `parentPort` as output happens, so logs written before a timeout, an out-of-memory
 * kill or process.exit survive the thread. The reply's `logs` stays authoritative when it arrives.
 */
export interface LogMessage {
  laminarLog: true;
  /** null during Init. */
  requestId: string | null;
  text: string;
}

export function isLogMessage(value: unknown): value is LogMessage {
  return typeof value === 'object' && value !== null && (value as { laminarLog?: unknown }).laminarLog === true;
}
