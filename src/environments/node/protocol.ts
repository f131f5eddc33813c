/**
 * The messages between an environment and Laminar's Node.js runtime, whether the runtime runs in
 * a worker thread (structured clone through piscina) or a child process (frames on a pipe).
 * Everything here is plain data: errors travel as FunctionErrorPayload objects, never as thrown
 * values (piscina drops custom error properties, and a pipe carries no objects at all).
 */
import { MessagePort } from 'node:worker_threads';
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

/**
 * Output travels on the environment's log channel, never in a reply: a thread's log port (see
 * LogPortMessage), a process's stdout. A reply may overtake it (a thread's comes back on
 * piscina's port, a process's on its own pipe), so each says how much the runtime had sent by
 * then, in the channel's unit: messages posted by a thread, bytes written to a process's stdout,
 * both counted from the runtime's start. The environment ends the phase once it has received
 * that much; what the runtime writes after a reply waits for the next invocation (LogCapture),
 * so the count is exactly where the phase ends.
 */
export interface ChannelMark {
  outputSent: number;
}

export interface InitReply extends ChannelMark {
  kind: 'init';
  ok: boolean;
  error?: FunctionErrorPayload;
  maxMemoryUsedMb: number;
}

export interface InvokeReply extends ChannelMark {
  kind: 'invoke';
  ok: boolean;
  /** The handler's result serialized as JSON text (`null` for undefined). */
  result?: string;
  error?: FunctionErrorPayload;
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
 * Hands a thread's log channel to its environment: posted once on `parentPort` before anything
 * else, carrying a port of a channel of its own. The thread then posts each piece of output on
 * it as a string as it is written, so output written before a timeout, an out-of-memory kill or
 * process.exit survives the thread; and its environment, holding a reply, can take the messages
 * the reply counts at once from that port (`receiveMessageOnPort`), which `parentPort` offers no
 * way to do.
 */
export interface LogPortMessage {
  laminarLogPort: MessagePort;
}

export function isLogPortMessage(value: unknown): value is LogPortMessage {
  return typeof value === 'object' && value !== null && (value as { laminarLogPort?: unknown }).laminarLogPort instanceof MessagePort;
}
