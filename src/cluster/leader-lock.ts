/**
 * A Redis lock with an expiry that makes one node at a time the leader of some work (the
 * autoscaling loop). The key holds the holder's token and expires `ttlMs` after it was last set.
 * Every `renewMs` each node runs one script: the holder extends its lock, and any node finds a
 * free key (never taken, released, or expired because its holder died) and takes it. So a killed
 * leader is replaced within `ttlMs` plus one attempt, and a leader that shuts down releases the
 * key, which the next attempt of another node takes.
 *
 * A holder that cannot reach Redis cannot know whether its lock still stands. It counts its lock
 * valid until `ttlMs` after it sent its last successful attempt: Redis set the expiry later than
 * that, so the holder steps down before anyone else can take the key, and two nodes never lead at
 * once (clocks running at the same rate).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { RedisClient } from './connection.js';

export interface LeaderLockOptions {
  client: RedisClient;
  clock: Clock;
  /** The Redis key of the lock. */
  key: string;
  /** This node's token: its id and instance, unique to one start of one node. */
  token: string;
  ttlMs: number;
  /** @defaultValue a third of `ttlMs` */
  renewMs?: number;
  /** This node became the leader. */
  onAcquired: () => void;
  /** This node is no longer the leader (another took the lock, or it could not renew in time). */
  onLost: () => void;
  /** An attempt could not reach Redis; called once per run of failures. */
  onError?: (err: Error) => void;
}

// KEYS: the lock. ARGV: token, ttl ms. Takes a free key or extends this holder's; 1 when held.
const ATTEMPT = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

// KEYS: the lock. ARGV: token. Only the holder deletes it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class LeaderLock {
  private holding = false;
  /** While holding: until when the lock surely stands, on this node's clock. */
  private validUntil = 0;
  private timer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private failing = false;
  private readonly renewMs: number;

  constructor(private readonly o: LeaderLockOptions) {
    this.renewMs = o.renewMs ?? Math.max(1, Math.floor(o.ttlMs / 3));
    if (!(this.renewMs < o.ttlMs)) throw new TypeError('renewMs must be shorter than ttlMs');
  }

  /** Whether this node is the leader now. */
  get held(): boolean {
    return this.holding;
  }

  /** Makes the first attempt at once, then one every `renewMs`; resolves once the first is done. */
  start(): Promise<void> {
    if (this.started) return this.running ?? Promise.resolve();
    this.started = true;
    return this.attempt();
  }

  /** Resolves when an attempt under way has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Stops the attempts and, when holding, gives the lock up at once (without calling onLost). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.watchdog?.cancel();
    await this.running;
    if (!this.holding) return;
    this.holding = false;
    await this.o.client.eval(RELEASE, { keys: [this.o.key], arguments: [this.o.token] }).catch(() => undefined);
  }

  private attempt(): Promise<void> {
    this.timer = undefined;
    this.running = this.once().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = this.o.clock.setTimeout(() => void this.attempt(), this.renewMs);
    });
    return this.running;
  }

  private async once(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.o.clock.now();
    let got: boolean;
    try {
      got = Number(await this.o.client.eval(ATTEMPT, { keys: [this.o.key], arguments: [this.o.token, String(this.o.ttlMs)] })) === 1;
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.onError?.(err instanceof Error ? err : new Error(String(err)));
      this.failing = true;
      return; // the watchdog steps down once the last renewal no longer surely holds
    }
    if (this.stopped) return;
    // An answer that took longer than the lock lasts proves nothing about now.
    if (got && sentAt + this.o.ttlMs > this.o.clock.now()) {
      this.validUntil = sentAt + this.o.ttlMs;
      this.armWatchdog();
      if (!this.holding) {
        this.holding = true;
        this.o.onAcquired();
      }
    } else if (this.holding) {
      this.lose();
    }
  }

  /** Steps down at `validUntil` unless a renewal moved it on; runs even while an attempt hangs. */
  private armWatchdog(): void {
    this.watchdog?.cancel();
    this.watchdog = this.o.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.holding && this.o.clock.now() >= this.validUntil) this.lose();
    }, this.validUntil - this.o.clock.now());
  }

  private lose(): void {
    this.watchdog?.cancel();
    this.watchdog = undefined;
    this.holding = false;
    this.o.onLost();
  }
}
