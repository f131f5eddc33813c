import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Ledger,
  decideConcurrency,
  decideScaling,
  reservationProblem,
  type LedgerLimits,
  type LedgerState,
  type Permit,
} from '../../../src/scheduler/admission/ledger.js';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';

const limits: LedgerLimits = { regionalLimit: 10, unreservedMinimum: 2, scalingRateEnvironments: 4, scalingRateWindowMs: 1000 };

function state(reserved: Record<string, number>, inFlight: Record<string, number>, provisioned: Record<string, number> = {}): LedgerState {
  return {
    limits,
    reserved: new Map(Object.entries(reserved)),
    inFlight: new Map(Object.entries(inFlight)),
    provisioned: new Map(Object.entries(provisioned)),
  };
}

describe('decideConcurrency', () => {
  const table: [string, Record<string, number>, Record<string, number>, string, true | ThrottleReason][] = [
    ['unreserved, pool free', {}, {}, 'a', true],
    ['unreserved, pool full', {}, { a: 6, b: 4 }, 'a', ThrottleReason.Account],
    ['reserved, below reservation', { a: 3 }, { a: 2 }, 'a', true],
    ['reserved, at reservation', { a: 3 }, { a: 3 }, 'a', ThrottleReason.Reserved],
    ['reservation 0 throttles everything', { a: 0 }, {}, 'a', ThrottleReason.Reserved],
    ['reserved fn unaffected by a full unreserved pool', { a: 3 }, { b: 7 }, 'a', true],
    ['unreserved pool is L − Σr', { a: 3 }, { b: 7 }, 'b', ThrottleReason.Account],
    ['a reserved fn’s in-flight does not use the unreserved pool', { a: 3 }, { a: 3, b: 6 }, 'b', true],
  ];
  for (const [name, reserved, inFlight, fn, expected] of table) {
    it(name, () => {
      const d = decideConcurrency(state(reserved, inFlight), fn);
      expect(d.ok ? true : d.reason).toBe(expected);
    });
  }
});

describe('reservations', () => {
  it('refuses a reservation that leaves less than the unreserved minimum, with AWS’s message', () => {
    expect(reservationProblem(state({ a: 5 }, {}), 'b', 4)).toBe(
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
    );
    expect(reservationProblem(state({ a: 5 }, {}), 'b', 3)).toBeUndefined();
    // Replacing a function's own reservation does not count it twice.
    expect(reservationProblem(state({ a: 8 }, {}), 'a', 8)).toBeUndefined();
  });
});

describe('scaling rate', () => {
  it('grants the window’s budget at once, then refills continuously without banking', () => {
    let bucket;
    const grants: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const r = decideScaling(bucket, 0, limits);
      bucket = r.bucket;
      grants.push(r.decision.ok);
    }
    expect(grants).toEqual([true, true, true, true, false]);
    expect(decideScaling(bucket, 249, limits).decision.ok).toBe(false);
    const later = decideScaling(bucket, 250, limits);
    expect(later.decision.ok).toBe(true);
    // A long pause refills only to the bucket size.
    const refilled = decideScaling(later.bucket, 1_000_000, limits);
    expect(refilled.bucket.tokens).toBe(3);
  });

  it('Ledger.takeScalingToken reports a Retry-After', () => {
    const ledger = new Ledger({ ...limits, scalingRateEnvironments: 1, scalingRateWindowMs: 5000 });
    expect(ledger.takeScalingToken('a', 0)).toEqual({ ok: true });
    expect(ledger.takeScalingToken('a', 0)).toEqual({ ok: false, retryAfterSeconds: 5 });
    expect(ledger.takeScalingToken('b', 0)).toEqual({ ok: true });
  });
});

describe('Ledger permits', () => {
  it('a permit is released exactly once', () => {
    const ledger = new Ledger(limits);
    const p = ledger.acquire('a') as Permit;
    expect(ledger.inFlight.get('a')).toBe(1);
    p.release();
    p.release();
    expect(ledger.inFlight.get('a')).toBeUndefined();
    expect(ledger.counts()).toEqual({ granted: 1, released: 1 });
  });
});

describe('ledger invariants (property)', () => {
  type Op =
    | { kind: 'acquire'; fn: number }
    | { kind: 'release'; index: number }
    | { kind: 'reserve'; fn: number; value: number }
    | { kind: 'unreserve'; fn: number };
  const fns = ['f0', 'f1', 'f2', 'f3'];
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('acquire' as const), fn: fc.nat(3) }),
    fc.record({ kind: fc.constant('release' as const), index: fc.nat(50) }),
    fc.record({ kind: fc.constant('reserve' as const), fn: fc.nat(3), value: fc.nat(12) }),
    fc.record({ kind: fc.constant('unreserve' as const), fn: fc.nat(3) }),
  );

  it('in-flight ≤ reservation, Σ ≤ regional limit, throttles only when a rule forbids, permits released once', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const ledger = new Ledger(limits);
        const held: Permit[] = [];
        // A reservation lowered below current in-flight is allowed (as in AWS); the cap applies to new grants.
        const grantedOver = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'acquire') {
            const fn = fns[o.fn] as string;
            const before = decideConcurrency(ledger, fn);
            const r = ledger.acquire(fn);
            if ('release' in r) {
              expect(before.ok).toBe(true);
              held.push(r);
              const res = ledger.reserved.get(fn);
              if (res !== undefined) expect(ledger.inFlight.get(fn) ?? 0).toBeLessThanOrEqual(Math.max(res, grantedOver.get(fn) ?? 0));
            } else {
              // Throttled: the rule named really forbids it.
              const res = ledger.reserved.get(fn);
              if (r.reason === ThrottleReason.Reserved) expect(res !== undefined && (ledger.inFlight.get(fn) ?? 0) >= res).toBe(true);
              else {
                let unreservedInFlight = 0;
                let reservedSum = 0;
                for (const [f, n] of ledger.inFlight) if (!ledger.reserved.has(f)) unreservedInFlight += n;
                for (const v of ledger.reserved.values()) reservedSum += v;
                expect(unreservedInFlight).toBeGreaterThanOrEqual(limits.regionalLimit - reservedSum);
              }
            }
          } else if (o.kind === 'release') {
            const p = held.splice(o.index % Math.max(1, held.length), 1)[0];
            p?.release();
            p?.release();
          } else if (o.kind === 'reserve') {
            const fn = fns[o.fn] as string;
            const problem = ledger.setReservation(fn, o.value);
            if (problem === undefined) grantedOver.set(fn, ledger.inFlight.get(fn) ?? 0);
          } else {
            ledger.deleteReservation(fns[o.fn] as string);
          }
          let reservedSum = 0;
          for (const v of ledger.reserved.values()) reservedSum += v;
          expect(reservedSum).toBeLessThanOrEqual(limits.regionalLimit - limits.unreservedMinimum);
        }
        for (const p of held) p.release();
        expect(ledger.totalInFlight()).toBe(0);
        const c = ledger.counts();
        expect(c.released).toBe(c.granted);
      }),
      { numRuns: 300 },
    );
  });

  it('the total in flight never exceeds the regional limit when reservations are fixed', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3), { maxLength: 100 }), fc.array(fc.nat(4), { maxLength: 4 }), (acquires, reservations) => {
        const ledger = new Ledger(limits);
        reservations.forEach((r, i) => ledger.setReservation(fns[i] as string, r));
        for (const i of acquires) {
          ledger.acquire(fns[i] as string);
          expect(ledger.totalInFlight()).toBeLessThanOrEqual(limits.regionalLimit);
          for (const [fn, r] of ledger.reserved) expect(ledger.inFlight.get(fn) ?? 0).toBeLessThanOrEqual(r);
        }
      }),
    );
  });
});

describe('provisioned concurrency in the ledger', () => {
  it('claimed provisioned capacity counts against the reservation and the unreserved pool', () => {
    // Reserved 3 with 2 provisioned: one on-demand slot left.
    expect(decideConcurrency(state({ a: 3 }, { a: 0 }, { a: 2 }), 'a').ok).toBe(true);
    expect(decideConcurrency(state({ a: 3 }, { a: 1 }, { a: 2 }), 'a')).toEqual({ ok: false, reason: ThrottleReason.Reserved });
    // PC = RC: every on-demand invocation is throttled.
    expect(decideConcurrency(state({ a: 2 }, {}, { a: 2 }), 'a')).toEqual({ ok: false, reason: ThrottleReason.Reserved });
    // Unreserved pool 10: 6 provisioned for b leave 4 for everyone unreserved.
    expect(decideConcurrency(state({}, { c: 3 }, { b: 6 }), 'c').ok).toBe(true);
    expect(decideConcurrency(state({}, { c: 4 }, { b: 6 }), 'c')).toEqual({ ok: false, reason: ThrottleReason.Account });
  });

  it('provisioned invocations are always granted and counted in the function’s concurrency', () => {
    const ledger = new Ledger(limits);
    expect(ledger.setReservation('a', 2)).toBeUndefined();
    expect(ledger.setProvisioned('a', 2)).toBeUndefined();
    expect('reason' in ledger.acquire('a')).toBe(true);
    const p = ledger.acquire('a', 'provisioned') as Permit;
    expect(ledger.concurrency('a')).toBe(1);
    p.release();
    expect(ledger.totalInFlight()).toBe(0);
  });

  it('refuses provisioned concurrency beyond the reservation or the unreserved pool minus the minimum', () => {
    const ledger = new Ledger(limits);
    ledger.setReservation('a', 3);
    expect(ledger.setProvisioned('a', 4)).toBe('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function');
    expect(ledger.setProvisioned('a', 3)).toBeUndefined();
    // Unreserved pool is 10 − 3 = 7, minimum 2: at most 5 provisioned for unreserved functions.
    expect(ledger.setProvisioned('b', 8)).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [7].");
    expect(ledger.setProvisioned('b', 6)).toBe(
      "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
    );
    expect(ledger.setProvisioned('b', 5)).toBeUndefined();
    // Another function's provisioned concurrency is no longer in the pool.
    expect(ledger.setProvisioned('c', 3)).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [2].");
    expect(ledger.setReservation('a', 2)).toBe(" ReservedConcurrentExecutions  2 should not be lower than function's total provisioned concurrency [3].");
  });
});

describe('scaling rate (property, with clock advances)', () => {
  it('never grants more than the bucket plus what refilled in between, and refuses only when empty', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ advance: fc.nat(800) }), fc.constant({ take: true as const })), { maxLength: 300 }),
        (ops) => {
          let now = 0;
          let bucket;
          const grants: number[] = [];
          for (const op of ops) {
            if ('advance' in op) {
              now += op.advance;
              continue;
            }
            const r = decideScaling(bucket, now, limits);
            if (!r.decision.ok) expect(r.bucket.tokens).toBeLessThan(1);
            else grants.push(now);
            bucket = r.bucket;
          }
          const rate = limits.scalingRateEnvironments / limits.scalingRateWindowMs;
          for (let i = 0; i < grants.length; i++) {
            for (let j = i; j < grants.length; j++) {
              const span = (grants[j] as number) - (grants[i] as number);
              expect(j - i + 1).toBeLessThanOrEqual(limits.scalingRateEnvironments + span * rate + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
