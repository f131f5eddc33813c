/**
 * Request shapes declared as JSON Schema and checked by one compiled validator, the way AWS's
 * front end checks a request against its model before the operation runs. A check answers in
 * AWS's two stages:
 *  1. deserialization: a member of the wrong JSON type (a string where the model has an integer,
 *     a scalar where it has a list or a structure) fails the whole request at once;
 *  2. constraints: every broken length, range, pattern and enum is collected and reported
 *     together in AWS's words (`Value '…' at 'memorySize' failed to satisfy constraint: …`).
 * Explicit `null` for an optional structure member reads as absent, and members the model does
 * not know are dropped (never stored), as AWS's deserializer does.
 *
 * Schemas carry two annotations of their own: `awsPattern` (the pattern as AWS quotes it, where
 * the JavaScript `pattern` must be anchored) and `awsItems` (the constraint text AWS prints for
 * a list whose items fail).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Violation } from './errors.js';

/** A JSON Schema object as the shapes write it. */
export type Shape = Readonly<Record<string, unknown>>;

export { bool, int, list, map, num, str, struct } from './shape-builders.js';

export type ShapeOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; kind: 'type'; message: string }
  | { ok: false; kind: 'constraint'; violations: Violation[] };

export type ShapeCheck<T = unknown> = (data: unknown) => ShapeOutcome<T>;

const ANNOTATIONS = ['awsPattern', 'awsItems'];

function newAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    coerceTypes,
    // Unknown members of a structure (additionalProperties: false) are removed, not refused.
    removeAdditional: true,
    useDefaults: false,
    // AWS's patterns are Java regular expressions; plain (non-unicode) JavaScript ones read them alike.
    unicodeRegExp: false,
    strict: true,
    // A timestamp member may be epoch seconds or an ISO 8601 string.
    allowUnionTypes: true,
  });
  ajv.addVocabulary(ANNOTATIONS);
  return ajv;
}

/** Bodies are JSON: types must match exactly. Query strings are text: numbers are read from it. */
const bodies = newAjv(false);
const queries = newAjv(true);

/** Compiles a shape once; the check it returns is cheap to run per request. */
export function compileShape<T = unknown>(shape: Shape, part: 'body' | 'querystring' = 'body'): ShapeCheck<T> {
  const validate = (part === 'body' ? bodies : queries).compile(shape as Record<string, unknown>);
  return (data: unknown) => check<T>(validate, shape, data ?? {});
}

function check<T>(validate: ValidateFunction, shape: Shape, data: unknown): ShapeOutcome<T> {
  dropNullMembers(data, shape);
  if (validate(data)) return { ok: true, value: data as T };
  const errors = validate.errors ?? [];
  const typeError = errors.find((e) => e.keyword === 'type');
  if (typeError) return { ok: false, kind: 'type', message: typeMessage(typeError, shape) };
  return { ok: false, kind: 'constraint', violations: violations(errors, data, shape) };
}

/** `null` for a structure member means "not given" (AWS reads it so); map values keep theirs and fail. */
function dropNullMembers(data: unknown, shape: Shape): void {
  if (typeof data !== 'object' || data === null) return;
  if (Array.isArray(data)) {
    const items = shape.items as Shape | undefined;
    if (items) for (const item of data) dropNullMembers(item, items);
    return;
  }
  const props = shape.properties as Record<string, Shape> | undefined;
  if (!props) return;
  const record = data as Record<string, unknown>;
  for (const [key, sub] of Object.entries(props)) {
    if (!Object.hasOwn(record, key)) continue;
    if (record[key] === null) delete record[key];
    else dropNullMembers(record[key], sub);
  }
}

// ---- stage 1: wrong JSON types ----

const TYPE_WORDS: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'a JSON object',
  array: 'a list',
};

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a JSON object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}

/** `/Environment/Variables/KEY` → `Environment.Variables.KEY`; list items as `Architectures[0]`. */
function memberPath(instancePath: string, shape: Shape): string {
  let out = '';
  let schema: Shape | undefined = shape;
  for (const seg of instancePath.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += schema?.type === 'array' ? `[${s}]` : out === '' ? s : `.${s}`;
    const props = schema?.properties as Record<string, Shape> | undefined;
    schema = props?.[s] ?? (schema?.items as Shape | undefined) ?? (schema?.additionalProperties as Shape | undefined);
  }
  return out;
}

function typeMessage(e: ErrorObject, shape: Shape): string {
  const wanted = String((e.params as { type?: string | string[] }).type);
  const words = TYPE_WORDS[wanted] ?? wanted;
  if (e.instancePath === '') return `The request must be ${words}, not ${jsonTypeOf(e.data)}.`;
  return `Could not deserialize the request: '${memberPath(e.instancePath, shape)}' must be ${words}, not ${jsonTypeOf(e.data)}.`;
}

// ---- stage 2: constraints, in AWS's words ----

/** AWS names members in camelCase paths: `EphemeralStorage/Size` → `ephemeralStorage.size`. */
function awsField(segments: readonly string[]): string {
  return segments.map((s) => s.charAt(0).toLowerCase() + s.slice(1)).join('.');
}

/** Java's rendering of a double: 2 → `2.0`. */
function javaDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function bound(n: number, schema: Shape): string {
  return schema.type === 'number' ? javaDouble(n) : String(n);
}

/** The constraints one scalar schema declares, in the order AWS lists them. */
function describe(schema: Shape): string[] {
  const out: string[] = [];
  if (typeof schema.maxLength === 'number') out.push(`Member must have length less than or equal to ${schema.maxLength}`);
  if (typeof schema.minLength === 'number') out.push(`Member must have length greater than or equal to ${schema.minLength}`);
  if (typeof schema.maximum === 'number') out.push(`Member must have value less than or equal to ${bound(schema.maximum, schema)}`);
  if (typeof schema.minimum === 'number') out.push(`Member must have value greater than or equal to ${bound(schema.minimum, schema)}`);
  const pattern = (schema.awsPattern as string | undefined) ?? (schema.pattern as string | undefined);
  if (pattern !== undefined) out.push(`Member must satisfy regular expression pattern: ${pattern}`);
  if (Array.isArray(schema.enum)) out.push(`Member must satisfy enum value set: [${schema.enum.join(', ')}]`);
  return out;
}

function single(e: ErrorObject): string {
  const s = e.parentSchema as Shape;
  switch (e.keyword) {
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return `Member must have length less than or equal to ${String(e.schema)}`;
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return `Member must have length greater than or equal to ${String(e.schema)}`;
    case 'maximum':
      return `Member must have value less than or equal to ${bound(e.schema as number, s)}`;
    case 'minimum':
      return `Member must have value greater than or equal to ${bound(e.schema as number, s)}`;
    case 'pattern':
      return `Member must satisfy regular expression pattern: ${(s.awsPattern as string | undefined) ?? String(e.schema)}`;
    case 'enum':
      return `Member must satisfy enum value set: [${(e.schema as unknown[]).join(', ')}]`;
    case 'required':
      return 'Member must not be null';
    default:
      return e.message ?? e.keyword;
  }
}

/** Renders a value as AWS's (Java) messages do: lists `[a, b]`, maps `{k=v}`, doubles `2.0`. */
function render(value: unknown, numberAsDouble = false): unknown {
  if (Array.isArray(value)) return `[${value.map((v) => String(render(v, numberAsDouble))).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${k}=${String(render(v, numberAsDouble))}`);
    return `{${entries.join(', ')}}`;
  }
  if (typeof value === 'number' && numberAsDouble) return javaDouble(value);
  return value;
}

interface Located {
  /** The schema of the value AWS blames (the list or map for errors inside one). */
  schema: Shape;
  segments: string[];
  value: unknown;
  /** Set when the error is about an item of a list or a key or value of a map. */
  inside?: 'item' | 'mapValue' | 'mapKey';
}

/**
 * Finds the member AWS names for an error. Errors inside a list or a map are reported on the
 * list or map as a whole, as AWS does.
 */
function locate(e: ErrorObject, root: unknown, rootShape: Shape): Located {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') segments.push((e.params as { missingProperty: string }).missingProperty);
  let schema = rootShape;
  let value: unknown = root;
  const names: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const props = schema.properties as Record<string, Shape> | undefined;
    if (props && Object.hasOwn(props, seg)) {
      schema = props[seg] as Shape;
      value = (value as Record<string, unknown> | undefined)?.[seg];
      names.push(seg);
      continue;
    }
    // A list of structures: AWS names the member inside, counting items from 1 (`dimensions.1.member.name`).
    const items = schema.items as Shape | undefined;
    if (schema.type === 'array' && items?.type === 'object' && items.properties !== undefined && /^\d+$/.test(seg)) {
      value = (value as unknown[] | undefined)?.[Number(seg)];
      names.push(String(Number(seg) + 1), 'member');
      schema = items;
      continue;
    }
    // Inside a list of scalars or a map: AWS blames the container.
    if (schema.type === 'array') return { schema, segments: names, value, inside: 'item' };
    if (e.keyword === 'pattern' && e.propertyName !== undefined) return { schema, segments: names, value, inside: 'mapKey' };
    return { schema, segments: names, value, inside: 'mapValue' };
  }
  if (e.propertyName !== undefined) return { schema, segments: names, value, inside: 'mapKey' };
  return { schema, segments: names, value: e.keyword === 'required' ? null : value };
}

function violations(errors: readonly ErrorObject[], data: unknown, shape: Shape): Violation[] {
  const out: Violation[] = [];
  const seenContainers = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'propertyNames' || e.keyword === 'if') continue;
    const at = locate(e, data, shape);
    const field = awsField(at.segments);
    if (at.inside === undefined) {
      out.push({ field, value: at.value === null ? null : render(at.value), constraint: single(e) });
      continue;
    }
    // One violation per container, listing the constraints its members must meet.
    const key = `${at.inside}:${field}`;
    if (seenContainers.has(key)) continue;
    seenContainers.add(key);
    out.push({ field, value: render(at.value, numberMap(at.schema)), constraint: containerConstraint(at) });
  }
  return out;
}

function numberMap(schema: Shape): boolean {
  const values = schema.additionalProperties as Shape | undefined;
  return typeof values === 'object' && values.type === 'number';
}

function containerConstraint(at: Located): string {
  const s = at.schema;
  if (at.inside === 'item') {
    if (typeof s.awsItems === 'string') return s.awsItems;
    return `Member must satisfy constraint: [${describe(s.items as Shape).join(', ')}]`;
  }
  if (at.inside === 'mapKey') return `Map keys must satisfy constraint: [${describe(s.propertyNames as Shape).join(', ')}]`;
  return `Map value must satisfy constraint: [${[...describe(s.additionalProperties as Shape), 'Member must not be null'].join(', ')}]`;
}
