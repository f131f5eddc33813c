/**
 * The ledger's invariants as fast-check properties over any LedgerPort, and a differential
 * property: a port given random operations answers exactly as the embedded ledger (the
 * reference) does, decision by decision and count by count. Runs are few and short so a file
 * against a real Redis stays within seconds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmbeddedLedgerPort } from '../../../src/scheduler/admission/embedded-port.js';
import { Ledger, type LedgerLimits } from '../../../src/scheduler/admission/ledger.js';
import { isGrant, type Grant, type LedgerPort, type LedgerSnapshot } from '../../../src/scheduler/admission/port.js';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';
import { T0, caseLimits, type LedgerFactory } from '../scheduler/ledger-cases.js';

const fns = ['f0', 'f1', 'f2', 'f3'];

type Op =
  | { kind: 'acquire'; fn: number; provisioned: boolean; token: boolean }
  | { kind: 'release'; index: number }
  | { kind: 'reserve'; fn: number; value: number }
  | { kind: 'unreserve'; fn: number }
  | { kind: 'provision'; fn: number; value: number }
  | { kind: 'token'; fn: number }
  | { kind: 'advance'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('acquire' as const), fn: fc.nat(3), provisioned: fc.boolean(), token: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const), index: fc.nat(50) }) },
  fc.record({ kind: fc.constant('reserve' as const), fn: fc.nat(3), value: fc.nat(12) }),
  fc.record({ kind: fc.constant('unreserve' as const), fn: fc.nat(3) }),
  fc.record({ kind: fc.constant('provision' as const), fn: fc.nat(3), value: fc.nat(8) }),
  fc.record({ kind: fc.constant('token' as const), fn: fc.nat(3) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(700) }),
);

const sum = (m: ReadonlyMap<string, number>, keep: (fn: string) => boolean = () => true) => [...m].reduce((s, [fn, n]) => s + (keep(fn) ? n : 0), 0);

/** What an operation answered, in a form two implementations can be compared on. */
async function apply(port: LedgerPort, held: Grant[], o: Op, now: number): Promise<unknown> {
  const fn = fns[(o as { fn?: number }).fn ?? 0] as string;
  switch (o.kind) {
    case 'acquire': {
      const r = await port.acquire(fn, { kind: o.provisioned ? 'provisioned' : 'on-demand', scalingToken: o.token, now });
      if (!isGrant(r)) return r;
      held.push(r);
      return 'granted';
    }
    case 'release': {
      const g = held.splice(o.index % Math.max(1, held.length), 1)[0];
      await g?.release();
      await g?.release();
      return g ? 'released' : 'none';
    }
    case 'reserve':
      return port.setReservation(fn, o.value);
    case 'unreserve':
      return port.deleteReservation(fn);
    case 'provision':
      return port.setProvisioned(fn, o.value);
    case 'token':
      return port.takeScalingToken(fn, now);
    case 'advance':
      return undefined;
  }
}

function checkInvariants(s: LedgerSnapshot, limits: LedgerLimits): void {
  const reservedSum = sum(s.reserved);
  expect(reservedSum).toBeLessThanOrEqual(limits.regionalLimit - limits.unreservedMinimum);
  for (const [fn, p] of s.provisioned) {
    const r = s.reserved.get(fn);
    if (r !== undefined) expect(p).toBeLessThanOrEqual(r);
  }
}

export function ledgerProperties(name: string, make: LedgerFactory, numRuns = 40): void {
  describe(`ledger properties: ${name}`, () => {
    it('in-flight ≤ reservation, Σ ≤ regional limit, throttles only when a rule forbids, every grant released once', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
          const { port, cleanup } = await make(caseLimits);
          try {
            const held: Grant[] = [];
            let now = T0;
            for (const o of ops) {
              if (o.kind === 'advance') now += o.ms;
              const before = await port.snapshot(now);
              const answer = await apply(port, held, o, now);
              const after = await port.snapshot(now);
              checkInvariants(after, caseLimits);
              if (o.kind !== 'acquire' || o.provisioned) continue;
              const fn = fns[o.fn] as string;
              const r = before.reserved.get(fn);
              const unreservedUsed = sum(before.inFlight, (f) => !before.reserved.has(f)) + sum(before.provisioned, (f) => !before.reserved.has(f));
              const unreservedPool = caseLimits.regionalLimit - sum(before.reserved);
              const used = (before.inFlight.get(fn) ?? 0) + (before.provisioned.get(fn) ?? 0);
              if (answer === 'granted') {
                // Granted: the rule allowed it, so the function stays within its reservation or the pool within itself.
                if (r !== undefined) expect(used).toBeLessThan(r);
                else expect(unreservedUsed).toBeLessThan(unreservedPool);
              } else {
                const reason = (answer as { reason: string }).reason;
                if (reason === ThrottleReason.Reserved) expect(r !== undefined && used >= r).toBe(true);
                else if (reason === ThrottleReason.Account) expect(r === undefined && unreservedUsed >= unreservedPool).toBe(true);
                else expect(reason).toBe(ThrottleReason.ScalingRate);
                expect(after.inFlight).toEqual(before.inFlight);
              }
            }
            for (const g of held.splice(0)) await g.release();
            const end = await port.snapshot(now);
            expect(sum(end.inFlight) + sum(end.provisionedInFlight)).toBe(0);
          } finally {
            await cleanup();
          }
        }),
        { numRuns },
      );
    });

    it('the total in flight never exceeds the regional limit while reservations stay fixed', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(3), { maxLength: 30 }), fc.array(fc.nat(4), { maxLength: 4 }), async (acquires, reservations) => {
          const { port, cleanup } = await make(caseLimits);
          try {
            for (const [i, r] of reservations.entries()) await port.setReservation(fns[i] as string, r);
            for (const i of acquires) {
              await port.acquire(fns[i] as string, { kind: 'on-demand', now: T0 });
              const s = await port.snapshot(T0);
              expect(sum(s.inFlight)).toBeLessThanOrEqual(caseLimits.regionalLimit);
              for (const [fn, r] of s.reserved) expect(s.inFlight.get(fn) ?? 0).toBeLessThanOrEqual(r);
            }
          } finally {
            await cleanup();
          }
        }),
        { numRuns },
      );
    });

    it('answers every operation exactly as the embedded ledger does', async () => {
      const limits = fc.record({
        regionalLimit: fc.integer({ min: 4, max: 12 }),
        unreservedMinimum: fc.integer({ min: 0, max: 3 }),
        scalingRateEnvironments: fc.integer({ min: 1, max: 5 }),
        scalingRateWindowMs: fc.constantFrom(700, 1000, 3000),
      });
      await fc.assert(
        fc.asyncProperty(limits, fc.array(op, { maxLength: 60 }), async (l, ops) => {
          const reference = new EmbeddedLedgerPort(new Ledger(l));
          const { port, cleanup } = await make(l);
          try {
            const heldRef: Grant[] = [];
            const held: Grant[] = [];
            let now = T0;
            for (const o of ops) {
              if (o.kind === 'advance') now += o.ms;
              expect(await apply(port, held, o, now)).toEqual(await apply(reference, heldRef, o, now));
              expect(await port.snapshot(now)).toEqual(await reference.snapshot());
            }
          } finally {
            await cleanup();
          }
        }),
        { numRuns },
      );
    });
  });
}
