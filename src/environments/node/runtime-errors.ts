/**
 * The Node.js runtime's error vocabulary (`Runtime.*` types) and the two ways errors leave the
 * runtime: the response payload (`toErrorPayload`, RIC `Errors.toRapidResponse`) and the
 * `Invoke Error`-style log line (`formatErrorForLog`, RIC `Errors.toFormatted`).
 */
import { types } from 'node:util';
import type { FunctionErrorPayload } from '../environment.js';

/** Base for errors the runtime raises itself; the name carries the `Runtime.` prefix. */
export class RuntimeError extends Error {}

function runtimeErrorClass(shortName: string): typeof RuntimeError {
  const cls = class extends RuntimeError {};
  // On the prototype (not set in the constructor) so the captured stack header already carries it.
  Object.defineProperty(cls.prototype, 'name', { value: `Runtime.${shortName}`, writable: true, configurable: true });
  return cls;
}

export const MalformedHandlerName = runtimeErrorClass('MalformedHandlerName');
export const HandlerNotFound = runtimeErrorClass('HandlerNotFound');

/** The module could not be found; the message is the original error's `String()`, as the RIC does. */
export class ImportModuleError extends runtimeErrorClass('ImportModuleError') {
  constructor(original: unknown) {
    super(String(original));
  }
}

/** Keeps the original SyntaxError's stack, which points at the offending line. */
export class UserCodeSyntaxError extends runtimeErrorClass('UserCodeSyntaxError') {
  constructor(original: Error) {
    super(String(original));
    if (original.stack) this.stack = original.stack;
  }
}

/** Wraps the rejection reason, whatever it was; the message is `String(reason)` (`Error: boom`). */
export class UnhandledPromiseRejection extends runtimeErrorClass('UnhandledPromiseRejection') {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super(safeString(reason));
    this.reason = reason;
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function looksLikeError(v: unknown): v is Error {
  if (types.isNativeError(v)) return true;
  const e = v as { name?: unknown; message?: unknown; stack?: unknown } | null;
  return (
    typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string'
  );
}

/** The response body of a failed invocation, exactly as the Node.js runtime builds it. */
export function toErrorPayload(error: unknown): FunctionErrorPayload {
  try {
    if (looksLikeError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: safeString(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** The JSON after `Invoke Error \t`: errorType, errorMessage, code, own enumerable fields, stack. */
export function formatErrorForLog(error: unknown): string {
  const err = error instanceof Error ? error : new Error(safeString(error));
  try {
    return JSON.stringify(err, (_key, value: unknown) => {
      if (!(value instanceof Error)) return value;
      const out: Record<string, unknown> = {
        errorType: value.name,
        errorMessage: value.message,
        code: (value as { code?: unknown }).code,
        ...value,
      };
      if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
      return out;
    });
  } catch {
    return JSON.stringify(toErrorPayload(err));
  }
}
