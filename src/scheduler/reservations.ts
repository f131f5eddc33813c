import { InvalidParameterValueException } from '../core/errors.js';
import type { Registry } from '../registry/registry.js';
import type { LedgerPort } from './admission/port.js';

/**
 * Reserved concurrency: validated by the ledger's rules, persisted in the registry, enforced by
 * the ledger. The ledger is loaded from the registry at start.
 */
export class Reservations {
  constructor(
    private readonly ledger: LedgerPort,
    private readonly registry: Registry,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    for (const [fn, value] of registry.reservedConcurrency()) ledger.recordReservation(fn, value).catch(onError);
  }

  async put(functionName: string, value: number): Promise<number> {
    this.registry.assertFunctionExists(functionName, '$LATEST'); // 404, naming `…:$LATEST` as Lambda does
    const problem = await this.ledger.setReservation(functionName, value);
    if (problem) throw new InvalidParameterValueException(problem);
    this.registry.setReservedConcurrency(functionName, value);
    return value;
  }

  get(functionName: string): number | undefined {
    return this.registry.getReservedConcurrency(functionName);
  }

  async delete(functionName: string): Promise<void> {
    this.registry.getReservedConcurrency(functionName);
    await this.ledger.deleteReservation(functionName);
    this.registry.setReservedConcurrency(functionName, undefined);
  }

  /** Forgets a deleted function. */
  forget(functionName: string): void {
    this.ledger.forget(functionName).catch(this.onError);
  }
}
