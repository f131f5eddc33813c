/**
 * Laminar's Node.js runtime, whatever carries its messages: output capture, Init (importing the
 * handler), one invocation at a time, and the fatal errors (uncaught exceptions, unhandled
 * rejections) after which Lambda's runtime exits. The thread bootstrap and the process bootstrap
 * are thin transports around it, so both kinds of environment share one set of semantics.
 */
import { performance } from 'node:perf_hooks';
import type { FunctionErrorPayload } from '../environment.js';
import { registerLayerModules } from '../layer-modules.js';
import { loadHandler, type UserHandler } from './handler-loader.js';
import { runHandler, type HandlerOutcome } from './invoke-runner.js';
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
  let onFatal: ((error: FunctionErrorPayload) => void) | undefined;
  let pendingFatal: FunctionErrorPayload | undefined;
  const reportFatal = (label: string, error: unknown): void => {
    capture.logError(label, error);
    const payload = toErrorPayload(error);
    if (onFatal) onFatal(payload);
    else pendingFatal ??= payload;
  };
  process.on('uncaughtException', (error) => reportFatal('Uncaught Exception', error));
  process.on('unhandledRejection', (reason) => reportFatal('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason)));

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
      maxMemoryUsedMb: options.sampleMemoryMb(),
    };
  }

  async function invoke(task: InvokeTask): Promise<InvokeReply> {
    capture.beginInvocation(task.requestId);
    // A write to process.env reaches the C library's environment: made only when the value changes.
    if (process.env._X_AMZN_TRACE_ID !== task.traceId) {
      if (task.traceId) process.env._X_AMZN_TRACE_ID = task.traceId;
      else delete process.env._X_AMZN_TRACE_ID;
    }
    const started = performance.now();
    // Memory is sampled once, at the end: the peak is what the REPORT line shows, and the start of
    // an invocation is the end of the one before it.
    const finish = (fields: Pick<InvokeReply, 'ok' | 'result' | 'error' | 'fatal'>): InvokeReply => {
      const durationMs = performance.now() - started;
      capture.endPhase();
      return { kind: 'invoke', ...fields, durationMs, maxMemoryUsedMb: options.sampleMemoryMb(), outputSent: options.outputSent() };
    };

    const earlier = pendingFatal ?? initError;
    if (earlier || !handler) return finish({ ok: false, error: earlier ?? toErrorPayload(new Error('handler not loaded')), fatal: true });

    // The fatal-error handlers installed at start end the invocation in flight through `onFatal`.
    const outcome = await new Promise<{ result: string } | { error: unknown } | { fatalError: FunctionErrorPayload }>((resolve) => {
      onFatal = (error) => resolve({ fatalError: error });
      void runHandler(handler as UserHandler, task, config).then((o) => resolve(serialize(o)));
    });
    onFatal = undefined;
    if ('fatalError' in outcome) return finish({ ok: false, error: outcome.fatalError, fatal: true });
    if ('result' in outcome) return finish({ ok: true, result: outcome.result });
    capture.logError('Invoke Error', outcome.error);
    return finish({ ok: false, error: toErrorPayload(outcome.error) });
  }

  return { init, invoke };
}

function serialize(outcome: HandlerOutcome): { result: string } | { error: unknown } {
  if (!outcome.ok) return { error: outcome.error };
  try {
    return { result: JSON.stringify(outcome.result === undefined ? null : outcome.result) };
  } catch {
    return { error: new Error('Unable to stringify response body') };
  }
}
