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

const VALUE_CONSTRAINT =
  'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]';
const KEY_CONSTRAINT =
  'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]';

/**
 * A number as Java's Double.toString writes it, which is how Lambda's validator quotes a weight:
 * `2.0`, `-1.0`, `0.5`, and `1.0E-4` / `1.5E7` outside [10^-3, 10^7).
 */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** The map as Java's Map.toString writes it: `{2=2.0}`, `{1=0.8, 2=0.2}`. */
function javaMap(weights: Record<string, unknown>): string {
  const entries = Object.entries(weights).map(([k, v]) => `${k}=${typeof v === 'number' ? javaDouble(v) : String(v)}`);
  return `{${entries.join(', ')}}`;
}

function invalidWeights(weights: Record<string, unknown>, constraint: string): ValidationException {
  return new ValidationException(validationMessage([{ field: WEIGHTS_FIELD, value: javaMap(weights), constraint }]));
}

/**
 * Returns the routing config to store (undefined when there is no extra version), or throws.
 * Shape constraints on every key and weight come first, as Lambda's request validator checks
 * them before the operation runs; then the semantic rules. `versionArn(v)` gives the qualified
 * ARN for not-found messages; `exists(v)` says whether a published version exists.
 */
export function normalizeRouting(
  routing: AliasRoutingConfiguration | undefined,
  primary: string,
  exists: (version: string) => boolean,
  versionArn: (version: string) => string,
): AliasRoutingConfiguration | undefined {
  const weights = (routing?.AdditionalVersionWeights ?? {}) as Record<string, unknown>;
  const entries = Object.entries(weights);
  if (entries.length === 0) return undefined;
  for (const [, weight] of entries) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
      throw invalidWeights(weights, VALUE_CONSTRAINT);
    }
  }
  for (const [version] of entries) {
    if (!/^[0-9]{1,1024}$/.test(version)) throw invalidWeights(weights, KEY_CONSTRAINT);
  }
  if (entries.length > 1) {
    throw new InvalidParameterValueException('Number of items in AdditionalVersionWeights cannot be greater than 1');
  }
  const [version, weight] = entries[0] as [string, number];
  if (version === primary) {
    throw new InvalidParameterValueException(
      `Invalid function version ${primary}. Function version ${primary} is already included in routing configuration.`,
    );
  }
  if (primary === '$LATEST') {
    throw new InvalidParameterValueException('$LATEST is not supported for an alias pointing to more than 1 version');
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
