/**
 * The failed-event store as the API shows it: each stored event with why it left the queue, the
 * targets it was bound for, the event itself and the invocation record a destination gets.
 */
import { functionArn, type Partition } from '../core/arn.js';
import { invocationRecord, jsonValue, type InvocationRecord, type RecordCondition } from './destination-record.js';
import type { FailedEvent } from './queue.js';

export interface FailedEventView {
  Id: string;
  FunctionName: string;
  Qualifier?: string;
  RequestId: string;
  /** Why the event left the queue: `Success`, `RetriesExhausted`, `EventAgeExceeded`, `ReservedConcurrencyZero`, … */
  Reason: string;
  /** The dead-letter queue and destinations it was bound for. */
  Destinations: string[];
  /** ISO 8601. A replayed event counts as accepted when it was replayed. */
  AcceptedAt: string;
  FailedAt: string;
  /** The event as accepted (what a dead-letter queue gets). */
  Payload: unknown;
  /** What an OnSuccess or OnFailure destination gets. */
  Record: InvocationRecord;
}

/** The record condition a stored reason stands for: reasons other than these two mean nothing is left to try. */
export function conditionOf(reason: string): RecordCondition {
  return reason === 'Success' || reason === 'EventAgeExceeded' ? reason : 'RetriesExhausted';
}

export function failedEventView(f: FailedEvent, partition: Partition): FailedEventView {
  return {
    Id: f.id,
    FunctionName: f.functionName,
    ...(f.qualifier !== undefined ? { Qualifier: f.qualifier } : {}),
    RequestId: f.requestId,
    Reason: f.reason,
    Destinations: f.destinations,
    AcceptedAt: new Date(f.acceptedAt).toISOString(),
    FailedAt: new Date(f.failedAt).toISOString(),
    Payload: jsonValue(f.payload),
    Record: invocationRecord({
      condition: conditionOf(f.reason),
      requestId: f.requestId,
      functionArn: functionArn(partition, f.functionName, f.qualifier ?? '$LATEST'),
      payload: f.payload,
      invocations: f.counters.invocations,
      ...(f.lastAttempt ? { lastAttempt: f.lastAttempt } : {}),
      now: f.failedAt,
    }),
  };
}
