/**
 * A cluster node's view of the shared ledger: a snapshot refreshed every `everyMs` from Redis.
 * Readers that cannot wait (gauges, the async dispatcher's caps, the early throttle check) read
 * it; admission itself always asks Redis, so a view a moment old never admits anything.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { LedgerLimits, LedgerView } from '../scheduler/admission/ledger.js';
import type { LedgerPort, LedgerSnapshot } from '../scheduler/admission/port.js';

export class CachedLedgerView implements LedgerView {
  private snap: LedgerSnapshot;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Set while reads fail, so an outage is reported once rather than four times a second. */
  private failing = false;

  constructor(
    private readonly ledger: LedgerPort,
    private readonly clock: Clock,
    private readonly everyMs = 250,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    const empty = new Map<string, number>();
    this.snap = { limits: ledger.limits, reserved: empty, inFlight: empty, provisioned: empty, provisionedInFlight: empty };
  }

  get limits(): LedgerLimits {
    return this.snap.limits;
  }
  get reserved(): ReadonlyMap<string, number> {
    return this.snap.reserved;
  }
  get inFlight(): ReadonlyMap<string, number> {
    return this.snap.inFlight;
  }
  get provisioned(): ReadonlyMap<string, number> {
    return this.snap.provisioned;
  }
  get provisionedInFlight(): ReadonlyMap<string, number> {
    return this.snap.provisionedInFlight;
  }

  /** The last read failed: what the view shows may be out of date. */
  get stale(): boolean {
    return this.failing;
  }

  concurrency(fn: string): number {
    return (this.snap.inFlight.get(fn) ?? 0) + (this.snap.provisionedInFlight.get(fn) ?? 0);
  }

  /** Reads the ledger now (also after a write of this node, so its own change shows at once). */
  async refresh(): Promise<void> {
    try {
      this.snap = await this.ledger.snapshot(this.clock.now());
      this.failing = false;
    } catch (err) {
      // The last snapshot stays: gauges show the last known values while Redis is away.
      if (!this.failing) this.onError(err);
      this.failing = true;
    }
  }

  /** Refreshes now, then every `everyMs` until stopped. */
  async start(): Promise<void> {
    await this.refresh();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      void this.refresh().finally(() => this.arm());
    }, this.everyMs);
  }
}
