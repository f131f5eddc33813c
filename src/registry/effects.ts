/**
 * What a registry write does besides its store rows: it tells change listeners (the scheduler
 * retires environments, provisioned concurrency follows aliases) and removes code folders nothing
 * references any more. A single node does both at once. A cluster replica holds them while a
 * write runs, because the write is undone when the cluster's log refuses it; once the log has it,
 * every node applies the same effects after applying the write's rows.
 */
import type { CodeStore } from './code-store.js';
import type { RegistryChange } from './internals.js';

export interface WriteEffects {
  /** Change events, in the order the write emitted them. */
  changes: RegistryChange[];
  /** Archives (hex SHA-256) the write stopped using; each is removed once nothing uses it. */
  garbage: string[];
}

export class Effects {
  private held: WriteEffects | undefined;

  constructor(
    private readonly deliver: (change: RegistryChange) => void,
    private readonly collect: (hashes: readonly string[]) => void,
  ) {}

  readonly emit = (change: RegistryChange): void => {
    if (this.held) this.held.changes.push(change);
    else this.deliver(change);
  };

  readonly gc = (hashes: readonly string[]): void => {
    if (this.held) this.held.garbage.push(...hashes);
    else this.collect(hashes);
  };

  /** From now on effects are kept, not applied, until `take`. */
  hold(): void {
    if (this.held) throw new Error('registry effects are held already');
    this.held = { changes: [], garbage: [] };
  }

  /** Ends holding and returns what was held, unapplied. */
  take(): WriteEffects {
    const held = this.held ?? { changes: [], garbage: [] };
    this.held = undefined;
    return held;
  }

  /** Applies effects: garbage first (as a write does), then the listeners. */
  apply(effects: WriteEffects): void {
    if (effects.garbage.length > 0) this.collect(effects.garbage);
    for (const change of effects.changes) this.deliver(change);
  }
}

/** What a cluster replica needs of a registry beyond its operations. */
export interface RegistryReplication {
  effects: Pick<Effects, 'hold' | 'take' | 'apply'>;
  /** Where a replica extracts the archives other nodes wrote. */
  code: CodeStore;
  /** Removes code folders nothing references: after the store's content was replaced wholesale. */
  sweepCode(): void;
  /** After applying a write of `name`'s $LATEST: settles it here too if its writer never does. */
  followSettling(name: string): void;
}
