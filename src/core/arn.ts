import { InvalidParameterValueException, ResourceNotFoundException, ValidationException, validationMessage } from './errors.js';

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
export const QUALIFIER_RE = /^(\$LATEST|[a-zA-Z0-9-_]{1,128})$/;
export const ALIAS_NAME_RE = /^(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})$/;
export const VERSION_RE = /^[0-9]+$/;

/** AWS's own pattern for FunctionName, quoted in validation messages. */
export const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

const FULL_RE =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:([a-z]{2}(?:-gov)?-[a-z]+-\d{1}):)?(?:(\d{12}):)?(?:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

/**
 * Parses a FunctionName as the API accepts it: a name, `name:qualifier`, a partial ARN
 * (`123456789012:function:name`) or a full ARN, each optionally qualified.
 */
export function parseFunctionName(raw: string, partition: Partition): FunctionRef {
  const m = raw.length <= 256 ? FULL_RE.exec(raw) : null;
  if (!m || !m[3] || m[3].length > 64) {
    throw new ValidationException(
      validationMessage([
        {
          field: 'functionName',
          value: raw,
          constraint: `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`,
        },
      ]),
    );
  }
  const [, region, account, name, qualifier] = m;
  if (region && region !== partition.region) {
    throw new ResourceNotFoundException(`Functions from '${region}' are not reachable in this region ('${partition.region}')`);
  }
  if (account && account !== partition.accountId) {
    throw new InvalidParameterValueException(
      `The ARN ${raw} does not belong to this Laminar (region ${partition.region}, account ${partition.accountId}).`,
    );
  }
  return qualifier === undefined ? { functionName: name as string } : { functionName: name as string, qualifier };
}

/**
 * Combines the qualifier in the path with the `Qualifier` query parameter; when both are given
 * they must agree, as in Lambda.
 */
export function mergeQualifier(ref: FunctionRef, queryQualifier: string | undefined): FunctionRef {
  if (queryQualifier === undefined || queryQualifier === '') return ref;
  if (!QUALIFIER_RE.test(queryQualifier)) {
    throw new ValidationException(
      validationMessage([
        {
          field: 'qualifier',
          value: queryQualifier,
          constraint: 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
        },
      ]),
    );
  }
  if (ref.qualifier !== undefined && ref.qualifier !== queryQualifier) {
    throw new InvalidParameterValueException('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { functionName: ref.functionName, qualifier: queryQualifier };
}

export function functionArn(p: Partition, functionName: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${p.region}:${p.accountId}:function:${functionName}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
