/**
 * What Laminar can scale: Lambda provisioned concurrency, nothing else. Every operation checks
 * its ServiceNamespace / ScalableDimension / ResourceId here, and the errors say what to use
 * instead, since a caller who sent `ecs` or `function:f` has no other way to find out.
 */
import { ScalingValidationException } from './errors.js';
import { SCALABLE_DIMENSION, SERVICE_NAMESPACE, type TargetKey } from './types.js';

const RESOURCE_ID_RE = /^function:([a-zA-Z0-9-_]{1,64}):([a-zA-Z0-9-_$]{1,128})$/;

export interface ParsedTarget extends TargetKey {
  resourceId: string;
}

export function assertNamespace(namespace: string): void {
  if (namespace !== SERVICE_NAMESPACE) {
    throw new ScalingValidationException(
      `Unsupported service namespace '${namespace}': Laminar scales Lambda provisioned concurrency only; use ServiceNamespace '${SERVICE_NAMESPACE}'.`,
    );
  }
}

export function assertDimension(dimension: string): void {
  if (dimension !== SCALABLE_DIMENSION) {
    throw new ScalingValidationException(
      `Unsupported scalable dimension '${dimension}' for service namespace lambda: use ScalableDimension '${SCALABLE_DIMENSION}'.`,
    );
  }
}

export function parseResourceId(resourceId: string): ParsedTarget {
  const m = RESOURCE_ID_RE.exec(resourceId);
  if (!m) {
    throw new ScalingValidationException(
      `Invalid ResourceId '${resourceId}' for service namespace lambda: use function:<function-name>:<alias-or-version>, ` +
        'for example function:my-function:live or function:my-function:1.',
    );
  }
  const [, functionName, qualifier] = m as unknown as [string, string, string];
  if (qualifier === '$LATEST') {
    throw new ScalingValidationException(
      `Invalid ResourceId '${resourceId}': provisioned concurrency cannot be configured on $LATEST; ` +
        `name a published version or an alias, for example function:${functionName}:live.`,
    );
  }
  return { resourceId, functionName, qualifier };
}

/** Checks the triple that names a scalable target and returns the function and qualifier. */
export function parseTarget(t: { ServiceNamespace: string; ResourceId: string; ScalableDimension: string }): ParsedTarget {
  assertNamespace(t.ServiceNamespace);
  const parsed = parseResourceId(t.ResourceId);
  assertDimension(t.ScalableDimension);
  return parsed;
}

/** Checks the optional filters of a Describe operation. */
export function checkFilters(f: { ServiceNamespace: string; ResourceId?: string | undefined; ScalableDimension?: string | undefined }): void {
  assertNamespace(f.ServiceNamespace);
  if (f.ResourceId !== undefined) parseResourceId(f.ResourceId);
  if (f.ScalableDimension !== undefined) assertDimension(f.ScalableDimension);
}

/** AWS's wording for the triple, reused in every ObjectNotFoundException. */
export function describeTarget(resourceId: string): string {
  return `service namespace: ${SERVICE_NAMESPACE}, resource ID: ${resourceId}, scalable dimension: ${SCALABLE_DIMENSION}`;
}
