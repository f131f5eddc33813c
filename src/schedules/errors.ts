/**
 * EventBridge's error shapes (awsJson1_1): every client error is HTTP 400, faults 500, with the
 * shape name in `x-amzn-ErrorType` and the body's `__type`, which `@aws-sdk/client-eventbridge`
 * matches its exception classes on. The names collide with Lambda's and Application Auto
 * Scaling's (ValidationException, ResourceNotFoundException), so these are classes of their own;
 * `routes.ts` serializes them.
 */
import { AwsJsonError } from '../core/aws-json.js';
import type { ErrorType } from '../core/errors.js';

export abstract class EventBridgeError extends AwsJsonError {}

/** A parameter breaks its constraint or names something EventBridge refuses (an invalid schedule, a malformed ARN). */
export class EventsValidationException extends EventBridgeError {
  readonly code = 'ValidationException';
  readonly statusCode = 400;
}

/** The rule or event bus does not exist. */
export class EventsResourceNotFoundException extends EventBridgeError {
  readonly code = 'ResourceNotFoundException';
  readonly statusCode = 400;
}

/** A quota would be exceeded (targets per rule). */
export class EventsLimitExceededException extends EventBridgeError {
  readonly code = 'LimitExceededException';
  readonly statusCode = 400;
}

/** A function in a sandbox asked to change rules (it may only invoke, `api/sandbox-callers.ts`). */
export class EventsAccessDeniedException extends EventBridgeError {
  readonly code = 'AccessDeniedException';
  readonly statusCode = 400;
}

/** The EventPattern is not a JSON object. */
export class InvalidEventPatternException extends EventBridgeError {
  readonly code = 'InvalidEventPatternException';
  readonly statusCode = 400;
}

/** The request body is not JSON, or a member has the wrong JSON type. */
export class EventsSerializationException extends EventBridgeError {
  readonly code = 'SerializationException';
  readonly statusCode = 400;
}

/** The X-Amz-Target header names no operation Laminar serves. */
export class EventsUnknownOperationException extends EventBridgeError {
  readonly code = 'UnknownOperationException';
  readonly statusCode = 400;
}

/** An internal fault. */
export class EventsInternalException extends EventBridgeError {
  readonly code = 'InternalException';
  readonly statusCode = 500;
  override readonly type: ErrorType = 'Service';
}

/** Every error shape this API can answer with, for catalogue tests and the README. */
export const EVENTBRIDGE_ERROR_CLASSES = [
  EventsValidationException,
  EventsResourceNotFoundException,
  EventsLimitExceededException,
  EventsAccessDeniedException,
  InvalidEventPatternException,
  EventsSerializationException,
  EventsUnknownOperationException,
  EventsInternalException,
] as const;
