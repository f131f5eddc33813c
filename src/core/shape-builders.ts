/**
 * Builders of request shapes (JSON Schema) in AWS's model terms: strings with AWS's patterns,
 * integers and doubles with ranges, structures that drop unknown members, lists and maps.
 */
import type { Shape } from './shape.js';

/** A string member; `pattern` is AWS's, anchored here because JSON Schema patterns are not. */
export function str(o: { min?: number; max?: number; pattern?: string; enum?: readonly string[] } = {}): Shape {
  return {
    type: 'string',
    ...(o.min !== undefined ? { minLength: o.min } : {}),
    ...(o.max !== undefined ? { maxLength: o.max } : {}),
    ...(o.pattern !== undefined ? { pattern: `^(?:${o.pattern})$`, awsPattern: o.pattern } : {}),
    ...(o.enum !== undefined ? { enum: [...o.enum] } : {}),
  };
}

export function int(o: { min?: number; max?: number } = {}): Shape {
  return { type: 'integer', ...(o.min !== undefined ? { minimum: o.min } : {}), ...(o.max !== undefined ? { maximum: o.max } : {}) };
}

/** A double member (AWS prints its bounds as `1.0`). */
export function num(o: { min?: number; max?: number } = {}): Shape {
  return { type: 'number', ...(o.min !== undefined ? { minimum: o.min } : {}), ...(o.max !== undefined ? { maximum: o.max } : {}) };
}

export const bool: Shape = { type: 'boolean' };

/** A structure: known members only (others are dropped), some required. */
export function struct(properties: Record<string, Shape>, required: readonly string[] = []): Shape {
  return { type: 'object', properties, additionalProperties: false, ...(required.length > 0 ? { required: [...required] } : {}) };
}

export function list(items: Shape, o: { min?: number; max?: number; awsItems?: string } = {}): Shape {
  return {
    type: 'array',
    items,
    ...(o.min !== undefined ? { minItems: o.min } : {}),
    ...(o.max !== undefined ? { maxItems: o.max } : {}),
    ...(o.awsItems !== undefined ? { awsItems: o.awsItems } : {}),
  };
}

export function map(values: Shape, keys?: Shape): Shape {
  return { type: 'object', additionalProperties: values, ...(keys ? { propertyNames: keys } : {}) };
}
