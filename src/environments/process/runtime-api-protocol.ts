/**
 * The wire vocabulary of the Lambda Runtime API (version 2018-06-01): paths, header names, the
 * error-type scrubbing and the JSON bodies of its statuses. Kept apart from the server so the
 * rules can be tested without sockets. Wording and shapes follow the Runtime Interface Emulator
 * (rapi/rendering, rapi/model, fatalerror, interop), which is what runtimes are written against.
 */

export const API_PREFIX = '/2018-06-01';

/** Headers of a `GET /runtime/invocation/next` reply. */
export const NEXT_HEADERS = {
  requestId: 'Lambda-Runtime-Aws-Request-Id',
  deadlineMs: 'Lambda-Runtime-Deadline-Ms',
  invokedFunctionArn: 'Lambda-Runtime-Invoked-Function-Arn',
  traceId: 'Lambda-Runtime-Trace-Id',
  clientContext: 'Lambda-Runtime-Client-Context',
  identity: 'Lambda-Runtime-Cognito-Identity',
  tenantId: 'Lambda-Runtime-Aws-Tenant-Id',
} as const;

/** Request headers the server reads (lower case, as node:http exposes them). */
export const FUNCTION_ERROR_TYPE_HEADER = 'lambda-runtime-function-error-type';
export const RESPONSE_MODE_HEADER = 'lambda-runtime-function-response-mode';

/** Lambda's response limit: 6 MiB plus 100 bytes (interop.MaxPayloadSize). */
export const DEFAULT_MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/**
 * The runtime's states, named as the RIE names them, because these names appear in the
 * `InvalidStateTransition` messages runtimes may log.
 */
export type RuntimeState =
  | 'Started'
  | 'InitError'
  | 'Ready'
  | 'Running'
  | 'InvocationResponse'
  | 'InvocationErrorResponse'
  | 'RuntimeResponseSentState';

/** What a request asks for, decided from method and path only. */
export type Route =
  | { kind: 'next' }
  | { kind: 'response'; requestId: string }
  | { kind: 'error'; requestId: string }
  | { kind: 'initError' }
  | { kind: 'ping' }
  | { kind: 'methodNotAllowed'; allow: string }
  | { kind: 'notFound' };

const REPLY_PATH = /^\/runtime\/invocation\/([^/]*)\/(response|error)$/;

/** Maps a request line to a route. The query string is ignored, as chi does. */
export function route(method: string | undefined, rawUrl: string | undefined): Route {
  const url = rawUrl ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith(`${API_PREFIX}/`)) return { kind: 'notFound' };
  const rest = path.slice(API_PREFIX.length);
  const wants = (allowed: string, r: Route): Route =>
    method === allowed ? r : { kind: 'methodNotAllowed', allow: allowed };
  if (rest === '/runtime/invocation/next') return wants('GET', { kind: 'next' });
  if (rest === '/runtime/init/error') return wants('POST', { kind: 'initError' });
  if (rest === '/ping') return wants('GET', { kind: 'ping' });
  const m = REPLY_PATH.exec(rest);
  if (m) {
    const requestId = m[1] ?? '';
    return wants('POST', m[2] === 'response' ? { kind: 'response', requestId } : { kind: 'error', requestId });
  }
  return { kind: 'notFound' };
}

/**
 * The RIE's `GetValidRuntimeOrFunctionErrorType`: a value containing `Runtime.Xxx` or
 * `Function.Xxx` is kept as sent (Go's MatchString is unanchored, so this is a search, not a
 * full match); other `Function.*` values become `Function.Unknown`, anything else (including a
 * missing header) `Runtime.Unknown`. The header is the runtime's to set, so only these shapes
 * reach the platform's reports.
 */
export function normalizeErrorType(value: string | undefined): string {
  const v = value ?? '';
  if (/(Runtime|Function)\.[A-Z][a-zA-Z]+/.test(v)) return v;
  if (v.startsWith('Function.')) return 'Function.Unknown';
  return 'Runtime.Unknown';
}

/** Go's json.Encoder output: HTML-sensitive characters escaped, newline-terminated. */
function goJson(value: unknown): Buffer {
  const text = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
  return Buffer.from(`${text}\n`);
}

export interface StatusBody {
  status: number;
  body: Buffer;
}

function errorBody(status: number, errorType: string, errorMessage: string): StatusBody {
  return { status, body: goJson({ errorMessage, errorType }) };
}

export const ACCEPTED: StatusBody = { status: 202, body: goJson({ status: 'OK' }) };

export function invalidRequestId(): StatusBody {
  return errorBody(400, 'InvalidRequestID', 'Invalid request ID');
}

export const ERR_NOT_ALLOWED = 'State transition is not allowed';
export const ERR_CONCURRENT = 'Concurrent state modification';

export function invalidStateTransition(from: RuntimeState, to: RuntimeState, reason: string = ERR_NOT_ALLOWED): StatusBody {
  return errorBody(
    403,
    'InvalidStateTransition',
    `State transition from ${from} to ${to} failed for runtime. Error: ${reason}`,
  );
}

export function requestEntityTooLarge(maxBytes: number): StatusBody {
  return errorBody(413, 'RequestEntityTooLarge', `Exceeded maximum allowed payload size (${maxBytes} bytes).`);
}

export function invalidFunctionResponseMode(): StatusBody {
  return errorBody(400, 'InvalidFunctionResponseMode', 'Invalid function response mode');
}

/**
 * The refusal of a connection whose peer is not this environment's runtime. Not an RIE shape
 * (the RIE serves one sandbox and never sees strangers); worded like its other errors.
 */
export function forbiddenPeer(): StatusBody {
  return errorBody(403, 'AccessDenied', 'The connecting process is not the runtime of this execution environment');
}

export function internalServerError(): StatusBody {
  return errorBody(500, 'InternalServerError', 'Internal Server Error');
}

/**
 * The error an invocation gets when the runtime's response is over the limit
 * (interop.ErrorResponseTooLarge.AsErrorResponse): field order errorType, errorMessage.
 */
export function responseTooLargeError(responseBytes: number, maxBytes: number): { errorType: string; body: Buffer } {
  const errorType = 'Function.ResponseSizeTooLarge';
  const errorMessage = `Response payload size (${responseBytes} bytes) exceeded maximum allowed payload size (${maxBytes} bytes).`;
  return { errorType, body: Buffer.from(JSON.stringify({ errorType, errorMessage })) };
}

/**
 * Makes a value fit in an HTTP header without changing what a runtime reads back: text beyond
 * Latin-1 is sent as its UTF-8 bytes (node:http writes header strings as Latin-1), and control
 * characters, which node:http refuses and which could split headers, become spaces. For the
 * JSON values carried here (client context, identity) that only touches whitespace between
 * tokens, since JSON strings cannot hold raw control characters.
 */
export function headerSafe(value: string): string {
  const latin1 = /[^\u0000-\u00ff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
  return latin1.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ');
}
