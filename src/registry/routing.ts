/**
 * Alias routing: validation of RoutingConfig.AdditionalVersionWeights (in the order and words
 * Lambda uses) and the weighted pick made on each invoke.
 */
import {
  InvalidParameterValueException,
  ResourceNotFoundException,
  ValidationException,
  validationMessage,
} from '../core/errors.js';
import type { AliasRoutingConfiguration } from './types.js';

const WEIGHTS_FIELD = 'routingConfig.additionalVersionWeights';

/**
 * Returns the routing config to store (undefined when there is no extra version), or throws.
 * `versionArn(v)` gives the qualified ARN for not-found messages; `exists(v)` says whether a
 * published version exists.
 */
export function normalizeRouting(
  routing: AliasRoutingConfiguration | undefined,
  primary: string,
  exists: (version: string) => boolean,
  versionArn: (version: string) => string,
): AliasRoutingConfiguration | undefined {
  const weights = routing?.AdditionalVersionWeights;
  const entries = Object.entries(weights ?? {});
  if (entries.length === 0) return undefined;
  if (entries.length > 1) {
    throw new InvalidParameterValueException('Number of items in AdditionalVersionWeights cannot be greater than 1');
  }
  const [version, weight] = entries[0] as [string, number];
  const shown = `{${version}=${String(weight)}}`;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw new ValidationException(
      validationMessage([
        {
          field: WEIGHTS_FIELD,
          value: shown,
          constraint:
            'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]',
        },
      ]),
    );
  }
  if (version === primary) {
    throw new InvalidParameterValueException(
      `Invalid function version ${primary}. Function version ${primary} is already included in routing configuration.`,
    );
  }
  if (primary === '$LATEST') {
    throw new InvalidParameterValueException('$LATEST is not supported for an alias pointing to more than 1 version');
  }
  if (!/^[0-9]+$/.test(version)) {
    throw new ValidationException(
      validationMessage([
        {
          field: WEIGHTS_FIELD,
          value: shown,
          constraint:
            'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, Member must not be null]',
        },
      ]),
    );
  }
  if (!exists(version)) throw new ResourceNotFoundException(`Function not found: ${versionArn(version)}`);
  return { AdditionalVersionWeights: { [version]: weight } };
}

/**
 * The version an invoke through the alias runs: one draw from `random` in [0, 1); below the
 * extra version's weight it runs that version, otherwise the primary.
 */
export function pickVersion(primary: string, routing: AliasRoutingConfiguration | undefined, random: () => number): string {
  const entry = Object.entries(routing?.AdditionalVersionWeights ?? {})[0];
  if (entry === undefined) return primary;
  const [version, weight] = entry;
  return random() < weight ? version : primary;
}
