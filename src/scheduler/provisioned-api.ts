/**
 * The provisioned concurrency API's checks and shapes, in Lambda's order and wording.
 */
import { functionArn, VERSION_RE, type Partition } from '../core/arn.js';
import {
  InvalidParameterValueException,
  ProvisionedConcurrencyConfigNotFoundException,
  ResourceConflictException,
  ResourceNotFoundException,
  ValidationException,
  validationMessage,
} from '../core/errors.js';
import type { ProvisionedStatus } from '../autoscaling/port.js';
import type { Registry } from '../registry/registry.js';
import type { Entry } from './provisioned-entries.js';

/** The API shape of a provisioned concurrency config. */
export interface ProvisionedConfigOutput {
  FunctionArn?: string;
  RequestedProvisionedConcurrentExecutions: number;
  AvailableProvisionedConcurrentExecutions: number;
  AllocatedProvisionedConcurrentExecutions: number;
  Status: ProvisionedStatus;
  StatusReason?: string;
  LastModified: string;
}

export function requireQualifier(qualifier: string | undefined): string {
  if (!qualifier) {
    throw new ValidationException(validationMessage([{ field: 'qualifier', value: null, constraint: 'Member must not be null' }]));
  }
  return qualifier;
}

/**
 * Checks a PutProvisionedConcurrencyConfig: the qualifier, the count, a published version, and no
 * other config on the same version. Returns the qualifier, the count and the version it names.
 */
export function checkPut(
  resolve: (qualifier: string) => string,
  others: readonly Pick<Entry, 'qualifier' | 'version'>[],
  qualifier: string | undefined,
  requested: unknown,
): { qualifier: string; requested: number; version: string } {
  const q = requireQualifier(qualifier);
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw new ValidationException(
      validationMessage([
        { field: 'provisionedConcurrentExecutions', value: requested ?? null, constraint: 'Member must have value greater than or equal to 1' },
      ]),
    );
  }
  if (q === '$LATEST') throw unpublished();
  const version = resolve(q);
  if (version === '$LATEST') throw unpublished();
  for (const other of others) {
    if (other.qualifier !== q && other.version === version) {
      throw new ResourceConflictException(
        VERSION_RE.test(q)
          ? 'Version is pointed by a Provisioned Concurrency alias'
          : "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
      );
    }
  }
  return { qualifier: q, requested, version };
}

/** Get and Delete take a published version or an alias, never `$LATEST`. */
export function checkLookup(qualifier: string | undefined): string {
  const q = requireQualifier(qualifier);
  if (q === '$LATEST') throw new InvalidParameterValueException('The function resource provided must be an alias or a published version.');
  return q;
}

/**
 * The version `q` names now. These operations report a missing function or alias as
 * `Cannot find alias arn: …` and a missing function or version as `Function not found: …:N`,
 * as Lambda does.
 */
export function resolveVersion(registry: Pick<Registry, 'resolvePrimary'>, partition: Partition, functionName: string, q: string): string {
  try {
    return registry.resolvePrimary(functionName, q).version;
  } catch (err) {
    if (err instanceof ResourceNotFoundException && !VERSION_RE.test(q)) {
      throw new ResourceNotFoundException(`Cannot find alias arn: ${functionArn(partition, functionName, q)}`);
    }
    throw err;
  }
}

export function configNotFound(): ProvisionedConcurrencyConfigNotFoundException {
  return new ProvisionedConcurrencyConfigNotFoundException('No Provisioned Concurrency Config found for this function');
}

export function configOutput(e: Entry, allocated: number): ProvisionedConfigOutput {
  return {
    RequestedProvisionedConcurrentExecutions: e.requested,
    AvailableProvisionedConcurrentExecutions: allocated,
    AllocatedProvisionedConcurrentExecutions: allocated,
    Status: e.status,
    ...(e.statusReason ? { StatusReason: e.statusReason } : {}),
    LastModified: e.lastModified,
  };
}

/** PutProvisionedConcurrencyConfig on `$LATEST`, or on an alias that points to it. */
function unpublished(): InvalidParameterValueException {
  return new InvalidParameterValueException('Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
}
