/**
 * The error hierarchy: one class per AWS error shape, each carrying the HTTP status, the error
 * `Type` (User or Service) and, for throttles, the `Reason`. `api/error-handler.ts` is the one
 * serializer that turns them into Lambda's wire format.
 */
export type ErrorType = 'User' | 'Service';

export abstract class LaminarError extends Error {
  /** The AWS shape name, sent as `x-amzn-ErrorType`. */
  abstract readonly code: string;
  abstract readonly statusCode: number;
  readonly type: ErrorType = 'User';
  /** The 429 `Reason`, or other documented fields the shape carries. */
  reason?: string;
  retryAfterSeconds?: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** The JSON body Lambda sends for this error. */
  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { Type: this.type, message: this.message };
    if (this.reason !== undefined) body.Reason = this.reason;
    return body;
  }
}

/** A parameter has a value Lambda does not accept (a bad qualifier, a reserved env key, …). */
export class InvalidParameterValueException extends LaminarError {
  readonly code = 'InvalidParameterValueException';
  readonly statusCode = 400;
}

/** Shape constraints failed (length, pattern, range); the message lists every violation. */
export class ValidationException extends LaminarError {
  readonly code = 'ValidationException';
  readonly statusCode = 400;
}

/** A member of the request has the wrong JSON type (a string where the model has a number, …). */
export class SerializationException extends LaminarError {
  readonly code = 'SerializationException';
  readonly statusCode = 400;
}

/** The invoke body is not valid JSON, or a header is invalid. */
export class InvalidRequestContentException extends LaminarError {
  readonly code = 'InvalidRequestContentException';
  readonly statusCode = 400;
}

/** The request body exceeds the operation's limit. */
export class RequestTooLargeException extends LaminarError {
  readonly code = 'RequestTooLargeException';
  readonly statusCode = 413;
}

/** The content type is not one Lambda accepts. */
export class UnsupportedMediaTypeException extends LaminarError {
  readonly code = 'UnsupportedMediaTypeException';
  readonly statusCode = 415;
}

/** Unknown function, version, alias or configuration. */
export class ResourceNotFoundException extends LaminarError {
  readonly code = 'ResourceNotFoundException';
  readonly statusCode = 404;
}

/** The resource belongs to another account. */
export class AccessDeniedException extends LaminarError {
  readonly code = 'AccessDeniedException';
  readonly statusCode = 403;
}

/** The function, version or alias has no provisioned concurrency config. */
export class ProvisionedConcurrencyConfigNotFoundException extends LaminarError {
  readonly code = 'ProvisionedConcurrencyConfigNotFoundException';
  readonly statusCode = 404;
}

/** The resource exists already, or is in a state that forbids the operation (Pending, update in progress). */
export class ResourceConflictException extends LaminarError {
  readonly code = 'ResourceConflictException';
  readonly statusCode = 409;
}

/** The RevisionId given does not match the current one. */
export class PreconditionFailedException extends LaminarError {
  readonly code = 'PreconditionFailedException';
  readonly statusCode = 412;
}

/** Throttled: `reason` says which rule refused the request. */
export class TooManyRequestsException extends LaminarError {
  readonly code = 'TooManyRequestsException';
  readonly statusCode = 429;
  constructor(message: string, reason: string, retryAfterSeconds = 1) {
    super(message);
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The code storage quota would be exceeded. */
export class CodeStorageExceededException extends LaminarError {
  readonly code = 'CodeStorageExceededException';
  readonly statusCode = 400;
}

/** An internal fault. */
export class ServiceException extends LaminarError {
  readonly code = 'ServiceException';
  readonly statusCode = 500;
  override readonly type: ErrorType = 'Service';
}

/** A route or method Laminar does not serve. */
export class UnknownOperationException extends LaminarError {
  readonly code = 'UnknownOperationException';
  readonly statusCode = 404;
}

/** Every error class, for the catalogue test and the README table. */
export const ERROR_CLASSES = [
  InvalidParameterValueException,
  ValidationException,
  SerializationException,
  InvalidRequestContentException,
  RequestTooLargeException,
  UnsupportedMediaTypeException,
  ResourceNotFoundException,
  AccessDeniedException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  PreconditionFailedException,
  TooManyRequestsException,
  CodeStorageExceededException,
  ServiceException,
  UnknownOperationException,
] as const;

/** One failed constraint, in the words AWS uses. */
export interface Violation {
  field: string;
  value: unknown;
  constraint: string;
}

/**
 * Formats violations the way AWS does: "2 validation errors detected: Value 'x' at 'f' failed to
 * satisfy constraint: …". A missing value is written `Value null at 'f'`, unquoted, as AWS does.
 */
export function validationMessage(violations: readonly Violation[]): string {
  const n = violations.length;
  const parts = violations.map((v) => {
    const shown = v.value === null || v.value === undefined ? 'null' : `'${typeof v.value === 'string' ? v.value : JSON.stringify(v.value)}'`;
    return `Value ${shown} at '${v.field}' failed to satisfy constraint: ${v.constraint}`;
  });
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}

/** Throws a ValidationException when any constraint failed. */
export function assertNoViolations(violations: readonly Violation[]): void {
  if (violations.length > 0) throw new ValidationException(validationMessage(violations));
}
