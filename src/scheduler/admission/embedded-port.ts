import type { AdmissionKind, AdmissionRequest } from './admit.js';
import { decideConcurrency, type Ledger, type LedgerLimits, type Permit } from './ledger.js';
import type { Grant, LedgerPort, LedgerSnapshot, Refusal, ScalingToken } from './port.js';
import { ThrottleReason } from './reasons.js';

/**
 * The single-node ledger behind the port: the in-memory `Ledger`, unchanged, answering at once.
 * JavaScript runs one decision at a time, so the check and the commit below cannot interleave
 * with another admission and the whole acquire is as atomic as the Redis script.
 */
export class EmbeddedLedgerPort implements LedgerPort {
  constructor(readonly ledger: Ledger) {}

  get limits(): LedgerLimits {
    return this.ledger.limits;
  }

  async acquire(functionName: string, request: AdmissionRequest): Promise<Grant | Refusal> {
    // The same order as decideAdmission: concurrency, then the token, then the commit.
    if (request.kind === 'on-demand') {
      const d = decideConcurrency(this.ledger, functionName);
      if (!d.ok) return { reason: d.reason };
    }
    if (request.scalingToken) {
      const token = this.ledger.takeScalingToken(functionName, request.now);
      if (!token.ok) return { reason: ThrottleReason.ScalingRate, retryAfterSeconds: token.retryAfterSeconds };
    }
    const permit = this.ledger.acquire(functionName, request.kind);
    // Unreachable after the check above, which is the same rule on the same state.
    if (!('release' in permit)) return permit;
    return new EmbeddedGrant(functionName, request.kind, permit);
  }

  async takeScalingToken(functionName: string, now: number): Promise<ScalingToken> {
    return this.ledger.takeScalingToken(functionName, now);
  }

  async setReservation(functionName: string, value: number): Promise<string | undefined> {
    return this.ledger.setReservation(functionName, value);
  }

  async recordReservation(functionName: string, value: number): Promise<void> {
    this.ledger.reserved.set(functionName, value);
  }

  async deleteReservation(functionName: string): Promise<void> {
    this.ledger.deleteReservation(functionName);
  }

  async setProvisioned(functionName: string, total: number): Promise<string | undefined> {
    return this.ledger.setProvisioned(functionName, total);
  }

  async recordProvisioned(functionName: string, total: number): Promise<void> {
    this.ledger.recordProvisioned(functionName, total);
  }

  async forget(functionName: string): Promise<void> {
    this.ledger.forget(functionName);
  }

  /** Copies, so a caller holding a snapshot sees that moment, as with the Redis ledger. */
  async snapshot(): Promise<LedgerSnapshot> {
    const l = this.ledger;
    return {
      limits: l.limits,
      reserved: new Map(l.reserved),
      inFlight: new Map(l.inFlight),
      provisioned: new Map(l.provisioned),
      provisionedInFlight: new Map(l.provisionedInFlight),
    };
  }

  async concurrency(functionName: string): Promise<number> {
    return this.ledger.concurrency(functionName);
  }

  /** Nothing to let go: the state lives and dies with the process. */
  async close(): Promise<void> {}
}

const RELEASED: Promise<void> = Promise.resolve();

/** A grant of the embedded ledger: a class, so no accessor or closure is made per invocation. */
class EmbeddedGrant implements Grant {
  constructor(
    readonly functionName: string,
    readonly kind: AdmissionKind,
    private readonly permit: Permit,
  ) {}

  get released(): boolean {
    return this.permit.released;
  }

  release(): Promise<void> {
    this.permit.release();
    return RELEASED;
  }
}
