/**
 * Laminar's Node.js runtime, whatever carries its messages: output capture, Init (importing the
 * handler), one invocation at a time, and the fatal errors (uncaught exceptions, unhandled
 * rejections) after which Lambda's runtime exits. The thread bootstrap and the process bootstrap
 * are thin transports around it, so both kinds of environment share one set of semantics.
 */
import { performance } from 'node:perf_hooks';
import type { FunctionErrorPayload } from '../environment.js';
import { registerLayerModules } from '../layer-modules.js';
import { peakReadDue } from '../peak-reads.js';
import { loadHandler, type UserHandler } from './handler-loader.js';
import { runHandler, type FatalHook, type FatalOutcome, type HandlerOutcome } from './invoke-runner.js';
import { LogCapture } from './log-capture.js';
import type { BootstrapConfig, InitReply, InvokeReply, InvokeTask } from './protocol.js';
import { toErrorPayload, UnhandledPromiseRejection } from './runtime-errors.js';

export interface NodeRuntimeOptions {
  /** The environment's one log channel: sees every piece of output once, in order. */
  onOutput: (text: string) => void;
  /**
   * How much `onOutput` has sent so far, in the channel's own unit (messages posted, bytes
   * written); every reply carries it as `outputSent`.
   */
  outputSent: () => number;
  /**
   * Bytes of output passed on per Init and per invocation; unbounded when absent, for a runtime
   * whose output the server bounds as it reads it.
   */
  logBytesPerPhase?: number;
  /** Follows the bytes dropped in the current phase beyond `logBytesPerPhase`. */
  onLogDropped?: (bytes: number) => void;
  /** Peak memory of the runtime so far, in MB, as this kind of environment measures it. */
  sampleMemoryMb: () => number;
  /** The file named in a missing module's "Require stack" (the bootstrap's own URL). */
  requireFrom: string;
}

export interface NodeRuntime {
  /** Lambda's Init result, once the handler module has been imported. */
  init(): Promise<InitReply>;
  /** Runs one invocation; never rejects. */
  invoke(task: InvokeTask): Promise<InvokeReply>;
}

/**
 * Installs the output capture and the fatal-error handlers, then imports the handler. Never
 * rejects: a failed import is kept and reported by `init()`.
 */
export async function startNodeRuntime(config: BootstrapConfig, options: NodeRuntimeOptions): Promise<NodeRuntime> {
  const capture = new LogCapture(options.onOutput, { phaseBytes: options.logBytesPerPhase, onDropped: options.onLogDropped });
  capture.install();

  // Lambda's runtime reports these and then exits; here the environment is retired by its owner.
  // One hook for the whole runtime: the invocation in flight sets it while its handler runs.
  const fatal: FatalHook = { run: undefined };
  let pendingFatal: FunctionErrorPayload | undefined;
  const reportFatal = (label: string, error: unknown): void => {
    capture.logError(label, error);
    const payload = toErrorPayload(error);
    if (fatal.run) fatal.run.endFatal(payload);
    else pendingFatal ??= payload;
  };
  process.on('uncaughtException', (error) => reportFatal('Uncaught Exception', error));
  process.on('unhandledRejection', (reason) => reportFatal('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason)));

  let memoryMb = 1;
  let memoryReadAt = Number.NEGATIVE_INFINITY;
  const readMemory = (now: number): number => {
    memoryReadAt = now;
    memoryMb = options.sampleMemoryMb();
    return memoryMb;
  };

  let handler: UserHandler | undefined;
  let initError: FunctionErrorPayload | undefined;
  try {
    // Layer packages for `import` (require finds them through NODE_PATH).
    registerLayerModules(config.layerNodeModules ?? []);
    handler = await loadHandler(config.codeDir, config.handler, options.requireFrom);
  } catch (error) {
    // The RIC reports a failed load through its uncaught-exception path, hence the label.
    capture.logError('Uncaught Exception', error);
    initError = toErrorPayload(error);
  }

  async function init(): Promise<InitReply> {
    // One turn of the event loop lets rejections left behind by module code surface as Init errors.
    await new Promise((resolve) => setImmediate(resolve));
    const error = initError ?? pendingFatal;
    capture.endPhase();
    return {
      kind: 'init',
      ok: error === undefined,
      ...(error ? { error } : {}),
      outputSent: options.outputSent(),
      maxMemoryUsedMb: readMemory(performance.now()),
    };
  }

  // The trace id this runtime last put in process.env, compared instead of process.env itself:
  // reading process.env goes through a C++ interceptor, a cost on every invocation, and writing
  // it reaches the C library's environment. (A handler that rewrites the variable keeps its value
  // until an invocation with another trace id.)
  let traceId = process.env._X_AMZN_TRACE_ID;

  const runOptions = { fatal };

  // Not `async`: the reply follows the handler's outcome with one reaction, without the
  // generator and promise an async function allocates on every invocation.
  function invoke(task: InvokeTask): Promise<InvokeReply> {
    capture.beginInvocation(task.requestId);
    if (traceId !== task.traceId) {
      traceId = task.traceId;
      if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
      else delete process.env._X_AMZN_TRACE_ID;
    }
    const started = performance.now();
    const earlier = pendingFatal ?? initError;
    if (earlier || !handler) return Promise.resolve(reply(started, false, undefined, earlier ?? toErrorPayload(new Error('handler not loaded')), true));
    // The fatal-error handlers installed at start end the invocation in flight through `fatal`.
    return runHandler(handler, task, config, runOptions).then((outcome) => replyTo(started, outcome));
  }

  function replyTo(started: number, outcome: HandlerOutcome | FatalOutcome): InvokeReply {
    if (outcome.ok) {
      let result: string;
      try {
        result = JSON.stringify(outcome.result === undefined ? null : outcome.result);
      } catch {
        return failed(started, new Error('Unable to stringify response body'));
      }
      return reply(started, true, result, undefined, false);
    }
    if ('fatal' in outcome) return reply(started, false, undefined, outcome.fatal, true);
    return failed(started, outcome.error);
  }

  /** A handler's own error: logged as the RIC logs it, and the invocation's error. */
  function failed(started: number, error: unknown): InvokeReply {
    capture.logError('Invoke Error', error);
    return reply(started, false, undefined, toErrorPayload(error), false);
  }

  /**
   * Ends the invocation's phase and builds its reply, its fields stored in one order (replies of
   * one outcome share a hidden class; no spread). Memory is read at the end, when due (see
   * peak-reads.ts): the peak is what the REPORT line shows, and the start of an invocation is the
   * end of the one before it.
   */
  function reply(started: number, ok: boolean, result: string | undefined, error: FunctionErrorPayload | undefined, isFatal: boolean): InvokeReply {
    const now = performance.now();
    const durationMs = now - started;
    capture.endPhase();
    const fresh = peakReadDue(memoryReadAt, now, !ok, durationMs);
    const out: InvokeReply = { kind: 'invoke', ok, durationMs, maxMemoryUsedMb: fresh ? readMemory(now) : memoryMb, outputSent: options.outputSent() };
    if (result !== undefined) out.result = result;
    if (error !== undefined) out.error = error;
    if (isFatal) out.fatal = true;
    return out;
  }

  return { init, invoke };
}
