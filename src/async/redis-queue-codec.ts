/**
 * Between the Redis event queue's replies and the port's types: pure functions, no I/O. Replies
 * arrive with every bulk string as a Buffer (payloads are bytes); numbers that Redis keeps as
 * strings (times, counters) are parsed here.
 */
import { ZERO_COUNTERS, type AttemptRecord, type EventCounters, type FailedEvent, type QueuedEvent } from './queue.js';

/** What a script reply can hold once bulk strings map to Buffers. */
export type Reply = null | number | Buffer | Reply[];

/** A reply that is not the shape a script returns means the keys were written by something else. */
export class MalformedQueueReplyError extends Error {
  constructor(what: string) {
    super(`The Redis event queue read ${what}; its keys were changed outside Laminar`);
    this.name = new.target.name;
  }
}

export function isReply(x: unknown): x is Reply {
  return x === null || typeof x === 'number' || Buffer.isBuffer(x) || (Array.isArray(x) && x.every(isReply));
}

export function text(x: Reply | undefined, what = 'a value'): string {
  if (Buffer.isBuffer(x)) return x.toString('utf8');
  if (typeof x === 'number') return String(x);
  throw new MalformedQueueReplyError(`no string where ${what} belongs`);
}

export function num(x: Reply | undefined, what = 'a number'): number {
  const n = Number(text(x, what));
  if (!Number.isFinite(n)) throw new MalformedQueueReplyError(`${what} that is not a number`);
  return n;
}

export function list(x: Reply | undefined, what = 'a list'): Reply[] {
  if (!Array.isArray(x)) throw new MalformedQueueReplyError(`no list where ${what} belongs`);
  return x;
}

/** A flat `field, value, ...` list (HGETALL) as a map of field to bytes. */
export function fields(flat: readonly Reply[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const v = flat[i + 1];
    if (!Buffer.isBuffer(v)) throw new MalformedQueueReplyError('a hash field without bytes');
    out.set(text(flat[i]), v);
  }
  return out;
}

function required(f: ReadonlyMap<string, Buffer>, name: string): Buffer {
  const v = f.get(name);
  if (v === undefined) throw new MalformedQueueReplyError(`an event without its "${name}" field`);
  return v;
}

function int(f: ReadonlyMap<string, Buffer>, name: string): number {
  return num(required(f, name), `the event's "${name}"`);
}

/** The event stored in hash `f`, due at `runAt`. */
export function toEvent(id: string, runAt: number, f: ReadonlyMap<string, Buffer>): QueuedEvent {
  const e: QueuedEvent = {
    id,
    functionName: required(f, 'fn').toString('utf8'),
    payload: required(f, 'p'),
    requestId: required(f, 'rid').toString('utf8'),
    acceptedAt: int(f, 'acc'),
    runAt,
    counters: { invocations: int(f, 'inv'), functionErrors: int(f, 'fe'), throttles: int(f, 'thr') },
    deliveries: int(f, 'del'),
  };
  const q = f.get('q');
  if (q !== undefined) e.qualifier = q.toString('utf8');
  const la = f.get('la');
  if (la !== undefined) {
    e.lastAttempt = JSON.parse(la.toString('utf8')) as AttemptRecord;
    const lr = f.get('lr');
    if (lr !== undefined) e.lastAttempt.responsePayload = lr;
  }
  return e;
}

/** A reply of the form `{ id, runAt, field, value, ... }` (lease, replay). */
export function toEventReply(r: Reply): QueuedEvent {
  const [id, runAt, ...rest] = list(r, 'an event');
  return toEvent(text(id, 'an id'), num(runAt, 'a due time'), fields(rest));
}

/** One row of LIST_FAILED: `{ id, field, value, ... }`. */
export function toFailed(r: Reply): FailedEvent {
  const [id, ...rest] = list(r, 'a failed event');
  const f = fields(rest);
  const dest = f.get('dest');
  return {
    ...toEvent(text(id, 'an id'), int(f, 'run'), f),
    reason: required(f, 'reason').toString('utf8'),
    failedAt: int(f, 'fat'),
    destinations: dest === undefined ? [] : (JSON.parse(dest.toString('utf8')) as string[]),
  };
}

/** The record as stored: its bytes apart from the JSON, as the SQLite queue keeps them. */
export function attemptArgs(a: AttemptRecord): { json: string; response?: Buffer } {
  const { responsePayload, ...rest } = a;
  return responsePayload === undefined ? { json: JSON.stringify(rest) } : { json: JSON.stringify(rest), response: responsePayload };
}

export function counterArgs(c: EventCounters = ZERO_COUNTERS): string[] {
  return [String(c.invocations), String(c.functionErrors), String(c.throttles)];
}

/** Ids are positive integers (INCR); anything else names no event and must not reach a key name. */
export function validId(id: string): boolean {
  return /^[1-9][0-9]{0,15}$/.test(id);
}
