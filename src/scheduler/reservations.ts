import { InvalidParameterValueException } from '../core/errors.js';
import type { Registry } from '../registry/registry.js';
import type { Ledger } from './admission/ledger.js';

/**
 * Reserved concurrency: validated by the ledger's rules, persisted in the registry, enforced by
 * the ledger. The ledger is loaded from the registry at start.
 */
export class Reservations {
  constructor(
    private readonly ledger: Ledger,
    private readonly registry: Registry,
  ) {
    for (const [fn, value] of registry.reservedConcurrency()) ledger.reserved.set(fn, value);
  }

  put(functionName: string, value: number): number {
    this.registry.assertFunctionExists(functionName, '$LATEST'); // 404, naming `…:$LATEST` as Lambda does
    const problem = this.ledger.setReservation(functionName, value);
    if (problem) throw new InvalidParameterValueException(problem);
    this.registry.setReservedConcurrency(functionName, value);
    return value;
  }

  get(functionName: string): number | undefined {
    return this.registry.getReservedConcurrency(functionName);
  }

  delete(functionName: string): void {
    this.registry.getReservedConcurrency(functionName);
    this.ledger.deleteReservation(functionName);
    this.registry.setReservedConcurrency(functionName, undefined);
  }

  /** Forgets a deleted function. */
  forget(functionName: string): void {
    this.ledger.forget(functionName);
  }
}
