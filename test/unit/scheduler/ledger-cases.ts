/**
 * The ledger's rules as tables of cases (a state, one request, the decision), shared by every
 * implementation: the pure functions, the embedded port and the Redis script run the same rows,
 * so the Lua cannot drift from the TypeScript.
 */
import { describe, expect, it } from 'vitest';
import type { AdmissionDecision, AdmissionKind } from '../../../src/scheduler/admission/admit.js';
import type { LedgerLimits } from '../../../src/scheduler/admission/ledger.js';
import { isGrant, type Grant, type LedgerPort } from '../../../src/scheduler/admission/port.js';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';

export const T0 = Date.UTC(2026, 0, 1);
export const caseLimits: LedgerLimits = { regionalLimit: 10, unreservedMinimum: 2, scalingRateEnvironments: 4, scalingRateWindowMs: 1000 };

/** Makes a fresh, empty ledger with these limits; `cleanup` lets go of it. */
export type LedgerFactory = (limits: LedgerLimits) => Promise<{ port: LedgerPort; cleanup(): Promise<void> }>;

export interface LedgerSetup {
  limits?: Partial<LedgerLimits>;
  reserved?: Record<string, number>;
  /** On-demand invocations running, by function. */
  inFlight?: Record<string, number>;
  provisioned?: Record<string, number>;
  /** Scaling tokens taken before the request, by function: ms after T0. */
  tokensTaken?: Record<string, number[]>;
}

export interface AdmissionCase extends LedgerSetup {
  name: string;
  fn: string;
  kind?: AdmissionKind;
  scalingToken?: boolean;
  /** When the request is made: ms after T0. */
  at?: number;
  expect: AdmissionDecision;
  /** Whole tokens left in the function's bucket just after the decision. */
  tokensLeft?: number;
}

const ok: AdmissionDecision = { ok: true };
const reserved: AdmissionDecision = { ok: false, reason: ThrottleReason.Reserved };
const account: AdmissionDecision = { ok: false, reason: ThrottleReason.Account };
const rate = (retryAfterSeconds: number): AdmissionDecision => ({ ok: false, reason: ThrottleReason.ScalingRate, retryAfterSeconds });
const four = [0, 0, 0, 0];

export const admissionCases: AdmissionCase[] = [
  { name: 'unreserved, pool free', fn: 'a', expect: ok },
  { name: 'unreserved, pool full', inFlight: { a: 6, b: 4 }, fn: 'a', expect: account },
  { name: 'reserved, below the reservation', reserved: { a: 3 }, inFlight: { a: 2 }, fn: 'a', expect: ok },
  { name: 'reserved, at the reservation', reserved: { a: 3 }, inFlight: { a: 3 }, fn: 'a', expect: reserved },
  { name: 'a reservation of 0 throttles everything', reserved: { a: 0 }, fn: 'a', expect: reserved },
  { name: 'a reservation lowered below in-flight throttles new invocations', reserved: { a: 1 }, inFlight: { a: 3 }, fn: 'a', expect: reserved },
  { name: 'a reserved function is unaffected by a full unreserved pool', reserved: { a: 3 }, inFlight: { b: 7 }, fn: 'a', expect: ok },
  { name: 'the unreserved pool is L − Σr', reserved: { a: 3 }, inFlight: { b: 7 }, fn: 'b', expect: account },
  { name: 'a reserved function’s in-flight does not use the unreserved pool', reserved: { a: 3 }, inFlight: { a: 3, b: 6 }, fn: 'b', expect: ok },
  { name: 'provisioned claim within the reservation leaves on-demand room', reserved: { a: 3 }, provisioned: { a: 2 }, fn: 'a', expect: ok },
  { name: 'provisioned claim counts against the reservation', reserved: { a: 3 }, inFlight: { a: 1 }, provisioned: { a: 2 }, fn: 'a', expect: reserved },
  { name: 'provisioned = reserved throttles every on-demand invocation', reserved: { a: 2 }, provisioned: { a: 2 }, fn: 'a', expect: reserved },
  { name: 'an unreserved function’s claim comes out of the pool (room left)', provisioned: { b: 6 }, inFlight: { c: 3 }, fn: 'c', expect: ok },
  { name: 'an unreserved function’s claim comes out of the pool (full)', provisioned: { b: 6 }, inFlight: { c: 4 }, fn: 'c', expect: account },
  { name: 'a reserved function’s claim is inside its reservation, not the pool', reserved: { a: 3 }, provisioned: { a: 3 }, inFlight: { c: 6 }, fn: 'c', expect: ok },
  { name: 'a provisioned invocation runs on its claim even at the reservation', reserved: { a: 2 }, provisioned: { a: 2 }, fn: 'a', kind: 'provisioned', expect: ok },
  { name: 'a provisioned invocation runs on its claim even with the account full', inFlight: { b: 10 }, provisioned: { a: 1 }, fn: 'a', kind: 'provisioned', expect: ok },
  { name: 'a new environment takes a token', fn: 'a', scalingToken: true, expect: ok, tokensLeft: 3 },
  { name: 'an empty bucket throttles with a Retry-After', tokensTaken: { a: four }, fn: 'a', scalingToken: true, expect: rate(1), tokensLeft: 0 },
  { name: 'the bucket refills continuously (not yet)', tokensTaken: { a: four }, fn: 'a', scalingToken: true, at: 249, expect: rate(1), tokensLeft: 0 },
  { name: 'the bucket refills continuously (one token)', tokensTaken: { a: four }, fn: 'a', scalingToken: true, at: 250, expect: ok, tokensLeft: 0 },
  { name: 'a long pause refills only to the bucket size', tokensTaken: { a: [0] }, fn: 'a', scalingToken: true, at: 1_000_000, expect: ok, tokensLeft: 3 },
  { name: 'the Retry-After counts the window (empty)', limits: { scalingRateEnvironments: 1, scalingRateWindowMs: 5000 }, tokensTaken: { a: [0] }, fn: 'a', scalingToken: true, expect: rate(5) },
  { name: 'the Retry-After counts the window (half full)', limits: { scalingRateEnvironments: 1, scalingRateWindowMs: 5000 }, tokensTaken: { a: [0] }, fn: 'a', scalingToken: true, at: 2500, expect: rate(3) },
  { name: 'fractional refill, just short of a token', limits: { scalingRateEnvironments: 3 }, tokensTaken: { a: [0, 0, 0] }, fn: 'a', scalingToken: true, at: 333, expect: rate(1), tokensLeft: 0 },
  { name: 'fractional refill, just over a token', limits: { scalingRateEnvironments: 3 }, tokensTaken: { a: [0, 0, 0] }, fn: 'a', scalingToken: true, at: 334, expect: ok, tokensLeft: 0 },
  { name: 'a clock behind the bucket refills nothing', tokensTaken: { a: [1000, 1000, 1000, 1000] }, fn: 'a', scalingToken: true, at: 500, expect: rate(1) },
  { name: 'each function has its own bucket', tokensTaken: { b: four }, fn: 'a', scalingToken: true, expect: ok, tokensLeft: 3 },
  { name: 'a reservation throttle takes no token', reserved: { a: 0 }, fn: 'a', scalingToken: true, expect: reserved, tokensLeft: 4 },
  { name: 'an account throttle takes no token', inFlight: { b: 10 }, fn: 'a', scalingToken: true, expect: account, tokensLeft: 4 },
  { name: 'a refused token takes no slot', inFlight: { a: 2 }, tokensTaken: { a: four }, fn: 'a', scalingToken: true, expect: rate(1) },
  { name: 'a provisioned invocation that needs an environment takes a token', provisioned: { a: 1 }, fn: 'a', kind: 'provisioned', scalingToken: true, expect: ok, tokensLeft: 3 },
];

export interface ClaimCase extends LedgerSetup {
  name: string;
  op: 'reserve' | 'provision';
  fn: string;
  value: number;
  /** AWS's message, or undefined when accepted. */
  expect: string | undefined;
}

const reservedMinimum = "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].";
const provisionedMinimum = "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].";
const pool = (n: number) => `Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${n}].`;

export const claimCases: ClaimCase[] = [
  { name: 'a reservation leaving less than the minimum', reserved: { a: 5 }, op: 'reserve', fn: 'b', value: 4, expect: reservedMinimum },
  { name: 'a reservation leaving exactly the minimum', reserved: { a: 5 }, op: 'reserve', fn: 'b', value: 3, expect: undefined },
  { name: 'replacing a reservation does not count it twice', reserved: { a: 8 }, op: 'reserve', fn: 'a', value: 8, expect: undefined },
  { name: 'a reservation of 0', op: 'reserve', fn: 'a', value: 0, expect: undefined },
  { name: 'a reservation below the provisioned claim', reserved: { a: 3 }, provisioned: { a: 3 }, op: 'reserve', fn: 'a', value: 2, expect: " ReservedConcurrentExecutions  2 should not be lower than function's total provisioned concurrency [3]." },
  { name: 'provisioned beyond the reservation', reserved: { a: 3 }, op: 'provision', fn: 'a', value: 4, expect: 'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function' },
  { name: 'provisioned equal to the reservation', reserved: { a: 3 }, op: 'provision', fn: 'a', value: 3, expect: undefined },
  { name: 'provisioned beyond the unreserved pool', reserved: { a: 3 }, op: 'provision', fn: 'b', value: 8, expect: pool(7) },
  { name: 'provisioned eating into the minimum', reserved: { a: 3 }, op: 'provision', fn: 'b', value: 6, expect: provisionedMinimum },
  { name: 'provisioned leaving exactly the minimum', reserved: { a: 3 }, op: 'provision', fn: 'b', value: 5, expect: undefined },
  { name: 'another function’s claim is no longer in the pool', reserved: { a: 3 }, provisioned: { b: 5 }, op: 'provision', fn: 'c', value: 3, expect: pool(2) },
  { name: 'replacing a claim does not count it twice', reserved: { a: 3 }, provisioned: { b: 5 }, op: 'provision', fn: 'b', value: 5, expect: undefined },
  { name: 'an over-claimed pool is quoted as 0', reserved: { a: 8 }, provisioned: { b: 5 }, op: 'provision', fn: 'c', value: 1, expect: pool(0) },
  { name: 'provisioned 0 drops the claim', provisioned: { b: 5 }, op: 'provision', fn: 'b', value: 0, expect: undefined },
];

export function limitsOf(setup: LedgerSetup): LedgerLimits {
  return { ...caseLimits, ...setup.limits };
}

/** Brings an empty port to the case's state through its own methods. */
export async function seed(port: LedgerPort, setup: LedgerSetup): Promise<Grant[]> {
  const grants: Grant[] = [];
  // In-flight first, while nothing is reserved or claimed, so every row's state is reachable.
  for (const [fn, n] of Object.entries(setup.inFlight ?? {})) {
    for (let i = 0; i < n; i++) {
      const g = await port.acquire(fn, { kind: 'on-demand', now: T0 });
      if (!isGrant(g)) throw new Error(`seeding ${fn}: ${g.reason}`);
      grants.push(g);
    }
  }
  for (const [fn, r] of Object.entries(setup.reserved ?? {})) await port.recordReservation(fn, r);
  for (const [fn, p] of Object.entries(setup.provisioned ?? {})) await port.recordProvisioned(fn, p);
  for (const [fn, times] of Object.entries(setup.tokensTaken ?? {})) for (const t of times) await port.takeScalingToken(fn, T0 + t);
  return grants;
}

/** Whole tokens in the bucket at `now`, counted by taking them (a test's port is thrown away after). */
async function drainTokens(port: LedgerPort, fn: string, now: number): Promise<number> {
  let n = 0;
  while ((await port.takeScalingToken(fn, now)).ok) n++;
  return n;
}

/** Runs both tables against a port implementation. */
export function ledgerCasesAgainst(name: string, make: LedgerFactory): void {
  async function withPort(setup: LedgerSetup, body: (port: LedgerPort) => Promise<void>): Promise<void> {
    const { port, cleanup } = await make(limitsOf(setup));
    try {
      await seed(port, setup);
      await body(port);
    } finally {
      await cleanup();
    }
  }

  describe(`ledger cases: ${name}`, () => {
    for (const c of admissionCases) {
      it(`admission: ${c.name}`, () =>
        withPort(c, async (port) => {
          const kind = c.kind ?? 'on-demand';
          const now = T0 + (c.at ?? 0);
          const before = await port.snapshot(now);
          const r = await port.acquire(c.fn, { kind, scalingToken: c.scalingToken ?? false, now });
          const decision: AdmissionDecision = isGrant(r) ? { ok: true } : { ok: false, reason: r.reason, ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}) };
          expect(decision).toEqual(c.expect);
          // A grant takes exactly one slot of its kind; a refusal takes none.
          const after = await port.snapshot(now);
          const counted = kind === 'on-demand' ? 'inFlight' : 'provisionedInFlight';
          const other = kind === 'on-demand' ? 'provisionedInFlight' : 'inFlight';
          expect(after[counted].get(c.fn) ?? 0).toBe((before[counted].get(c.fn) ?? 0) + (c.expect.ok ? 1 : 0));
          expect(after[other]).toEqual(before[other]);
          if (c.tokensLeft !== undefined) expect(await drainTokens(port, c.fn, now)).toBe(c.tokensLeft);
        }));
    }
    for (const c of claimCases) {
      it(`${c.op === 'reserve' ? 'reservation' : 'provisioned'}: ${c.name}`, () =>
        withPort(c, async (port) => {
          const before = await port.snapshot(T0);
          const problem = c.op === 'reserve' ? await port.setReservation(c.fn, c.value) : await port.setProvisioned(c.fn, c.value);
          expect(problem).toBe(c.expect);
          const after = await port.snapshot(T0);
          const field = c.op === 'reserve' ? 'reserved' : 'provisioned';
          const expected = new Map(before[field]);
          if (c.expect === undefined) {
            if (c.op === 'provision' && c.value === 0) expected.delete(c.fn);
            else expected.set(c.fn, c.value);
          }
          expect(after[field]).toEqual(expected);
        }));
    }
  });
}
