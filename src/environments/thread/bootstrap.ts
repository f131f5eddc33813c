/**
 * The Node.js runtime bootstrap that runs inside an environment's worker thread (piscina's
 * `filename`). Loading this module is Lambda's Init: it imports the user's handler. It must never
 * throw while loading (piscina would wait forever for a module that failed), so every failure is
 * kept as data and reported by the `init` task. The default export serves piscina tasks.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { FunctionErrorPayload } from '../environment.js';
import { registerLayerModules } from '../layer-modules.js';
import { loadHandler, type UserHandler } from './handler-loader.js';
import { runHandler, type HandlerOutcome } from './invoke-runner.js';
import { LogCapture } from './log-capture.js';
import type { BootstrapConfig, InitReply, InvokeReply, InvokeTask, LogMessage, RuntimeReply, RuntimeTask } from './protocol.js';
import { toErrorPayload, UnhandledPromiseRejection } from './runtime-errors.js';

const config = workerData as BootstrapConfig;

const capture = new LogCapture((text, requestId) => {
  const message: LogMessage = { laminarLog: true, requestId: requestId ?? null, text };
  parentPort?.postMessage(message);
});
capture.install();

// The thread shares the host's PID: a signal to it would take the whole platform down.
const hostKill = process.kill.bind(process);
process.kill = ((pid: number, signal?: string | number) => {
  if (pid === process.pid && signal !== 0) throw new Error('process.kill(process.pid) is not supported in a thread environment');
  return hostKill(pid, signal);
}) as typeof process.kill;

let peakBytes = 0;
/** Per-isolate heap, not rss: rss belongs to the whole host process. */
function sampleMemoryMb(): number {
  const s = getHeapStatistics();
  peakBytes = Math.max(peakBytes, s.total_heap_size + s.external_memory);
  return Math.max(1, Math.ceil(peakBytes / (1024 * 1024)));
}

// Lambda's runtime reports these and then exits; here the main thread retires the environment.
let onFatal: ((error: FunctionErrorPayload) => void) | undefined;
let pendingFatal: FunctionErrorPayload | undefined;
function reportFatal(label: string, error: unknown): void {
  capture.logError(label, error);
  const payload = toErrorPayload(error);
  if (onFatal) onFatal(payload);
  else pendingFatal ??= payload;
}
process.on('uncaughtException', (error) => reportFatal('Uncaught Exception', error));
process.on('unhandledRejection', (reason) => reportFatal('Unhandled Promise Rejection', new UnhandledPromiseRejection(reason)));

let handler: UserHandler | undefined;
let initError: FunctionErrorPayload | undefined;
try {
  registerLayerModules(config.layerNodeModules ?? []);
  handler = await loadHandler(config.codeDir, config.handler, import.meta.url);
} catch (error) {
  // The RIC reports a failed load through its uncaught-exception path, hence the label.
  capture.logError('Uncaught Exception', error);
  initError = toErrorPayload(error);
}

async function init(): Promise<InitReply> {
  // One turn of the event loop lets rejections left behind by module code surface as Init errors.
  await new Promise((resolve) => setImmediate(resolve));
  const error = initError ?? pendingFatal;
  return {
    kind: 'init',
    ok: error === undefined,
    ...(error ? { error } : {}),
    logs: capture.take(),
    maxMemoryUsedMb: sampleMemoryMb(),
  };
}

function serialize(outcome: HandlerOutcome): { result: string } | { error: unknown } {
  if (!outcome.ok) return { error: outcome.error };
  try {
    return { result: JSON.stringify(outcome.result === undefined ? null : outcome.result) };
  } catch {
    return { error: new Error('Unable to stringify response body') };
  }
}

async function invoke(task: InvokeTask): Promise<InvokeReply> {
  capture.requestId = task.requestId;
  if (task.traceId) process.env._X_AMZN_TRACE_ID = task.traceId;
  else delete process.env._X_AMZN_TRACE_ID;
  const started = performance.now();
  sampleMemoryMb();
  const finish = (fields: Pick<InvokeReply, 'ok' | 'result' | 'error' | 'fatal'>): InvokeReply => ({
    kind: 'invoke',
    ...fields,
    durationMs: performance.now() - started,
    maxMemoryUsedMb: sampleMemoryMb(),
    logs: capture.take(),
  });

  const earlier = pendingFatal ?? initError;
  if (earlier || !handler) return finish({ ok: false, error: earlier ?? toErrorPayload(new Error('handler not loaded')), fatal: true });

  const fatal = new Promise<FunctionErrorPayload>((resolve) => (onFatal = resolve));
  const raced = await Promise.race([
    runHandler(handler, task, config).then(serialize),
    fatal.then((error) => ({ fatalError: error })),
  ]);
  onFatal = undefined;
  if ('fatalError' in raced) return finish({ ok: false, error: raced.fatalError, fatal: true });
  if ('result' in raced) return finish({ ok: true, result: raced.result });
  capture.logError('Invoke Error', raced.error);
  return finish({ ok: false, error: toErrorPayload(raced.error) });
}

export default async function handleTask(task: RuntimeTask): Promise<RuntimeReply> {
  return task.kind === 'init' ? init() : invoke(task);
}
