/**
 * The Node.js runtime bootstrap that runs inside an environment's worker thread (piscina's
 * `filename`). Loading this module is Lambda's Init: it imports the user's handler. It must never
 * throw while loading (piscina would wait forever for a module that failed), so every failure is
 * kept as data and reported by the `init` task. The default export serves piscina tasks.
 */
import { getHeapStatistics } from 'node:v8';
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import type { BootstrapConfig, LogPortMessage, RuntimeReply, RuntimeTask } from '../node/protocol.js';
import { startNodeRuntime } from '../node/runtime.js';

const config = workerData as BootstrapConfig;

// The log channel, handed over before anything is written (see LogPortMessage). Posting on it
// never keeps the thread alive.
const { port1: logPort, port2: environmentEnd } = new MessageChannel();
logPort.unref();
const handOver: LogPortMessage = { laminarLogPort: environmentEnd };
parentPort?.postMessage(handOver, [environmentEnd]);

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

const droppedCounter = config.logDroppedCounter ? new BigInt64Array(config.logDroppedCounter) : undefined;

/** Log messages posted so far: what a reply's `outputSent` counts. */
let posted = 0;

const runtime = await startNodeRuntime(config, {
  // Streamed as it is written, so output survives a timeout or a dead thread.
  onOutput: (text) => {
    posted++;
    logPort.postMessage(text);
  },
  outputSent: () => posted,
  // Bounded here, at the source: a chatty function's output never crosses to the main thread.
  logBytesPerPhase: config.logBytesPerInvocation,
  onLogDropped: droppedCounter ? (bytes) => Atomics.store(droppedCounter, 0, BigInt(bytes)) : undefined,
  sampleMemoryMb,
  requireFrom: import.meta.url,
});

// Not `async`: piscina awaits the runtime's own promise, without one more promise around it.
export default function handleTask(task: RuntimeTask): Promise<RuntimeReply> {
  return task.kind === 'init' ? runtime.init() : runtime.invoke(task);
}
