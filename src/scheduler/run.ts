/**
 * The run step: one invocation on an initialised environment. Every way it can end comes back
 * as an outcome, a rejection of the environment included.
 */
import { wallClock } from '../core/clock.js';
import type { ExecutionEnvironment, InvokeOutcome, InvokeRequest } from '../environments/environment.js';
import type { ResolvedTarget } from '../registry/types.js';

/** Lambda's response limit: 6 MiB plus 100 bytes (what the runtime API really accepts). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

export async function runInvocation(
  env: ExecutionEnvironment,
  target: ResolvedTarget,
  requestId: string,
  payload: Buffer,
  clientContext: string | undefined,
): Promise<InvokeOutcome> {
  const request: InvokeRequest = {
    requestId,
    payload,
    invokedFunctionArn: target.invokedFunctionArn,
    // Real time: the handler's deadline must not follow a test clock.
    deadlineMs: wallClock.now() + target.configuration.Timeout * 1000,
  };
  // Assigned rather than spread: a spread in a literal is a slow path on every invocation.
  if (clientContext !== undefined) request.clientContext = clientContext;
  let outcome: InvokeOutcome;
  try {
    outcome = await env.invoke(request);
  } catch (err) {
    // Environments report failures as outcomes; a rejection is a platform fault, contained here.
    outcome = platformFault(requestId, err);
  }
  return limitResponse(outcome);
}

/** A rejected invoke: the environment is not trusted again. */
export function platformFault(requestId: string, err: unknown): InvokeOutcome {
  return {
    status: 'crash',
    payload: Buffer.from(
      JSON.stringify({ errorType: 'Runtime.Unknown', errorMessage: `RequestId: ${requestId} Error: ${(err as Error).message}` }),
    ),
    errorType: 'Runtime.Unknown',
    durationMs: 0,
    maxMemoryUsedMb: 0,
    logs: '',
    environmentDead: true,
  };
}

/** A successful result over Lambda's response limit is a function error. */
export function limitResponse(outcome: InvokeOutcome): InvokeOutcome {
  if (outcome.status !== 'success' || outcome.payload.length <= MAX_RESPONSE_BYTES) return outcome;
  return {
    ...outcome,
    status: 'error',
    errorType: 'Function.ResponseSizeTooLarge',
    payload: Buffer.from(
      JSON.stringify({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      }),
    ),
  };
}
