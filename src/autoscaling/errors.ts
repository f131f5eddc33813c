/**
 * Application Auto Scaling's error shapes. The service speaks awsJson1_1, not Lambda's restJson1:
 * every client error is HTTP 400 and the shape name travels in both `x-amzn-ErrorType` and the
 * body's `__type`, which is what `@aws-sdk/client-application-auto-scaling` matches its exception
 * classes on. The names collide with some of Lambda's (ValidationException), so this module's
 * classes share LaminarError's fields but are distinct classes (`core/aws-json.ts` gives them the
 * awsJson1_1 body); `routes.ts` serializes them.
 */
import { AwsJsonError } from '../core/aws-json.js';
import type { ErrorType } from '../core/errors.js';

export abstract class AppAutoScalingError extends AwsJsonError {}

/** A parameter is missing, malformed, or names something Laminar cannot scale. */
export class ScalingValidationException extends AppAutoScalingError {
  readonly code = 'ValidationException';
  readonly statusCode = 400;
}

/** The scalable target, policy or scheduled action does not exist. */
export class ObjectNotFoundException extends AppAutoScalingError {
  readonly code = 'ObjectNotFoundException';
  readonly statusCode = 400;
}

/** A quota (targets per account, policies or scheduled actions per target) would be exceeded. */
export class LimitExceededException extends AppAutoScalingError {
  readonly code = 'LimitExceededException';
  readonly statusCode = 400;
}

/** Another request changed the same resource at the same time. */
export class ConcurrentUpdateException extends AppAutoScalingError {
  readonly code = 'ConcurrentUpdateException';
  readonly statusCode = 500;
  override readonly type: ErrorType = 'Service';
}

/** Application Auto Scaling could not read or change the scaled resource. */
export class FailedResourceAccessException extends AppAutoScalingError {
  readonly code = 'FailedResourceAccessException';
  readonly statusCode = 400;
}

/** The NextToken was not issued by this operation. */
export class InvalidNextTokenException extends AppAutoScalingError {
  readonly code = 'InvalidNextTokenException';
  readonly statusCode = 400;
}

/** Tagging: the ARN names no scalable target. */
export class ScalingResourceNotFoundException extends AppAutoScalingError {
  readonly code = 'ResourceNotFoundException';
  readonly statusCode = 400;
}

/** The request body is not JSON, or not the JSON object the operation expects. */
export class SerializationException extends AppAutoScalingError {
  readonly code = 'SerializationException';
  readonly statusCode = 400;
}

/** The X-Amz-Target header is missing or names no operation. */
export class ScalingUnknownOperationException extends AppAutoScalingError {
  readonly code = 'UnknownOperationException';
  readonly statusCode = 400;
}

/** An internal fault. */
export class InternalServiceException extends AppAutoScalingError {
  readonly code = 'InternalServiceException';
  readonly statusCode = 500;
  override readonly type: ErrorType = 'Service';
}

/** Every error shape this API can answer with, for catalogue tests and the README. */
export const APP_AUTOSCALING_ERROR_CLASSES = [
  ScalingValidationException,
  ObjectNotFoundException,
  LimitExceededException,
  ConcurrentUpdateException,
  FailedResourceAccessException,
  InvalidNextTokenException,
  ScalingResourceNotFoundException,
  SerializationException,
  ScalingUnknownOperationException,
  InternalServiceException,
] as const;
