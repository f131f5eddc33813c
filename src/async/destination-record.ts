/**
 * The invocation record Lambda sends to a destination when an Event invocation succeeds or is
 * given up on: a pure function of the event, its counters, the last attempt and the time.
 *
 * - `requestContext.functionArn` is the function qualified as the event named it: `:$LATEST` for
 *   an unqualified invocation, the version or alias otherwise; `responseContext.executedVersion`
 *   says which version ran.
 * - `approximateInvokeCount` counts the attempts that reached the function (throttles and
 *   platform errors are not invocations).
 * - `responseContext` and `responsePayload` describe the last attempt that reached the function:
 *   the return value on success, the error object on failure. An event that never ran (expired
 *   while throttled, reservation 0) has neither, and a count of 0.
 */
import type { AttemptRecord } from './queue.js';

/** `requestContext.condition`. */
export type RecordCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export interface InvocationRecord {
  version: '1.0';
  /** ISO 8601, when the record was made. */
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: RecordCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  responseContext?: {
    statusCode: number;
    executedVersion: string;
    /** Only on failure: `Unhandled`. */
    functionError?: string;
  };
  responsePayload?: unknown;
}

export interface RecordInput {
  condition: RecordCondition;
  requestId: string;
  /** The function ARN qualified as the event named it (see above). */
  functionArn: string;
  /** The event as accepted. */
  payload: Buffer;
  /** Attempts that reached the function, this one included. */
  invocations: number;
  /** The last attempt, if any; only one that reached the function adds the response parts. */
  lastAttempt?: AttemptRecord;
  now: number;
}

/** JSON bytes as a value; bytes that are not JSON (never an accepted event) stay text, and none is null. */
export function jsonValue(bytes: Buffer | undefined): unknown {
  if (bytes === undefined || bytes.length === 0) return null;
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function invocationRecord(input: RecordInput): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invocations,
    },
    requestPayload: jsonValue(input.payload),
  };
  const a = input.lastAttempt;
  // Only an attempt that reached the function knows its version and has a response to report.
  if (a?.executedVersion !== undefined && input.invocations > 0) {
    record.responseContext = {
      statusCode: a.statusCode,
      executedVersion: a.executedVersion,
      ...(input.condition !== 'Success' && a.functionError !== undefined ? { functionError: a.functionError } : {}),
    };
    record.responsePayload = jsonValue(a.responsePayload);
  }
  return record;
}
