/**
 * The registry's own checks. Request shapes (types, lengths, ranges, patterns, enums of the
 * members) are declared once in `shapes.ts` and checked where a request enters; what stays here
 * guards names and qualifiers given directly to the registry, and the semantic refusals that
 * come after the shape passed (runtime, reserved keys, sizes) as InvalidParameterValueException.
 */
import { FUNCTION_NAME_CREATE_PATTERN } from '../core/arn.js';
import { assertNoViolations, InvalidParameterValueException, type Violation } from '../core/errors.js';

/** Keys Lambda sets itself; a function may not define them (spec §7). */
export const RESERVED_ENV_KEYS: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
];

/** The runtimes Laminar can run: Node.js, and custom runtimes (a `bootstrap` on the Runtime API). */
export const SUPPORTED_RUNTIMES: readonly string[] = ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'provided.al2023', 'provided.al2'];

/** Lambda's Runtime enum for CreateFunction, in the order AWS prints it in its refusal. */
export const AWS_RUNTIMES: readonly string[] = [
  'nodejs20.x', 'python3.14', 'provided.al2023', 'python3.12', 'python3.13', 'nodejs24.x', 'nodejs22.x', 'java25',
  'python3.10', 'python3.11', 'java21', 'ruby3.3', 'ruby3.4', 'ruby3.2', 'python3.8', 'python3.9', 'java17',
  'nodejs16.x', 'dotnet10', 'dotnet8', 'java11', 'dotnet6', 'nodejs18.x', 'provided.al2', 'java8.al2',
];

/** Runtimes AWS still names but no longer lets a function be created or updated with. */
const RETIRED_RUNTIMES: readonly string[] = ['java8', 'go1.x', 'provided', 'ruby2.7', 'nodejs14.x', 'python3.7', 'dotnetcore3.1', 'nodejs12.x'];

/** Lambda measures environment variables as the compact JSON of the map, in bytes. */
const ENV_BYTES_MAX = 4096;

const NAME_RE = /^[a-zA-Z0-9-_]+$/;
const ALIAS_PATTERN = '(?!^[0-9]+$)([a-zA-Z0-9-_]+)';
const ALIAS_RE = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;

const lenLe = (n: number): string => `Member must have length less than or equal to ${n}`;
const lenGe = (n: number): string => `Member must have length greater than or equal to ${n}`;
const pattern = (p: string): string => `Member must satisfy regular expression pattern: ${p}`;



export function nameViolations(name: unknown, field = 'functionName'): Violation[] {
  const out: Violation[] = [];
  const s = typeof name === 'string' ? name : '';
  if (s.length > 64) out.push({ field, value: s, constraint: lenLe(64) });
  if (s.length < 1) out.push({ field, value: s, constraint: lenGe(1) });
  else if (!NAME_RE.test(s)) out.push({ field, value: s, constraint: pattern(FUNCTION_NAME_CREATE_PATTERN) });
  return out;
}

/** The name of a function being created: the naming rules apply in full. */
export function assertNewFunctionName(name: unknown): asserts name is string {
  assertNoViolations(nameViolations(name));
}

/**
 * A name to look up (the API layer has parsed ARNs and checked AWS's pattern). A name that breaks
 * the naming rules, a 65-character one say, cannot exist, so its lookup answers not found, as
 * AWS does; only an empty or non-string name is refused here.
 */
export function assertFunctionName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    assertNoViolations([{ field: 'functionName', value: typeof name === 'string' ? name : null, constraint: lenGe(1) }]);
  }
}

/** The configuration fields shared by CreateFunction and UpdateFunctionConfiguration. */
export interface ConfigFields {
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Runtime?: string;
  Environment?: { Variables?: Record<string, string> };
  EphemeralStorage?: { Size?: number };
  TracingConfig?: { Mode?: string };
  LoggingConfig?: { LogFormat?: string; LogGroup?: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  Architectures?: string[];
  /** A `TargetArn` sets the dead-letter queue, an empty one removes it; without one nothing changes. */
  DeadLetterConfig?: { TargetArn?: string };
}

/** Semantic checks that come after the shape checks passed. */
export function assertRuntime(runtime: string | undefined): void {
  if (runtime === undefined || SUPPORTED_RUNTIMES.includes(runtime)) return;
  if (RETIRED_RUNTIMES.includes(runtime)) {
    throw new InvalidParameterValueException(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
    );
  }
  if (!AWS_RUNTIMES.includes(runtime)) {
    // AWS's own wording: no "N validation errors" prefix and the value unquoted.
    throw new InvalidParameterValueException(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_RUNTIMES.join(', ')}] or be a valid ARN`,
    );
  }
  throw new InvalidParameterValueException(
    `The runtime parameter of ${runtime} is not supported by Laminar, which runs Node.js functions and custom runtimes. Use one of: ${SUPPORTED_RUNTIMES.join(', ')}.`,
  );
}

export function assertEnvironment(vars: Record<string, string> | undefined): void {
  if (vars === undefined) return;
  const reserved = Object.keys(vars).filter((k) => RESERVED_ENV_KEYS.includes(k));
  if (reserved.length > 0) {
    throw new InvalidParameterValueException(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  // Lambda measures the compact JSON of the map, in bytes.
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured, 'utf8') > ENV_BYTES_MAX) {
    throw new InvalidParameterValueException(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
}

export function aliasNameViolations(name: unknown, field = 'name'): Violation[] {
  const out: Violation[] = [];
  const s = typeof name === 'string' ? name : '';
  if (s.length > 128) out.push({ field, value: s, constraint: lenLe(128) });
  if (s.length < 1) out.push({ field, value: s, constraint: lenGe(1) });
  else if (!ALIAS_RE.test(s)) out.push({ field, value: s, constraint: pattern(ALIAS_PATTERN) });
  return out;
}

/** ListX MaxItems (1–10000 by the request shape): Lambda never returns more than 50 per page. */
export function pageSize(maxItems: number | undefined): number {
  return maxItems === undefined ? 50 : Math.max(1, Math.min(Math.floor(maxItems), 50));
}
