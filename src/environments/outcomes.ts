/**
 * How the platform reports an invocation the runtime could not answer itself, whatever kind of
 * environment ran it: killed at the deadline, out of memory, exited, or not ready. Wording
 * follows Lambda's own messages.
 */
import type { FunctionErrorPayload, InvokeOutcome } from './environment.js';

/** Why a runtime stopped answering, in Lambda's words. */
export interface RuntimeFailure {
  errorType: 'Runtime.OutOfMemory' | 'Runtime.ExitError' | 'Runtime.Unknown';
  /** The text after `Error: ` in Lambda's message. */
  detail: string;
}

/** A runtime that exited: with a status, or by a signal (an OOM kill is `signal: killed`). */
export function exitFailure(code: number | null, signal: string | null = null): RuntimeFailure {
  if (signal !== null) return { errorType: 'Runtime.ExitError', detail: `Runtime exited with error: signal: ${signalName(signal)}` };
  if (code === 0 || code === null) return { errorType: 'Runtime.ExitError', detail: 'Runtime exited without providing a reason' };
  return { errorType: 'Runtime.ExitError', detail: `Runtime exited with error: exit status ${code}` };
}

/** `SIGKILL` → `killed`, as Go's os.ProcessState (Lambda's own wording) prints it. */
function signalName(signal: string): string {
  const names: Record<string, string> = { SIGKILL: 'killed', SIGTERM: 'terminated', SIGSEGV: 'segmentation fault', SIGABRT: 'aborted' };
  return names[signal] ?? signal;
}

export const OUT_OF_MEMORY: RuntimeFailure = { errorType: 'Runtime.OutOfMemory', detail: 'Runtime exited with error: signal: killed' };

/** `RequestId: <id> Error: <detail>` during an invoke; `Error: <detail>` during Init. */
export function platformError(errorType: string, detail: string, requestId?: string): FunctionErrorPayload {
  const errorMessage = requestId === undefined ? `Error: ${detail}` : `RequestId: ${requestId} Error: ${detail}`;
  return { errorType, errorMessage };
}

/** Init did not finish within its bound. */
export function initTimeoutError(initTimeoutMs: number): FunctionErrorPayload {
  return { errorType: 'Sandbox.Timedout', errorMessage: `Init timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds` };
}

export interface Measured {
  durationMs: number;
  maxMemoryUsedMb: number;
  logs: string;
}

function deadOutcome(status: 'timeout' | 'crash', error: FunctionErrorPayload, m: Measured): InvokeOutcome {
  return {
    status,
    payload: Buffer.from(JSON.stringify(error)),
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

export function crashOutcome(requestId: string, failure: RuntimeFailure, m: Measured): InvokeOutcome {
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
