/**
 * The one conformance suite of the EventQueue port: every implementation runs it unchanged
 * (SQLite and memory now, Redis later), so the embedded queue stays the reference and no
 * implementation drifts. Time is a plain number moved by the test; no test sleeps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_PAYLOAD_BYTES, EventPayloadTooLargeError, type EventQueue, type NewEvent } from '../../../src/async/queue.js';

export interface QueueHarness {
  queue: EventQueue;
  /**
   * Closes the queue and opens a new one on the same storage (a restart). Absent for an
   * implementation that keeps nothing across restarts; the durability tests are skipped for it.
   */
  reopen?: () => Promise<EventQueue>;
  /** Closes whatever is open and removes the storage. */
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const VIS = 30_000;

function ev(functionName: string, n = 0, over: Partial<NewEvent> = {}): NewEvent {
  return { functionName, payload: Buffer.from(JSON.stringify({ n })), requestId: `req-${functionName}-${n}`, acceptedAt: T0, ...over };
}

export interface ConformanceOptions {
  /** The implementation keeps events across a restart (its harness has `reopen`). */
  durable: boolean;
}

export function queueConformance(name: string, make: () => Promise<QueueHarness>, opts: ConformanceOptions): void {
  async function withQueue(fn: (q: EventQueue, h: QueueHarness) => Promise<void>): Promise<void> {
    const h = await make();
    try {
      await fn(h.queue, h);
    } finally {
      await h.cleanup();
    }
  }

  describe(`EventQueue conformance: ${name}`, () => {
    it('enqueue, lease, complete: the event is handed out once and then gone', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a', 1, { qualifier: 'live' }));
        expect(e).toMatchObject({ functionName: 'a', qualifier: 'live', requestId: 'req-a-1', acceptedAt: T0, runAt: T0, deliveries: 0 });
        expect(e.counters).toEqual({ invocations: 0, functionErrors: 0, throttles: 0 });
        const l = await q.lease(T0, VIS);
        expect(l).toBeDefined();
        expect(l!.event).toMatchObject({ id: e.id, functionName: 'a', qualifier: 'live', requestId: 'req-a-1', deliveries: 1 });
        expect(l!.expiresAt).toBe(T0 + VIS);
        expect(await q.lease(T0, VIS)).toBeUndefined();
        expect(await q.depth('a')).toBe(1);
        expect(await q.complete(e.id, l!.token)).toBe(true);
        expect(await q.depth('a')).toBe(0);
        expect(await q.lease(T0 + 10 * VIS, VIS)).toBeUndefined();
        expect(await q.complete(e.id, l!.token)).toBe(false);
      }));

    it('an unqualified event has no qualifier', () =>
      withQueue(async (q) => {
        await q.enqueue(ev('a'));
        const l = await q.lease(T0, VIS);
        expect(l!.event.qualifier).toBeUndefined();
        expect('qualifier' in l!.event).toBe(false);
      }));

    it('an event is not leased before its run time', () =>
      withQueue(async (q) => {
        await q.enqueue(ev('a', 1, { runAt: T0 + 5000 }));
        expect(await q.nextDueAt()).toBe(T0 + 5000);
        expect(await q.lease(T0 + 4999, VIS)).toBeUndefined();
        expect((await q.lease(T0 + 5000, VIS))?.event.runAt).toBe(T0 + 5000);
      }));

    it('within a function, the event due first goes first; ties in enqueue order', () =>
      withQueue(async (q) => {
        await q.enqueue(ev('a', 1, { runAt: T0 + 2 }));
        await q.enqueue(ev('a', 2, { runAt: T0 + 1 }));
        await q.enqueue(ev('a', 3, { runAt: T0 + 1 }));
        const order: string[] = [];
        for (let i = 0; i < 3; i++) order.push((await q.lease(T0 + 10, VIS))!.event.requestId);
        expect(order).toEqual(['req-a-2', 'req-a-3', 'req-a-1']);
      }));

    it('a lease expires after the visibility timeout; the old token is then refused', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a'));
        const first = (await q.lease(T0, VIS))!;
        expect(await q.lease(T0 + VIS - 1, VIS)).toBeUndefined();
        expect(await q.nextDueAt()).toBe(T0 + VIS);
        const second = (await q.lease(T0 + VIS, VIS))!;
        expect(second.event.id).toBe(e.id);
        expect(second.event.deliveries).toBe(2);
        expect(second.token).not.toBe(first.token);
        expect(await q.complete(e.id, first.token)).toBe(false);
        expect(await q.reschedule(e.id, first.token, T0, { invocations: 9, functionErrors: 9, throttles: 9 })).toBe(false);
        expect(await q.fail(e.id, first.token, 'RetriesExhausted', T0)).toBe(false);
        expect(await q.extend(e.id, first.token, T0 + 10 * VIS)).toBe(false);
        expect(await q.depth('a')).toBe(1);
        expect(await q.complete(e.id, second.token)).toBe(true);
      }));

    it('a holder whose lease ran out may still finish while nobody has leased the event again', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a'));
        const l = (await q.lease(T0, VIS))!;
        expect(await q.complete(e.id, l.token)).toBe(true);
      }));

    it('unknown ids and made-up tokens are refused', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a'));
        await q.lease(T0, VIS);
        expect(await q.complete(e.id, 'not-the-token')).toBe(false);
        expect(await q.complete('999999', 'x')).toBe(false);
        expect(await q.complete('nonsense', 'x')).toBe(false);
        expect(await q.replay('999999', T0)).toBeUndefined();
      }));

    it('extend keeps a lease alive past its visibility timeout', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a'));
        const l = (await q.lease(T0, VIS))!;
        expect(await q.extend(e.id, l.token, T0 + 3 * VIS)).toBe(true);
        expect(await q.lease(T0 + 2 * VIS, VIS)).toBeUndefined();
        expect(await q.complete(e.id, l.token)).toBe(true);
      }));

    it('reschedule releases the lease until the new run time and stores counters and the last attempt', () =>
      withQueue(async (q) => {
        const e = await q.enqueue(ev('a'));
        const l = (await q.lease(T0, VIS))!;
        const counters = { invocations: 1, functionErrors: 1, throttles: 0 };
        const attempt = { at: T0 + 5, statusCode: 200, functionError: 'Unhandled', executedVersion: '$LATEST', responsePayload: Buffer.from('{"errorType":"Error"}') };
        expect(await q.reschedule(e.id, l.token, T0 + 60_000, counters, attempt)).toBe(true);
        expect(await q.complete(e.id, l.token)).toBe(false);
        expect(await q.lease(T0 + 59_999, VIS)).toBeUndefined();
        const again = (await q.lease(T0 + 60_000, VIS))!;
        expect(again.event.counters).toEqual(counters);
        expect(again.event.runAt).toBe(T0 + 60_000);
        expect(again.event.acceptedAt).toBe(T0);
        expect(again.event.lastAttempt).toMatchObject({ at: T0 + 5, statusCode: 200, functionError: 'Unhandled', executedVersion: '$LATEST' });
        expect(again.event.lastAttempt!.responsePayload!.toString()).toBe('{"errorType":"Error"}');
        // A reschedule without a record keeps the one stored before.
        expect(await q.reschedule(e.id, again.token, T0 + 60_001, { ...counters, throttles: 1 })).toBe(true);
        const third = (await q.lease(T0 + 60_001, VIS))!;
        expect(third.event.counters.throttles).toBe(1);
        expect(third.event.lastAttempt?.functionError).toBe('Unhandled');
      }));

    it('fairness: a 10,000-event backlog of one function does not delay another function’s single event', () =>
      withQueue(async (q) => {
        await Promise.all(Array.from({ length: 10_000 }, (_, i) => q.enqueue(ev('a-backlog', i))));
        await q.enqueue(ev('b-single', 0, { acceptedAt: T0 + 1 }));
        const first = (await q.lease(T0 + 1, VIS))!;
        const second = (await q.lease(T0 + 1, VIS))!;
        expect([first.event.functionName, second.event.functionName].sort()).toEqual(['a-backlog', 'b-single']);
        // And in turn thereafter: three functions with backlogs share leases evenly.
        for (let i = 0; i < 5; i++) await q.enqueue(ev('c', i));
        const names: string[] = [];
        for (let i = 0; i < 6; i++) names.push((await q.lease(T0 + 2, VIS))!.event.functionName);
        expect(names.filter((n) => n === 'c')).toHaveLength(3);
        expect(names.filter((n) => n === 'a-backlog')).toHaveLength(3);
      }), 60_000);

    it('per-function in-flight caps: never more leased than the cap; expired and finished leases free a slot', () =>
      withQueue(async (q) => {
        for (let i = 0; i < 10; i++) await q.enqueue(ev('capped', i));
        await q.enqueue(ev('free', 0));
        const caps = new Map([['capped', 2]]);
        const leases = [];
        for (let i = 0; i < 5; i++) {
          const l = await q.lease(T0, VIS, { caps });
          if (l) leases.push(l);
        }
        expect(leases.filter((l) => l.event.functionName === 'capped')).toHaveLength(2);
        const free = leases.find((l) => l.event.functionName === 'free')!;
        expect(await q.complete(free.event.id, free.token)).toBe(true);
        expect(await q.lease(T0, VIS, { caps })).toBeUndefined();
        const c = leases.find((l) => l.event.functionName === 'capped')!;
        expect(await q.complete(c.event.id, c.token)).toBe(true);
        expect((await q.lease(T0, VIS, { caps }))?.event.functionName).toBe('capped');
        expect(await q.lease(T0, VIS, { caps })).toBeUndefined();
        // Once both leases expire, both slots are free again (the events are due again too).
        const later = [await q.lease(T0 + VIS, VIS, { caps }), await q.lease(T0 + VIS, VIS, { caps }), await q.lease(T0 + VIS, VIS, { caps })];
        expect(later.filter(Boolean)).toHaveLength(2);
        // A cap of 0 leases nothing; without caps everything due is available.
        expect(await q.lease(T0 + 2 * VIS, VIS, { caps: new Map([['capped', 0]]) })).toBeUndefined();
        expect(await q.lease(T0 + 2 * VIS, VIS)).toBeDefined();
      }));

    it('a default cap applies to every function the caps do not name', () =>
      withQueue(async (q) => {
        for (let i = 0; i < 3; i++) await q.enqueue(ev('named', i));
        for (let i = 0; i < 3; i++) await q.enqueue(ev('other', i));
        // Only the named function is leased while the default is 0: a full shared pool.
        const opts = { caps: new Map([['named', 2]]), defaultCap: 0 };
        const first = [await q.lease(T0, VIS, opts), await q.lease(T0, VIS, opts), await q.lease(T0, VIS, opts)];
        expect(first.filter(Boolean).map((l) => l!.event.functionName)).toEqual(['named', 'named']);
        // A default of 1 lets each unnamed function have one lease.
        const one = { caps: new Map([['named', 2]]), defaultCap: 1 };
        expect((await q.lease(T0, VIS, one))?.event.functionName).toBe('other');
        expect(await q.lease(T0, VIS, one)).toBeUndefined();
      }));

    it('fail moves the event to the failed store; listFailed pages it; replay queues it afresh', () =>
      withQueue(async (q) => {
        const events = [];
        for (let i = 0; i < 3; i++) events.push(await q.enqueue(ev('f', i)));
        await q.enqueue(ev('other', 0));
        const attempt = { at: T0 + 7, statusCode: 200, functionError: 'Unhandled', responsePayload: Buffer.from('{"errorMessage":"boom"}') };
        for (let i = 0; i < 4; i++) {
          const l = (await q.lease(T0, VIS))!;
          if (l.event.functionName === 'other') continue;
          const counters = { invocations: 3, functionErrors: 3, throttles: 0 };
          expect(await q.reschedule(l.event.id, l.token, T0, counters)).toBe(true);
          const again = (await q.lease(T0 + 1, VIS, { caps: new Map([['other', 0]]) }))!;
          expect(again.event.id).toBe(l.event.id);
          // The first keeps the targets it was bound for and its final counters; the others name none.
          const ending =
            again.event.id === events[0]!.id
              ? { lastAttempt: attempt, counters: { invocations: 4, functionErrors: 4, throttles: 1 }, destinations: ['arn:aws:sqs:us-east-1:000000000000:dlq', 'arn:aws:sns:us-east-1:000000000000:t'] }
              : { lastAttempt: attempt };
          expect(await q.fail(again.event.id, again.token, 'RetriesExhausted', T0 + 9, ending)).toBe(true);
          expect(await q.complete(again.event.id, again.token)).toBe(false);
        }
        expect(await q.depth('f')).toBe(0);
        const failed = await q.listFailed('f');
        expect(failed.map((f) => f.id)).toEqual(events.map((e) => e.id));
        expect(failed[0]).toMatchObject({ functionName: 'f', reason: 'RetriesExhausted', failedAt: T0 + 9, acceptedAt: T0 });
        expect(failed[0]!.counters).toEqual({ invocations: 4, functionErrors: 4, throttles: 1 });
        expect(failed[1]!.counters).toEqual({ invocations: 3, functionErrors: 3, throttles: 0 });
        expect(failed[0]!.lastAttempt?.responsePayload?.toString()).toBe('{"errorMessage":"boom"}');
        expect(failed[0]!.payload.toString()).toBe('{"n":0}');
        expect(failed[0]!.destinations).toEqual(['arn:aws:sqs:us-east-1:000000000000:dlq', 'arn:aws:sns:us-east-1:000000000000:t']);
        expect(failed[1]!.destinations).toEqual([]);
        expect(await q.listFailed('other')).toEqual([]);
        const page1 = await q.listFailed('f', { limit: 2 });
        const page2 = await q.listFailed('f', { limit: 2, after: page1[1]!.id });
        expect([...page1, ...page2].map((f) => f.id)).toEqual(events.map((e) => e.id));

        const replayed = (await q.replay(events[1]!.id, T0 + 100))!;
        expect(replayed).toMatchObject({ id: events[1]!.id, functionName: 'f', requestId: 'req-f-1', acceptedAt: T0 + 100, runAt: T0 + 100 });
        expect(replayed.counters).toEqual({ invocations: 0, functionErrors: 0, throttles: 0 });
        expect(await q.replay(events[1]!.id, T0 + 100)).toBeUndefined();
        expect((await q.listFailed('f')).map((f) => f.id)).toEqual([events[0]!.id, events[2]!.id]);
        expect(await q.depth('f')).toBe(1);
        const l = (await q.lease(T0 + 100, VIS, { caps: new Map([['other', 0]]) }))!;
        expect(l.event).toMatchObject({ id: events[1]!.id, requestId: 'req-f-1' });
        expect(l.event.payload.toString()).toBe('{"n":1}');
        expect(await q.complete(l.event.id, l.token)).toBe(true);
      }));

    it('depth per function and overall; functions that drained read 0; oldest age', () =>
      withQueue(async (q) => {
        expect(await q.depth()).toEqual(new Map());
        expect(await q.oldestAge('a', T0)).toBeUndefined();
        expect(await q.nextDueAt()).toBeUndefined();
        await q.enqueue(ev('a', 1, { acceptedAt: T0 + 10 }));
        await q.enqueue(ev('a', 2, { acceptedAt: T0 + 20 }));
        const b = await q.enqueue(ev('b', 1, { acceptedAt: T0 + 30 }));
        expect(await q.depth()).toEqual(new Map([['a', 2], ['b', 1]]));
        expect(await q.depth('a')).toBe(2);
        expect(await q.depth('nobody')).toBe(0);
        expect(await q.oldestAge('a', T0 + 100)).toBe(90);
        expect(await q.oldestAge('b', T0 + 100)).toBe(70);
        // Leased events still count: they are accepted and not finished.
        const caps = new Map([['a', 0]]);
        const l = (await q.lease(T0 + 100, VIS, { caps }))!;
        expect(l.event.id).toBe(b.id);
        expect(await q.depth('b')).toBe(1);
        await q.complete(b.id, l.token);
        expect(await q.depth()).toEqual(new Map([['a', 2], ['b', 0]]));
        expect(await q.oldestAge('b', T0 + 100)).toBeUndefined();
      }));

    it('payload bytes are kept exactly, binary and at the 1 MB limit; above it enqueue refuses', () =>
      withQueue(async (q) => {
        const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const big = Buffer.alloc(MAX_EVENT_PAYLOAD_BYTES);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
        await q.enqueue(ev('bin', 0, { payload: binary }));
        await q.enqueue(ev('bin', 1, { payload: big }));
        await q.enqueue(ev('bin', 2, { payload: Buffer.alloc(0) }));
        await expect(q.enqueue(ev('bin', 3, { payload: Buffer.alloc(MAX_EVENT_PAYLOAD_BYTES + 1) }))).rejects.toBeInstanceOf(EventPayloadTooLargeError);
        const got = [];
        for (let i = 0; i < 3; i++) got.push((await q.lease(T0, VIS))!.event.payload);
        expect(Buffer.compare(got[0]!, binary)).toBe(0);
        expect(Buffer.compare(got[1]!, big)).toBe(0);
        expect(got[2]!.length).toBe(0);
        expect(await q.depth('bin')).toBe(3);
      }));

    // Only durable implementations promise a restart; the memory queue declares it is not one.
    if (opts.durable) it('restart: everything is still there, and a lease held at close is re-leasable after its visibility timeout', async () => {
      const h = await make();
      try {
        if (!h.reopen) throw new Error('a durable implementation’s harness must be able to reopen it');
        let q = h.queue;
        const kept = await q.enqueue(ev('r', 1, { qualifier: '3', payload: Buffer.from([0, 1, 2, 255]) }));
        const held = await q.enqueue(ev('r', 2));
        const done = await q.enqueue(ev('r', 3));
        const failed = await q.enqueue(ev('r', 4));
        const later = await q.enqueue(ev('r', 5, { runAt: T0 + 1_000_000 }));
        const leases = new Map<string, string>();
        for (let i = 0; i < 4; i++) {
          const l = (await q.lease(T0, VIS))!;
          leases.set(l.event.id, l.token);
        }
        expect(await q.complete(done.id, leases.get(done.id)!)).toBe(true);
        expect(await q.fail(failed.id, leases.get(failed.id)!, 'EventAgeExceeded', T0)).toBe(true);
        expect(await q.reschedule(kept.id, leases.get(kept.id)!, T0 + 5, { invocations: 1, functionErrors: 1, throttles: 0 })).toBe(true);

        q = await h.reopen();
        expect(await q.depth('r')).toBe(3);
        expect((await q.listFailed('r')).map((f) => f.id)).toEqual([failed.id]);
        const first = (await q.lease(T0 + 5, VIS))!;
        expect(first.event).toMatchObject({ id: kept.id, qualifier: '3', counters: { invocations: 1, functionErrors: 1, throttles: 0 } });
        expect([...first.event.payload]).toEqual([0, 1, 2, 255]);
        expect(await q.complete(kept.id, first.token)).toBe(true);
        expect(await q.lease(T0 + VIS - 1, VIS)).toBeUndefined();
        // The lease taken before the restart still stands until it expires, and its token too.
        const again = (await q.lease(T0 + VIS, VIS))!;
        expect(again.event.id).toBe(held.id);
        expect(await q.complete(held.id, leases.get(held.id)!)).toBe(false);
        expect(await q.complete(held.id, again.token)).toBe(true);
        expect((await q.lease(T0 + 1_000_000, VIS))?.event.id).toBe(later.id);
        expect((await q.replay(failed.id, T0))?.id).toBe(failed.id);
      } finally {
        await h.cleanup();
      }
    });

    it('no event is lost or handed to two holders at once under random interleavings (property)', async () => {
      type Op =
        | { op: 'enqueue'; fn: number; delay: number }
        | { op: 'lease'; vis: number }
        | { op: 'complete'; pick: number }
        | { op: 'reschedule'; pick: number; delay: number }
        | { op: 'fail'; pick: number }
        | { op: 'advance'; ms: number };
      const opArb: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ op: fc.constant('enqueue' as const), fn: fc.nat(2), delay: fc.oneof(fc.constant(0), fc.nat(50)) }),
        fc.record({ op: fc.constant('lease' as const), vis: fc.integer({ min: 1, max: 40 }) }),
        fc.record({ op: fc.constant('complete' as const), pick: fc.nat() }),
        fc.record({ op: fc.constant('reschedule' as const), pick: fc.nat(), delay: fc.nat(30) }),
        fc.record({ op: fc.constant('fail' as const), pick: fc.nat() }),
        fc.record({ op: fc.constant('advance' as const), ms: fc.nat(30) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 30, maxLength: 150 }), async (ops) => {
          const h = await make();
          try {
            const q = h.queue;
            let now = T0;
            /** The model: each live event's due time and current token. */
            const model = new Map<string, { dueAt: number; token?: string }>();
            const finished = new Set<string>();
            const failedIds = new Set<string>();
            /** Every token ever handed out, stale ones included, so refusals are exercised. */
            const tokens: { id: string; token: string }[] = [];
            let seq = 0;
            for (const o of ops) {
              switch (o.op) {
                case 'enqueue': {
                  const e = await q.enqueue({ functionName: `fn${o.fn}`, payload: Buffer.from([seq & 0xff]), requestId: `r${seq++}`, acceptedAt: now, runAt: now + o.delay });
                  expect(model.has(e.id) || finished.has(e.id)).toBe(false);
                  model.set(e.id, { dueAt: now + o.delay });
                  break;
                }
                case 'lease': {
                  const anyDue = [...model.values()].some((m) => m.dueAt <= now);
                  const l = await q.lease(now, o.vis);
                  // Liveness: with no caps, something due is always handed out.
                  expect(l !== undefined).toBe(anyDue);
                  if (!l) break;
                  const m = model.get(l.event.id);
                  expect(m, `leased ${l.event.id}, which is finished or unknown`).toBeDefined();
                  // Never two live holders: whatever lease it had has expired.
                  expect(m!.dueAt).toBeLessThanOrEqual(now);
                  model.set(l.event.id, { dueAt: now + o.vis, token: l.token });
                  tokens.push({ id: l.event.id, token: l.token });
                  break;
                }
                case 'complete':
                case 'reschedule':
                case 'fail': {
                  if (tokens.length === 0) break;
                  const { id, token } = tokens[o.pick % tokens.length]!;
                  const valid = model.get(id)?.token === token;
                  const ok =
                    o.op === 'complete'
                      ? await q.complete(id, token)
                      : o.op === 'fail'
                        ? await q.fail(id, token, 'RetriesExhausted', now)
                        : await q.reschedule(id, token, now + o.delay, { invocations: 1, functionErrors: 0, throttles: 1 });
                  expect(ok).toBe(valid);
                  if (!valid) break;
                  if (o.op === 'reschedule') model.set(id, { dueAt: now + o.delay });
                  else {
                    model.delete(id);
                    (o.op === 'fail' ? failedIds : finished).add(id);
                  }
                  break;
                }
                case 'advance':
                  now += o.ms;
                  break;
              }
              const total = [...(await q.depth()).values()].reduce((a, b) => a + b, 0);
              expect(total).toBe(model.size);
            }
            // Nothing lost: far in the future, every live event is leased exactly once more.
            now += 1_000_000;
            const drained = new Set<string>();
            for (let l = await q.lease(now, 10); l; l = await q.lease(now, 10)) {
              expect(drained.has(l.event.id)).toBe(false);
              drained.add(l.event.id);
              expect(await q.complete(l.event.id, l.token)).toBe(true);
            }
            expect([...drained].sort()).toEqual([...model.keys()].sort());
            const listed = (await Promise.all([0, 1, 2].map((i) => q.listFailed(`fn${i}`, { limit: 1000 })))).flat();
            expect(listed.map((f) => f.id).sort()).toEqual([...failedIds].sort());
          } finally {
            await h.cleanup();
          }
        }),
        { numRuns: 100 },
      );
    }, 120_000);
  });
}
