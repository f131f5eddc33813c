import type { AdmissionKind } from '../scheduler/admission/admit.js';

/**
 * Checks on what the ledger's scripts answer. node-redis types replies loosely; these turn them
 * into the shapes the scripts promise, and a script that answers otherwise is a bug that should
 * fail loudly rather than be read as a count.
 */

export function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError(`Expected a list from Redis, got ${describe(reply)}`);
  return reply;
}

export function asString(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString();
  throw new TypeError(`Expected a string from Redis, got ${describe(reply)}`);
}

export function asInteger(reply: unknown): number {
  const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  if (!Number.isSafeInteger(n)) throw new TypeError(`Expected an integer from Redis, got ${describe(reply)}`);
  return n;
}

/** A flat field/value list (HGETALL inside a script) of whole numbers, as a map. */
export function flatMap(reply: unknown): Map<string, number> {
  const flat = asArray(reply);
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < flat.length; i += 2) out.set(asString(flat[i]), asInteger(flat[i + 1]));
  return out;
}

/** A lease member, `kind|owner|seq|function` (the function last: it is the only free-form part). */
export function parseMember(member: string): { owner: string; functionName: string; kind: AdmissionKind } {
  const m = /^([op])\|([^|]*)\|[^|]*\|(.*)$/s.exec(member);
  if (!m) throw new TypeError(`Not a lease: ${member}`);
  return { kind: m[1] === 'p' ? 'provisioned' : 'on-demand', owner: m[2] as string, functionName: m[3] as string };
}

function describe(reply: unknown): string {
  const text = JSON.stringify(reply) ?? String(reply);
  return text.length > 80 ? text.slice(0, 80) + '…' : text;
}
