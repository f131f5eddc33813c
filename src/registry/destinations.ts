/**
 * Destination ARNs of asynchronous invocation: what kind of target an ARN names, and the checks
 * Put/UpdateFunctionEventInvokeConfig apply to a `DestinationConfig`, in AWS's words. Pure: the
 * one fact from the registry (does a function exist) is passed in.
 */
import type { Partition } from '../core/arn.js';
import { InvalidParameterValueException } from '../core/errors.js';
import type { EventInvokeConfigInput, OnDestination } from './types.js';

/**
 * The services Lambda sends invocation records to: a function, a standard SQS queue, a standard
 * SNS topic, an EventBridge event bus, and (for failures only) an S3 bucket.
 */
export type DestinationType = 'lambda' | 'sqs' | 'sns' | 'events' | 's3';

const TYPES: readonly DestinationType[] = ['lambda', 'sqs', 'sns', 'events', 's3'];

/** AWS's pattern for a destination ARN (the model's `DestinationArn`), as its refusals quote it. */
export const DESTINATION_ARN_PATTERN =
  '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';

/** The service an ARN names, when it is one destinations may use; undefined otherwise. */
export function destinationType(arn: string): DestinationType | undefined {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return undefined;
  return (TYPES as readonly string[]).includes(parts[2] ?? '') ? (parts[2] as DestinationType) : undefined;
}

const FUNCTION_ARN_RE = /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

/**
 * The function a Lambda destination ARN names, when it is a function of this region and account
 * (only those can exist here); undefined for any other ARN.
 */
export function destinationFunction(arn: string, partition: Partition): { functionName: string; qualifier?: string } | undefined {
  const m = FUNCTION_ARN_RE.exec(arn);
  if (!m || m[1] !== partition.region || m[2] !== partition.accountId) return undefined;
  return m[4] === undefined ? { functionName: m[3] as string } : { functionName: m[3] as string, qualifier: m[4] };
}

/** A side's destination, with the empty string (which the model allows) read as none. */
export function destinationOf(side: OnDestination | undefined): string | undefined {
  return side?.Destination ? side.Destination : undefined;
}

/**
 * Lambda's checks of a `DestinationConfig` for the function `self`, failure side first: a Lambda
 * destination must be an existing function other than `self`; any other destination must be a
 * queue, topic or event bus, or for failures a bucket. A destination of another service fails
 * the whole config with one message naming both sides.
 */
export function checkDestinationConfig(
  config: EventInvokeConfigInput['DestinationConfig'],
  self: string,
  partition: Partition,
  functionExists: (name: string) => boolean,
): void {
  const onFailure = destinationOf(config?.OnFailure);
  const onSuccess = destinationOf(config?.OnSuccess);
  let refused = false;
  for (const [arn, side] of [
    [onFailure, 'failure'],
    [onSuccess, 'success'],
  ] as const) {
    if (arn === undefined) continue;
    const type = destinationType(arn);
    if (type === 'lambda') {
      const target = destinationFunction(arn, partition);
      if (!target || !functionExists(target.functionName)) throw new InvalidParameterValueException(`The destination ARN ${arn} is invalid.`);
      if (target.functionName === self) throw new InvalidParameterValueException("You can't specify the function as a destination for itself.");
    } else if (type === undefined || (type === 's3' && side === 'success')) {
      refused = true;
    }
  }
  if (refused) {
    const s = onSuccess === undefined ? 'null' : `OnSuccess(destination=${onSuccess})`;
    const f = onFailure === undefined ? 'null' : `OnFailure(destination=${onFailure})`;
    throw new InvalidParameterValueException(`The provided destination config DestinationConfig(onSuccess=${s}, onFailure=${f}) is invalid.`);
  }
}
