/**
 * The registry of a cluster node: the node's own SQLite registry, kept as a replica of the
 * cluster's registry log in Redis (registry-log.ts). Reads (resolve on every invoke, the API's
 * gets and lists) stay local and synchronous. Writes go through `write`:
 *
 * 1. take the cluster's registry lock (registry-lock.ts), so writes run one at a time;
 * 2. catch up with the log, so the write's checks (RevisionId, names taken) see every earlier write;
 * 3. run the caller's registry calls in a SQLite transaction, recording each store write
 *    (recording-store.ts) and holding the write's effects (change events, code removal);
 * 4. roll the transaction back; if anything was written, store the archives it references in
 *    Redis and append one entry to the log (checked against the lock and the log's length);
 * 5. apply the entry as every other node does: its calls in one transaction, then its effects.
 * A write's rows are seen only while it runs (by the write itself, and by reads that come in
 * while it awaits something); after that they are back only once the log has them. Every node,
 * the writer included, builds its state from the same entries, and a write the log refused
 * leaves nothing behind: no rows, no events, no extracted code.
 *
 * Other nodes learn of an entry from the log's channel, and from a poll of the log's length (a
 * backstop for messages lost while a subscription reconnected), and catch up. A node restarted
 * catches up from the position its replica recorded. If Redis holds another cluster (or lost its
 * data and a node re-seeded it from its own replica), the replica is emptied and rebuilt from the
 * log. If Redis holds none at all, the first node to notice seeds the log with a snapshot of its
 * own replica: a Redis restarted without persistence does not take every function with it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SystemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { Registry, type RegistryOptions } from '../registry/registry.js';
import { ArchiveStore } from './archive-store.js';
import { LogFollower, type AppliedListener } from './log-follower.js';
import { encodeEntry, type WriteEntry } from './log-entry.js';
import { archivesOf, RecordingStore } from './recording-store.js';
import type { RedisConnectionOptions } from './redis-link.js';
import { RegistryUnavailableError } from './registry-errors.js';
import { acquireLock, type LockOptions } from './registry-lock.js';
import { RegistryLog } from './registry-log.js';
import type { SideStore } from './side-store.js';

export { RegistryBusyError, RegistryUnavailableError } from './registry-errors.js';
export { UnloggedRegistryWriteError } from './recording-store.js';

export interface RegistryReplicaOptions {
  /** The node's own registry; the replica supplies its store and background writes. */
  registry: Omit<RegistryOptions, 'openStore' | 'backgroundWrites'>;
  redis: RedisConnectionOptions;
  /**
   * Stores beside the registry whose writes the log carries too (side-store.ts), by a name that
   * must be the same on every node: from now on they are written only through `write`.
   */
  sides?: Record<string, SideStore>;
  /** Prepended to every key; see registry-log.ts. @defaultValue 'laminar:registry:' */
  prefix?: string;
  /** How often the log's length is polled, the backstop of the channel. @defaultValue 250 */
  pollIntervalMs?: number;
  /** Expiry of the registry lock, renewed while held. @defaultValue 5000 */
  lockTtlMs?: number;
  /** How long a write waits for the lock before `RegistryBusyError`. @defaultValue 10000 */
  lockWaitMs?: number;
  /** Times the poll, the lock's waits and renewals. Redis expires the lock in real time, so real time. */
  timers?: Clock;
  /** Told of failures in the background (catching up, background writes), for logs. */
  onError?: (err: unknown) => void;
}

export class RegistryReplica {
  readonly registry: Registry;
  private readonly store: RecordingStore;
  private readonly archives: ArchiveStore;
  private readonly follower: LogFollower;
  private readonly lock: LockOptions;
  private readonly timers: Clock;
  /** Writes and catch-ups run one at a time, in order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Marks the running write, so a write inside it joins it. */
  private readonly inWrite = new AsyncLocalStorage<{ active: boolean }>();
  private started = false;
  private closed = false;
  private readonly beforeStart: (() => void)[] = [];
  private pollTimer: TimerHandle | undefined;
  private catchUpQueued = false;
  private failing = false;

  /** Connects to Redis, opens the node's registry and catches up; rejects with `RegistryUnavailableError` when Redis cannot be reached. */
  static async open(opts: RegistryReplicaOptions): Promise<RegistryReplica> {
    const log = await RegistryLog.open(opts.redis, opts.prefix);
    let replica: RegistryReplica | undefined;
    try {
      replica = new RegistryReplica(opts, log);
      const r = replica;
      await r.serial(() => r.follower.sync());
      r.started = true;
      for (const write of r.beforeStart.splice(0)) r.background(write);
      await log.subscribe(() => r.nudge(), () => r.nudge());
      r.poll();
      return r;
    } catch (err) {
      if (replica) await replica.close();
      else await log.close();
      throw err;
    }
  }

  private constructor(
    private readonly opts: RegistryReplicaOptions,
    private readonly log: RegistryLog,
  ) {
    this.timers = opts.timers ?? new SystemClock();
    this.lock = { ttlMs: opts.lockTtlMs ?? 5000, waitMs: opts.lockWaitMs ?? 10_000, clock: this.timers };
    let store: RecordingStore | undefined;
    this.registry = Registry.open({
      ...opts.registry,
      openStore: (file) => (store = new RecordingStore(file)),
      backgroundWrites: (write) => this.background(write),
    });
    if (!store) throw new Error('the registry did not open its store through the replica');
    this.store = store;
    for (const [name, side] of Object.entries(opts.sides ?? {})) store.attach(name, side);
    this.archives = new ArchiveStore(log, this.registry.replication.code);
    this.follower = new LogFollower(store, this.registry, log, this.archives);
  }

  /** The position in the cluster's log this node has applied. */
  get applied(): number {
    return this.follower.applied;
  }

  /** The cluster this node's replica follows: the id Redis holds. */
  get clusterId(): string | undefined {
    return this.follower.cluster;
  }

  /** Whether Redis can be reached now (for /health). */
  get available(): boolean {
    return this.log.available;
  }

  /** Resolves once Redis can be reached again. */
  whenAvailable(): Promise<void> {
    return this.log.whenAvailable();
  }

  /**
   * Calls `listener` with the sequence number of each entry applied here (written here or
   * elsewhere) and the side stores it changed.
   */
  onApplied(listener: AppliedListener): () => void {
    // Entries are also applied while a write catches up before it runs: a listener that writes
    // in turn must queue a write of its own then, not join that one (whose record has not begun).
    return this.follower.onApplied((seq, sides) => this.inWrite.exit(() => listener(seq, sides)));
  }

  /**
   * Runs `fn`, whose registry calls are the write, as one cluster-wide write (see the top of
   * this file). Resolves with what `fn` returned once every node can apply the write; rejects
   * with `fn`'s error (the registry's Lambda errors: what `fn` wrote before it threw is kept, as
   * on a single node), or with `RegistryUnavailableError` / `RegistryBusyError` when the write
   * could not be logged, in which case nothing changed on this node. (An append whose reply was
   * lost may still be in the log; every node, this one included, then applies it when it next
   * catches up, as for any entry.) A write inside `fn` joins it.
   */
  async write<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.inWrite.getStore()?.active) return await fn();
    return this.serial(async () => {
      const state = { active: true };
      try {
        return await this.inWrite.run(state, () => this.writeLocked(fn));
      } finally {
        state.active = false;
      }
    });
  }

  /** Resolves once every write and catch-up started so far has ended. */
  async idle(): Promise<void> {
    for (let seen: Promise<unknown> | undefined; seen !== this.tail; ) {
      seen = this.tail;
      await seen.catch(() => undefined);
    }
  }

  /** Stops polling, waits for the running write, closes the registry and the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pollTimer?.cancel();
    await this.idle();
    this.registry.close();
    await this.log.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeLocked<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.closed) throw new RegistryUnavailableError(this.log.target, 'the registry replica is closed');
    const held = await acquireLock(this.log, this.lock);
    try {
      await this.follower.sync();
      return await this.runAndLog(fn, held.token);
    } finally {
      await held.release();
    }
  }

  private async runAndLog<T>(fn: () => T | Promise<T>, token: string): Promise<T> {
    const effects = this.registry.replication.effects;
    this.store.begin();
    this.store.startRecording();
    effects.hold();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await fn() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const calls = this.store.stopRecording();
    const held = effects.take();
    this.store.rollback();
    if (calls.length > 0) {
      const entry: WriteEntry = { kind: 'write', calls, changes: held.changes, garbage: held.garbage, archives: [...new Set(calls.flatMap(archivesOf))] };
      let seq: number;
      try {
        await this.archives.upload(entry.archives);
        seq = await this.log.append(token, this.follower.cluster ?? '', this.follower.applied, encodeEntry(entry));
      } catch (err) {
        // Nothing happened: no events; the code the write extracted goes unless something uses it.
        effects.apply({ changes: [], garbage: [...entry.archives, ...held.garbage] });
        throw err;
      }
      await this.follower.apply(seq, entry);
      // Under the lock on an up-to-date replica: what it does not use, no node uses.
      await this.archives.drop(entry.garbage, (hash) => this.store.hashInUse(hash)).catch((err: unknown) => this.report(err));
    } else {
      effects.apply(held);
    }
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Catches up soon, once: a message on the channel, a reconnect, a poll tick. */
  private nudge(): void {
    if (this.closed || this.catchUpQueued) return;
    this.catchUpQueued = true;
    this.serial(async () => {
      this.catchUpQueued = false;
      if (this.closed) return;
      await this.follower.sync();
      this.failing = false;
    }).catch((err: unknown) => this.report(err));
  }

  private poll(): void {
    if (this.closed) return;
    this.pollTimer = this.timers.setTimeout(() => {
      this.nudge();
      this.poll();
    }, this.opts.pollIntervalMs ?? 250);
  }

  /** A write the registry starts by itself; retried while Redis is away (settling is idempotent). */
  private background(write: () => void): void {
    if (!this.started) {
      this.beforeStart.push(write);
      return;
    }
    this.write(write).catch((err: unknown) => {
      this.report(err);
      if (err instanceof RegistryUnavailableError && !this.closed) {
        this.timers.setTimeout(() => this.background(write), Math.max(1000, this.opts.pollIntervalMs ?? 250));
      }
    });
  }

  /** Reports a background failure once, not at every poll while Redis stays away. */
  private report(err: unknown): void {
    if (this.failing && err instanceof RegistryUnavailableError) return;
    this.failing = err instanceof RegistryUnavailableError;
    this.opts.onError?.(err);
  }
}
