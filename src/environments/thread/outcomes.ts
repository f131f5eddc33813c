/**
 * How the platform reports an invocation the runtime could not answer itself: the thread was
 * killed at the deadline, ran out of heap, or exited. Wording follows Lambda's own messages.
 */
import type { FunctionErrorPayload, InvokeOutcome } from '../environment.js';

export interface WorkerFailure {
  errorType: 'Runtime.OutOfMemory' | 'Runtime.ExitError' | 'Runtime.Unknown';
  /** The text after `Error: ` in Lambda's message. */
  detail: string;
}

/** Maps a piscina rejection (thread death) to Lambda's error type and message. */
export function classifyWorkerFailure(error: unknown): WorkerFailure {
  const err = error as { code?: unknown; message?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : String(error);
  if (err?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { errorType: 'Runtime.OutOfMemory', detail: 'Runtime exited with error: signal: killed' };
  }
  const exited = /worker exited with code: (-?\d+)/.exec(message);
  if (exited) {
    const code = Number(exited[1]);
    return {
      errorType: 'Runtime.ExitError',
      detail: code === 0 ? 'Runtime exited without providing a reason' : `Runtime exited with error: exit status ${code}`,
    };
  }
  return { errorType: 'Runtime.Unknown', detail: `Unknown application error occurred (${message})` };
}

/** `RequestId: <id> Error: <detail>` during an invoke; `Error: <detail>` during Init. */
export function platformError(errorType: string, detail: string, requestId?: string): FunctionErrorPayload {
  const errorMessage = requestId === undefined ? `Error: ${detail}` : `RequestId: ${requestId} Error: ${detail}`;
  return { errorType, errorMessage };
}

interface Measured {
  durationMs: number;
  maxMemoryUsedMb: number;
  logs: string;
}

function deadOutcome(status: 'timeout' | 'crash', error: FunctionErrorPayload, m: Measured): InvokeOutcome {
  return {
    status,
    payload: JSON.stringify(error),
    errorType: error.errorType,
    durationMs: m.durationMs,
    maxMemoryUsedMb: m.maxMemoryUsedMb,
    logs: m.logs,
    environmentDead: true,
  };
}

export function timeoutOutcome(requestId: string, timeoutSeconds: number, m: Measured): InvokeOutcome {
  return deadOutcome(
    'timeout',
    {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
    },
    m,
  );
}

export function crashOutcome(requestId: string, failure: WorkerFailure, m: Measured): InvokeOutcome {
  return deadOutcome('crash', platformError(failure.errorType, failure.detail, requestId), m);
}

/**
 * An invoke the environment cannot take (not initialised, already dead or destroyed). A busy or
 * initialising environment stays alive: being asked too early is not its fault.
 */
export function unavailableOutcome(requestId: string, state: string): InvokeOutcome {
  const error = platformError('Runtime.Unknown', `Environment is ${state}, not ready for an invocation`, requestId);
  const stillUsable = state === 'busy' || state === 'initializing';
  return { ...deadOutcome('crash', error, { durationMs: 0, maxMemoryUsedMb: 0, logs: '' }), environmentDead: !stillUsable };
}
