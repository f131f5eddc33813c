/**
 * Provisioned claims in a cluster: checked against the node's view of the shared ledger and
 * recorded in Redis. A claim is a control-plane change made through the registry, which is
 * serialized across nodes; the check reads a view at most a moment old, and admission, which
 * counts claims atomically in Redis, never relies on it.
 */
import { provisionedProblem } from '../scheduler/admission/ledger.js';
import type { LedgerPort } from '../scheduler/admission/port.js';
import type { ProvisionedClaims } from '../scheduler/provisioned.js';
import type { CachedLedgerView } from './ledger-view.js';

export class ClusterProvisionedClaims implements ProvisionedClaims {
  constructor(
    private readonly ledger: LedgerPort,
    private readonly view: CachedLedgerView,
    private readonly onError: (err: unknown) => void,
  ) {}

  setProvisioned(fn: string, total: number): string | undefined {
    const problem = provisionedProblem(this.view, fn, total);
    if (problem === undefined) this.recordProvisioned(fn, total);
    return problem;
  }

  recordProvisioned(fn: string, total: number): void {
    this.ledger
      .recordProvisioned(fn, total)
      .then(() => this.view.refresh())
      .catch(this.onError);
  }
}
