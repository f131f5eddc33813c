/** How a worker thread's death (a piscina rejection) reads in Lambda's words. */
import { exitFailure, OUT_OF_MEMORY, type RuntimeFailure } from '../outcomes.js';

export function classifyWorkerFailure(error: unknown): RuntimeFailure {
  const err = error as { code?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(error);
  if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') return OUT_OF_MEMORY;
  const exited = /worker exited with code: (-?\d+)/.exec(message);
  if (exited) return exitFailure(Number(exited[1]));
  return { errorType: 'Runtime.Unknown', detail: `Unknown application error occurred (${message})` };
}
