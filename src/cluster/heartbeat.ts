import type { Clock, TimerHandle } from '../core/clock.js';
import type { HeartbeatResult } from './redis-ledger.js';

/**
 * Renews a node's leases on its Clock. One beat runs at a time and the next is armed only when
 * it ends, so a slow Redis delays beats instead of piling them up. A third of the lease time
 * leaves two beats' worth of slack before a live node's leases could expire.
 */

export interface HeartbeatOptions {
  /** @defaultValue a third of the ledger's lease time */
  intervalMs?: number;
  /** Each beat's outcome: the leases renewed and lost, or the error when Redis was unreachable. */
  onBeat?: (outcome: HeartbeatResult | Error) => void;
}

export interface Heartbeat {
  /** Stops beating; resolves when a beat under way has finished. */
  stop(): Promise<void>;
}

interface Beating {
  readonly leaseMs: number;
  heartbeat(now: number): Promise<HeartbeatResult>;
}

/** Beats once at once (so the node is listed live from the start), then every `intervalMs`. */
export function startHeartbeat(ledger: Beating, clock: Clock, options: HeartbeatOptions = {}): Heartbeat {
  const intervalMs = options.intervalMs ?? Math.floor(ledger.leaseMs / 3);
  let stopped = false;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;

  const beat = (): void => {
    timer = undefined;
    running = (async () => {
      let outcome: HeartbeatResult | Error;
      try {
        outcome = await ledger.heartbeat(clock.now());
      } catch (err) {
        outcome = err instanceof Error ? err : new Error(String(err));
      }
      try {
        options.onBeat?.(outcome);
      } finally {
        running = undefined;
        if (!stopped) timer = clock.setTimeout(beat, intervalMs);
      }
    })();
  };

  beat();
  return {
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
