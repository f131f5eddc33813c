/**
 * The shared tables against the pure rules (the reference) and the embedded port. The Redis
 * ledger runs the same tables in test/unit/cluster/redis-ledger.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decideAdmission } from '../../../src/scheduler/admission/admit.js';
import { EmbeddedLedgerPort } from '../../../src/scheduler/admission/embedded-port.js';
import { Ledger, decideScaling, provisionedProblem, refill, reservationProblem, type Bucket, type LedgerState } from '../../../src/scheduler/admission/ledger.js';
import { T0, admissionCases, claimCases, ledgerCasesAgainst, limitsOf, type LedgerSetup } from './ledger-cases.js';

function stateOf(setup: LedgerSetup): LedgerState {
  const m = (r: Record<string, number> | undefined) => new Map(Object.entries(r ?? {}));
  return { limits: limitsOf(setup), reserved: m(setup.reserved), inFlight: m(setup.inFlight), provisioned: m(setup.provisioned) };
}

function bucketOf(setup: LedgerSetup, fn: string): Bucket | undefined {
  let bucket: Bucket | undefined;
  for (const t of setup.tokensTaken?.[fn] ?? []) bucket = decideScaling(bucket, T0 + t, limitsOf(setup)).bucket;
  return bucket;
}

describe('ledger cases: pure rules', () => {
  for (const c of admissionCases) {
    it(`admission: ${c.name}`, () => {
      const now = T0 + (c.at ?? 0);
      const { decision, bucket } = decideAdmission(stateOf(c), bucketOf(c, c.fn), c.fn, { kind: c.kind ?? 'on-demand', scalingToken: c.scalingToken ?? false, now });
      expect(decision).toEqual(c.expect);
      if (c.tokensLeft !== undefined) expect(Math.floor(refill(bucket, now, limitsOf(c)).tokens)).toBe(c.tokensLeft);
    });
  }
  for (const c of claimCases) {
    it(`${c.op === 'reserve' ? 'reservation' : 'provisioned'}: ${c.name}`, () => {
      const problem = c.op === 'reserve' ? reservationProblem(stateOf(c), c.fn, c.value) : provisionedProblem(stateOf(c), c.fn, c.value);
      expect(problem).toBe(c.expect);
    });
  }
});

ledgerCasesAgainst('embedded port', async (limits) => ({ port: new EmbeddedLedgerPort(new Ledger(limits)), cleanup: async () => {} }));
