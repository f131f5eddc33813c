/**
 * Reading awsJson1_1 request bodies. A member of the wrong JSON type is a SerializationException
 * (the body does not fit the model); a member that fits but breaks a constraint is collected, and
 * all of them are reported together in AWS's "N validation errors detected: …" wording. The
 * Lambda-specific checks (namespace, dimension, ResourceId) live in `identity.ts`.
 */
import { validationMessage, type Violation } from '../core/errors.js';
import { ScalingValidationException, SerializationException } from './errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

interface Bounds {
  required?: boolean;
  min?: number;
  max?: number;
}

/** Typed reads of one JSON object's members, collecting constraint violations. */
export class Fields {
  private constructor(
    private readonly raw: Json,
    private readonly path: string,
    readonly violations: Violation[],
  ) {}

  static of(body: unknown): Fields {
    if (!isObject(body)) throw new SerializationException('The request body must be a JSON object.');
    return new Fields(body, '', []);
  }

  /** Throws a ValidationException listing every violation collected so far. */
  done(): void {
    if (this.violations.length > 0) throw new ScalingValidationException(validationMessage(this.violations));
  }

  string(name: string, b: Bounds = {}): string | undefined {
    const v = this.present(name, b.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw this.typeError(name, 'a string');
    const min = b.min ?? 1;
    if (v.length < min) this.violate(name, v, `Member must have length greater than or equal to ${min}`);
    if (b.max !== undefined && v.length > b.max) this.violate(name, v, `Member must have length less than or equal to ${b.max}`);
    return v;
  }

  int(name: string, b: Bounds = {}): number | undefined {
    const v = this.present(name, b.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw this.typeError(name, 'an integer');
    this.range(name, v, b);
    return v;
  }

  number(name: string, b: Bounds = {}): number | undefined {
    const v = this.present(name, b.required);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.typeError(name, 'a number');
    this.range(name, v, b);
    return v;
  }

  bool(name: string): boolean | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.typeError(name, 'a boolean');
    return v;
  }

  /** An epoch-seconds timestamp (the SDK's form); an ISO 8601 string is accepted too. Returns epoch seconds. */
  timestamp(name: string): number | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v) / 1000;
    throw this.typeError(name, 'a timestamp in epoch seconds');
  }

  object(name: string, required = false): Fields | undefined {
    const v = this.present(name, required);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw this.typeError(name, 'an object');
    return new Fields(v, this.pathOf(name) + '.', this.violations);
  }

  /** Members of this object as their own Fields, for lists of structures. */
  objectList(name: string): Fields[] | undefined {
    const v = this.present(name, false);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every(isObject)) throw this.typeError(name, 'a list of objects');
    return v.map((item, i) => new Fields(item, `${this.pathOf(name)}.${i + 1}.member.`, this.violations));
  }

  stringList(name: string, b: Bounds = {}): string[] | undefined {
    const v = this.present(name, b.required);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw this.typeError(name, 'a list of strings');
    if (b.max !== undefined && v.length > b.max) this.violate(name, v, `Member must have length less than or equal to ${b.max}`);
    return v as string[];
  }

  stringMap(name: string, required = false): Record<string, string> | undefined {
    const v = this.present(name, required);
    if (v === undefined) return undefined;
    if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string')) throw this.typeError(name, 'a map of strings');
    return v as Record<string, string>;
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  /** Names of members this object carries, to refuse the ones Laminar does not support. */
  get keys(): string[] {
    return Object.keys(this.raw).filter((k) => this.has(k));
  }

  violate(name: string, value: unknown, constraint: string): void {
    this.violations.push({ field: this.pathOf(name), value, constraint });
  }

  private present(name: string, required: boolean | undefined): unknown {
    const v = this.raw[name];
    if (v === undefined || v === null) {
      if (required) this.violations.push({ field: this.pathOf(name), value: null, constraint: 'Member must not be null' });
      return undefined;
    }
    return v;
  }

  private range(name: string, v: number, b: Bounds): void {
    if (b.min !== undefined && v < b.min) this.violate(name, v, `Member must have value greater than or equal to ${b.min}`);
    if (b.max !== undefined && v > b.max) this.violate(name, v, `Member must have value less than or equal to ${b.max}`);
  }

  private pathOf(name: string): string {
    return this.path + lowerFirst(name);
  }

  private typeError(name: string, what: string): SerializationException {
    return new SerializationException(`Member '${this.pathOf(name)}' must be ${what}.`);
  }
}
