/**
 * The state clock of functions: Pending -> Active after creation and InProgress -> Successful
 * after an update, each after `delayMs` on the injected clock; plus removal of code nothing
 * uses any more.
 */
import { readdirSync } from 'node:fs';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { CodeStore } from './code-store.js';
import { isSettled, settled } from './config.js';
import type { Effects } from './effects.js';
import { LATEST_NUM, type Store } from './store.js';

/** Runs a write the registry starts by itself; see RegistryOptions.backgroundWrites. */
export type BackgroundWrites = (write: () => void) => void;

export class Lifecycle {
  private readonly timers = new Map<string, TimerHandle>();
  closed = false;

  constructor(
    private readonly store: Store,
    private readonly code: CodeStore,
    private readonly clock: Clock,
    private readonly delayMs: number,
    private readonly effects: Pick<Effects, 'emit' | 'gc'>,
    private readonly background: BackgroundWrites = (write) => write(),
  ) {}

  /**
   * Settles `name` after the delay. With no delay it settles before returning, so the caller's
   * response still shows the transitional state while the function is already usable.
   */
  schedule(name: string): void {
    this.cancel(name);
    if (this.delayMs <= 0) {
      this.settle(name);
      return;
    }
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(name);
      this.background(() => this.settle(name));
    }, this.delayMs);
    this.timers.set(name, timer);
  }

  /**
   * For a cluster replica, after applying another node's write: keeps a timer for `name` while
   * its $LATEST is unsettled, so it settles even if the node that wrote it stops first. The first
   * node whose timer fires settles it; the others then find nothing to do.
   */
  follow(name: string): void {
    const latest = this.store.getVersion(name, LATEST_NUM);
    if (this.delayMs > 0 && latest && !isSettled(latest.config)) {
      if (!this.timers.has(name)) this.schedule(name);
    } else {
      this.cancel(name);
    }
  }

  cancel(name: string): void {
    this.timers.get(name)?.cancel();
    this.timers.delete(name);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** Pending -> Active and InProgress -> Successful for $LATEST and any version published meanwhile. */
  settle(name: string): void {
    if (this.closed) return;
    let updated = false;
    const freed: string[] = [];
    this.store.tx(() => {
      const fn = this.store.getFunction(name);
      const latest = this.store.getVersion(name, LATEST_NUM);
      if (!fn || !latest || isSettled(latest.config)) return;
      updated = latest.config.State !== 'Pending';
      this.store.putVersion({ ...latest, config: settled(latest.config, true) });
      for (const v of this.store.versionsOf(name)) {
        if (v.num !== LATEST_NUM && v.config.State === 'Pending') this.store.putVersion({ ...v, config: settled(v.config, false) });
      }
      if (fn.previous) {
        freed.push(fn.previous.codeHash, ...(fn.previous.layerHashes ?? []));
        delete fn.previous;
        this.store.putFunction(fn);
      }
    });
    this.effects.gc(freed);
    if (updated) this.effects.emit({ functionName: name, version: '$LATEST', kind: 'updated' });
  }

  /** Settles every function: at start, for what a restart interrupted. */
  settleAll(): void {
    for (const name of this.store.functionNames()) this.settle(name);
  }

  /** Removes the code of hashes no version (or in-progress snapshot) uses any more. */
  gc(hashes: readonly string[]): void {
    for (const hash of new Set(hashes)) {
      if (!this.store.hashInUse(hash) && !this.code.busy(hash)) this.code.remove(hash);
    }
  }

  /** After a crash, code folders may exist that nothing references. */
  sweep(): void {
    const hashes = readdirSync(this.code.root)
      .map((f) => /^([0-9a-f]{64})(\.zip)?$/.exec(f)?.[1])
      .filter((h): h is string => h !== undefined);
    this.gc(hashes);
  }
}
