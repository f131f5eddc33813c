/**
 * The one conformance suite of the LedgerPort: the embedded and the Redis ledger run it
 * unchanged, so the embedded ledger stays the reference. Time is a number moved by the test.
 */
import { describe, expect, it } from 'vitest';
import { isGrant, type Grant, type LedgerPort, type Refusal } from '../../../src/scheduler/admission/port.js';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';
import { T0, caseLimits, type LedgerFactory } from '../scheduler/ledger-cases.js';

const onDemand = { kind: 'on-demand', now: T0 } as const;

function grant(r: Grant | Refusal): Grant {
  if (!isGrant(r)) throw new Error(`expected a grant, got ${r.reason}`);
  return r;
}

export function ledgerConformance(name: string, make: LedgerFactory): void {
  async function withPort(body: (port: LedgerPort) => Promise<void>, limits = caseLimits): Promise<void> {
    const { port, cleanup } = await make(limits);
    try {
      await body(port);
    } finally {
      await cleanup();
    }
  }

  describe(`LedgerPort conformance: ${name}`, () => {
    it('a grant counts until released, and is released exactly once however often release is called', () =>
      withPort(async (port) => {
        const g = grant(await port.acquire('a', onDemand));
        expect(g).toMatchObject({ functionName: 'a', kind: 'on-demand', released: false });
        expect(await port.concurrency('a', T0)).toBe(1);
        expect((await port.snapshot(T0)).inFlight).toEqual(new Map([['a', 1]]));
        await Promise.all([g.release(), g.release()]);
        await g.release();
        expect(g.released).toBe(true);
        expect(await port.concurrency('a', T0)).toBe(0);
        expect((await port.snapshot(T0)).inFlight).toEqual(new Map());
        // The extra releases took nothing from a later grant.
        const h = grant(await port.acquire('a', onDemand));
        expect(await port.concurrency('a', T0)).toBe(1);
        await h.release();
      }));

    it('throttles at the reservation with ReservedFunctionConcurrentInvocationLimitExceeded, and a release frees the slot', () =>
      withPort(async (port) => {
        expect(await port.setReservation('a', 2)).toBeUndefined();
        const held = [grant(await port.acquire('a', onDemand)), grant(await port.acquire('a', onDemand))];
        expect(await port.acquire('a', onDemand)).toEqual({ reason: ThrottleReason.Reserved });
        expect(await port.concurrency('a', T0)).toBe(2);
        await held[0]?.release();
        grant(await port.acquire('a', onDemand));
      }));

    it('throttles when the unreserved pool is used with ConcurrentInvocationLimitExceeded', () =>
      withPort(async (port) => {
        expect(await port.setReservation('r', 4)).toBeUndefined();
        for (let i = 0; i < 6; i++) grant(await port.acquire(i % 2 ? 'a' : 'b', onDemand));
        expect(await port.acquire('c', onDemand)).toEqual({ reason: ThrottleReason.Account });
        // The reserved function still has its carve-out.
        grant(await port.acquire('r', onDemand));
        expect((await port.snapshot(T0)).inFlight).toEqual(new Map([['a', 3], ['b', 3], ['r', 1]]));
      }));

    it('throttles a new environment beyond the scaling rate with FunctionInvocationRateLimitExceeded and a Retry-After, taking no slot', () =>
      withPort(async (port) => {
        const token = { kind: 'on-demand', scalingToken: true, now: T0 } as const;
        for (let i = 0; i < 4; i++) grant(await port.acquire('a', token));
        expect(await port.acquire('a', token)).toEqual({ reason: ThrottleReason.ScalingRate, retryAfterSeconds: 1 });
        expect(await port.concurrency('a', T0)).toBe(4);
        // takeScalingToken draws from the same bucket, which refills with time.
        expect(await port.takeScalingToken('a', T0 + 100)).toEqual({ ok: false, retryAfterSeconds: 1 });
        expect(await port.takeScalingToken('a', T0 + 250)).toEqual({ ok: true });
        grant(await port.acquire('a', { ...token, now: T0 + 500 }));
        // Reusing an environment needs no token.
        grant(await port.acquire('a', { kind: 'on-demand', now: T0 + 500 }));
      }));

    it('runs provisioned invocations on their claim and counts them apart', () =>
      withPort(async (port) => {
        expect(await port.setReservation('a', 2)).toBeUndefined();
        expect(await port.setProvisioned('a', 2)).toBeUndefined();
        expect(await port.acquire('a', onDemand)).toEqual({ reason: ThrottleReason.Reserved });
        const p = grant(await port.acquire('a', { kind: 'provisioned', now: T0 }));
        expect(p.kind).toBe('provisioned');
        const s = await port.snapshot(T0);
        expect(s.provisionedInFlight).toEqual(new Map([['a', 1]]));
        expect(s.inFlight).toEqual(new Map());
        expect(s.provisioned).toEqual(new Map([['a', 2]]));
        expect(await port.concurrency('a', T0)).toBe(1);
        await p.release();
        expect((await port.snapshot(T0)).provisionedInFlight).toEqual(new Map());
      }));

    it('refuses reservations with AWS’s messages and changes nothing', () =>
      withPort(async (port) => {
        expect(await port.setReservation('a', 5)).toBeUndefined();
        expect(await port.setReservation('b', 4)).toBe(
          "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
        );
        expect(await port.setProvisioned('a', 3)).toBeUndefined();
        expect(await port.setReservation('a', 2)).toBe(" ReservedConcurrentExecutions  2 should not be lower than function's total provisioned concurrency [3].");
        expect((await port.snapshot(T0)).reserved).toEqual(new Map([['a', 5]]));
      }));

    it('refuses provisioned claims with AWS’s messages and changes nothing', () =>
      withPort(async (port) => {
        await port.setReservation('a', 3);
        expect(await port.setProvisioned('a', 4)).toBe('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function');
        expect(await port.setProvisioned('b', 8)).toBe("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [7].");
        expect(await port.setProvisioned('b', 6)).toBe(
          "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
        );
        expect((await port.snapshot(T0)).provisioned).toEqual(new Map());
        expect(await port.setProvisioned('b', 5)).toBeUndefined();
        expect((await port.snapshot(T0)).provisioned).toEqual(new Map([['b', 5]]));
      }));

    it('recorded reservations and claims skip the rules; a claim of 0 is dropped; a deleted reservation returns the function to the pool', () =>
      withPort(async (port) => {
        await port.recordReservation('a', 9);
        await port.recordProvisioned('b', 4);
        const s = await port.snapshot(T0);
        expect(s.reserved).toEqual(new Map([['a', 9]]));
        expect(s.provisioned).toEqual(new Map([['b', 4]]));
        await port.recordProvisioned('b', 0);
        expect((await port.snapshot(T0)).provisioned).toEqual(new Map());
        // Pool is 10 − 9 = 1.
        grant(await port.acquire('c', onDemand));
        expect(await port.acquire('c', onDemand)).toEqual({ reason: ThrottleReason.Account });
        await port.deleteReservation('a');
        grant(await port.acquire('c', onDemand));
        expect((await port.snapshot(T0)).reserved).toEqual(new Map());
      }));

    it('forget drops the reservation, the claim and the bucket, not invocations still running', () =>
      withPort(async (port) => {
        await port.setReservation('a', 3);
        await port.setProvisioned('a', 1);
        const g = grant(await port.acquire('a', { kind: 'on-demand', scalingToken: true, now: T0 }));
        for (let i = 0; i < 3; i++) expect(await port.takeScalingToken('a', T0)).toEqual({ ok: true });
        expect((await port.takeScalingToken('a', T0)).ok).toBe(false);
        await port.forget('a');
        const s = await port.snapshot(T0);
        expect(s.reserved).toEqual(new Map());
        expect(s.provisioned).toEqual(new Map());
        expect(s.inFlight).toEqual(new Map([['a', 1]]));
        expect(await port.takeScalingToken('a', T0)).toEqual({ ok: true });
        await g.release();
        expect(await port.concurrency('a', T0)).toBe(0);
      }));

    it('a snapshot is the state at that moment, with the limits', () =>
      withPort(async (port) => {
        const g = grant(await port.acquire('a', onDemand));
        const s = await port.snapshot(T0);
        await g.release();
        expect(s.inFlight.get('a')).toBe(1);
        expect(s.limits).toEqual(caseLimits);
        expect(port.limits).toEqual(caseLimits);
      }));

    it('concurrent acquires never pass a reservation', () =>
      withPort(async (port) => {
        await port.setReservation('a', 5);
        const results = await Promise.all(Array.from({ length: 30 }, () => port.acquire('a', onDemand)));
        expect(results.filter(isGrant)).toHaveLength(5);
        expect(results.filter((r) => !isGrant(r)).every((r) => (r as Refusal).reason === ThrottleReason.Reserved)).toBe(true);
        expect(await port.concurrency('a', T0)).toBe(5);
        await Promise.all(results.filter(isGrant).map((g) => g.release()));
        expect(await port.concurrency('a', T0)).toBe(0);
      }));
  });
}
