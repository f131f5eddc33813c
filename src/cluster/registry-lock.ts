/**
 * The cluster's registry lock: one writer at a time, so each write runs on a replica that has
 * every earlier write and its checks (RevisionId, names taken) hold across nodes. A random token
 * with a short expiry, renewed while held: a node that dies holding it stops renewing, and the
 * lock frees itself within the expiry. Waiting is bounded; past the bound the write gives up with
 * `RegistryBusyError` rather than queue without end behind a stuck writer.
 *
 * The lock is an efficiency, not the guarantee: the append script also checks that the log has
 * not moved since the writer caught up, so a writer whose lock expired while it stalled cannot
 * log a write based on stale rows.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.js';
import { RegistryBusyError } from './registry-errors.js';
import type { RegistryLog } from './registry-log.js';

export interface LockOptions {
  /** Expiry of the lock in Redis; renewed every third of it while held. */
  ttlMs: number;
  /** How long a write waits for the lock before `RegistryBusyError`. */
  waitMs: number;
  /** Times waits and renewals. Redis expires the lock in real time, so this must be real time too. */
  clock: Clock;
  /** A draw in [0, 1) for the jitter of retries. */
  random?: () => number;
}

export interface HeldLock {
  readonly token: string;
  /** Stops renewing and deletes the lock if this token still holds it. Never rejects. */
  release(): Promise<void>;
}

/**
 * Pause before the n-th retry (0-based): doubling from 5 ms to 200 ms, plus up to half again of
 * jitter so nodes that wait together do not retry together.
 */
export function lockRetryDelayMs(attempt: number, jitter: number): number {
  const base = Math.min(5 * 2 ** Math.min(attempt, 10), 200);
  return base + Math.floor(jitter * base * 0.5);
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Takes the lock, retrying with back-off; rejects with `RegistryUnavailableError` when Redis fails, `RegistryBusyError` after `waitMs`. */
export async function acquireLock(log: RegistryLog, o: LockOptions): Promise<HeldLock> {
  const token = randomBytes(16).toString('hex');
  const random = o.random ?? Math.random;
  const started = o.clock.now();
  for (let attempt = 0; !(await log.tryLock(token, o.ttlMs)); attempt++) {
    const delay = lockRetryDelayMs(attempt, random());
    if (o.clock.now() - started + delay > o.waitMs) {
      throw new RegistryBusyError(log.target, `another node held the registry lock for more than ${o.waitMs} ms`);
    }
    await sleep(o.clock, delay);
  }
  return hold(log, token, o);
}

function hold(log: RegistryLog, token: string, o: LockOptions): HeldLock {
  let timer: TimerHandle | undefined;
  let released = false;
  const renew = (): void => {
    timer = o.clock.setTimeout(() => {
      // A lock found lost stays lost: the append's own checks then refuse the write. A renewal
      // that failed to reach Redis is tried again at the next tick, while the lock may still hold.
      log.renewLock(token, o.ttlMs).then(
        (held) => {
          if (held && !released) renew();
        },
        () => {
          if (!released) renew();
        },
      );
    }, Math.max(1, Math.floor(o.ttlMs / 3)));
  };
  renew();
  return {
    token,
    async release() {
      released = true;
      timer?.cancel();
      await log.unlock(token).catch(() => undefined);
    },
  };
}
