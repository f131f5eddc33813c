import {
  AccessDeniedException,
  InvalidParameterValueException,
  ResourceNotFoundException,
  ValidationException,
  validationMessage,
} from './errors.js';

/** Where Laminar pretends to live: the region and account every ARN carries. */
export interface Partition {
  region: string;
  accountId: string;
}

export interface FunctionRef {
  functionName: string;
  /** `$LATEST`, a version number or an alias name; undefined when none was given. */
  qualifier?: string;
}

export const FUNCTION_NAME_RE = /^[a-zA-Z0-9-_]{1,64}$/;
export const ALIAS_NAME_RE = /^(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})$/;
export const VERSION_RE = /^[0-9]+$/;

/** AWS's pattern for CreateFunction's FunctionName, quoted in its validation messages. */
export const FUNCTION_NAME_CREATE_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

/** AWS's pattern for the FunctionName of every other operation (Get, Delete, Invoke, …). */
export const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?';

/** AWS's pattern for the Qualifier parameter. */
export const QUALIFIER_PATTERN = '\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+';
const QUALIFIER_RE = /^(?:\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$/;
/** Longest FunctionName an operation takes (GetFunction and Invoke; AWS allows 140 on Delete). */
const MAX_NAME_LENGTH = 170;

const REGION = '((?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\\d{1})';
const CREATE_RE = new RegExp(
  `^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:${REGION}:)?(?:(\\d{12}):)?(?:function:)?([a-zA-Z0-9-_]+)(?::(\\$LATEST|[a-zA-Z0-9-_]+))?$`,
);
const FULL_RE = new RegExp(
  `^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:${REGION}:)?(?:(\\d{12}):)?(?:function:)?([a-zA-Z0-9-_.]+)(?::(\\$LATEST(?:\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`,
);

function nameViolation(raw: string, constraint: string): ValidationException {
  return new ValidationException(validationMessage([{ field: 'functionName', value: raw, constraint }]));
}

/**
 * Parses a FunctionName as the API accepts it: a name, `name:qualifier`, a partial ARN
 * (`123456789012:function:name`) or a full ARN, each optionally qualified. The shape is AWS's;
 * a name that fits it but cannot exist (65 characters, a dot) is left for the lookup to answer
 * not found, as AWS does.
 */
export function parseFunctionName(raw: string, partition: Partition): FunctionRef {
  if (raw.length > MAX_NAME_LENGTH) throw nameViolation(raw, `Member must have length less than or equal to ${MAX_NAME_LENGTH}`);
  const m = FULL_RE.exec(raw);
  if (!m || !m[3]) throw nameViolation(raw, `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`);
  const [, region, account, name, qualifier] = m;
  assertOwnArn(region, account, partition);
  return qualifier === undefined ? { functionName: name as string } : { functionName: name as string, qualifier };
}

/** An ARN of another region is not found there, one of another account is not yours: AWS's answers. */
function assertOwnArn(region: string | undefined, account: string | undefined, partition: Partition): void {
  if (region && region !== partition.region) {
    throw new ResourceNotFoundException(`Functions from '${region}' are not reachable in this region ('${partition.region}')`);
  }
  if (account && account !== partition.accountId) {
    throw new AccessDeniedException(`The function belongs to account ${account}; this Laminar serves account ${partition.accountId}.`);
  }
}

/** AWS's pattern for the FunctionName of the function URL config operations: an alias qualifier at most. */
export const FUNCTION_URL_FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]{1,64})(:((?!\\d+$)[0-9a-zA-Z-_]+))?';
const FUNCTION_URL_NAME_RE = new RegExp(`^(?:${FUNCTION_URL_FUNCTION_NAME_PATTERN})$`);

/**
 * The FunctionName of Create/Get/Update/Delete/ListFunctionUrlConfig(s): at most 140 characters,
 * and a qualifier in it may only be an alias (`name:1` and `name:$LATEST` fail the pattern).
 */
export function parseFunctionUrlFunctionName(raw: string, partition: Partition): FunctionRef {
  if (raw.length > 140) throw nameViolation(raw, 'Member must have length less than or equal to 140');
  if (!FUNCTION_URL_NAME_RE.test(raw)) {
    throw nameViolation(raw, `Member must satisfy regular expression pattern: ${FUNCTION_URL_FUNCTION_NAME_PATTERN}`);
  }
  return parseFunctionName(raw, partition);
}

/**
 * CreateFunction's FunctionName: a name, a partial ARN or a full ARN (its shape, at most 140
 * characters, is checked by the request schema). The name itself may have 64 characters; AWS
 * refuses a longer one with an InvalidParameterValueException in its validation wording.
 */
export function parseCreateFunctionName(raw: string, partition: Partition): string {
  const m = CREATE_RE.exec(raw);
  if (!m || !m[3]) throw nameViolation(raw, `Member must satisfy regular expression pattern: ${FUNCTION_NAME_CREATE_PATTERN}`);
  const [, region, account, name, qualifier] = m as unknown as [string, string | undefined, string | undefined, string, string | undefined];
  assertOwnArn(region, account, partition);
  if (name.length > 64) {
    throw new InvalidParameterValueException(
      validationMessage([{ field: 'functionName', value: name, constraint: 'Member must have length less than or equal to 64' }]),
    );
  }
  if (qualifier !== undefined) {
    throw new InvalidParameterValueException('CreateFunction takes an unqualified function name; remove the qualifier.');
  }
  return name;
}

/**
 * Combines the qualifier in the path with the `Qualifier` query parameter; when both are given
 * they must agree, as in Lambda.
 */
export function mergeQualifier(ref: FunctionRef, queryQualifier: string | undefined): FunctionRef {
  if (queryQualifier === undefined || queryQualifier === '') return ref;
  const constraint =
    queryQualifier.length > 128
      ? 'Member must have length less than or equal to 128'
      : !QUALIFIER_RE.test(queryQualifier)
        ? `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`
        : undefined;
  if (constraint !== undefined) {
    throw new ValidationException(validationMessage([{ field: 'qualifier', value: queryQualifier, constraint }]));
  }
  if (ref.qualifier !== undefined && ref.qualifier !== queryQualifier) {
    throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { functionName: ref.functionName, qualifier: queryQualifier };
}

/** AWS's pattern for the `Resource` of TagResource, UntagResource and ListTags, as its refusals quote it. */
export const TAGGABLE_RESOURCE_PATTERN =
  'arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)';
const TAGGABLE_FULL_RE = new RegExp(`^(?:${TAGGABLE_RESOURCE_PATTERN})$`);
const TAGGABLE_PARTS_RE = new RegExp(`^arn:aws[a-zA-Z-]*:lambda:${REGION}:(\\d{12}):([a-z-]+):([a-zA-Z0-9-_]+)(?::(.+))?$`);

/** Resources Lambda tags that Laminar has none of: their lookup answers not found, in AWS's words where recorded. */
const UNSERVED_TAGGABLE: Record<string, string> = {
  'event-source-mapping': 'Event source mapping',
  'capacity-provider': 'Capacity provider',
  'code-signing-config': 'Code signing config',
};

/**
 * The function a tagging operation's `Resource` names. Lambda tags the function itself, never
 * a version or alias, and refuses a qualified ARN before it looks the function up.
 */
export function parseTaggedFunction(raw: string, partition: Partition): string {
  const m = TAGGABLE_FULL_RE.test(raw) ? TAGGABLE_PARTS_RE.exec(raw) : null;
  if (!m) {
    throw new ValidationException(
      validationMessage([{ field: 'resource', value: raw, constraint: `Member must satisfy regular expression pattern: ${TAGGABLE_RESOURCE_PATTERN}` }]),
    );
  }
  const [, region, account, kind, id, qualifier] = m as unknown as [string, string, string, string, string, string | undefined];
  if (kind === 'function') {
    if (qualifier !== undefined) {
      throw new InvalidParameterValueException('Tags on function aliases and versions are not supported. Please specify a function ARN.');
    }
    assertOwnArn(region, account, partition);
    return id;
  }
  const unserved = UNSERVED_TAGGABLE[kind];
  if (unserved !== undefined) throw new ResourceNotFoundException(`${unserved} not found: ${raw}`);
  throw new InvalidParameterValueException(`Laminar tags functions only; ${kind} resources cannot be tagged.`);
}

export function functionArn(p: Partition, functionName: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${p.region}:${p.accountId}:function:${functionName}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
