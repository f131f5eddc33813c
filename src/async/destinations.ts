/**
 * Where an Event invocation goes once it is finished: a pure plan from the function's event
 * invoke config and dead-letter queue; the dispatcher carries it out.
 *
 * - Success: the record goes to `OnSuccess`, if set.
 * - Given up on (retries exhausted, too old, reservation 0): the record goes to `OnFailure` and
 *   the original event to the dead-letter queue, each if set. Both may be set, and both get
 *   theirs, as in Lambda. An event whose function was deleted goes nowhere: nothing of the
 *   function's configuration is left to say where.
 * - A Lambda function destination gets the record as a new Event invocation (through the same
 *   queue, with its own retries). Queues, topics, event buses and buckets are not served by
 *   Laminar: an event bound for one is kept in the queue's failed-event store, with the targets
 *   it was bound for, where it can be listed and replayed. One entry per event, however many of
 *   its targets are stored.
 */
import type { Partition } from '../core/arn.js';
import { destinationFunction, destinationType, type DestinationType } from '../registry/destinations.js';
import { failureCondition, type DropReason } from './retry-policy.js';
import type { RecordCondition } from './destination-record.js';

/** The targets of one function and qualifier, as configured when the event ran. */
export interface EventDestinations {
  onSuccess?: string;
  onFailure?: string;
  /** The function's `DeadLetterConfig.TargetArn`. */
  deadLetter?: string;
}

/** A target the event or its record cannot be delivered to by Laminar: kept in the failed-event store. */
export interface StoredTarget {
  arn: string;
  /** A destination gets the record; the dead-letter queue gets the event itself. */
  role: 'destination' | 'dead-letter';
  /** For metrics: the service the ARN names (`other` for one no destination may use). */
  type: DestinationType | 'other';
}

export interface DeliveryPlan {
  condition: RecordCondition;
  /** The record is sent as an Event invocation of this function; `target` is unset when the ARN names no function here. */
  invoke?: { arn: string; target?: { functionName: string; qualifier?: string } };
  store: StoredTarget[];
}

function stored(arn: string, role: StoredTarget['role']): StoredTarget {
  return { arn, role, type: destinationType(arn) ?? 'other' };
}

function withDestination(plan: DeliveryPlan, arn: string | undefined, partition: Partition): DeliveryPlan {
  if (arn === undefined) return plan;
  if (destinationType(arn) !== 'lambda') return { ...plan, store: [...plan.store, stored(arn, 'destination')] };
  const target = destinationFunction(arn, partition);
  return { ...plan, invoke: target ? { arn, target } : { arn } };
}

/** What a successful event's record is delivered to; undefined when nothing is. */
export function successPlan(d: EventDestinations, partition: Partition): DeliveryPlan | undefined {
  if (d.onSuccess === undefined) return undefined;
  return withDestination({ condition: 'Success', store: [] }, d.onSuccess, partition);
}

/** What a dropped event and its record are delivered to; undefined when nothing is (the event is simply dropped). */
export function failurePlan(d: EventDestinations, reason: DropReason, partition: Partition): DeliveryPlan | undefined {
  if (reason === 'FunctionNotFound') return undefined;
  if (d.onFailure === undefined && d.deadLetter === undefined) return undefined;
  const plan = withDestination({ condition: failureCondition(reason), store: [] }, d.onFailure, partition);
  return d.deadLetter === undefined ? plan : { ...plan, store: [...plan.store, stored(d.deadLetter, 'dead-letter')] };
}
