/**
 * The cluster event queue: the EventQueue port on Redis, shared by every node started with the
 * same Redis and key prefix, so an event accepted by one node runs on another if that node dies.
 *
 * Mechanism: atomic Lua scripts over Redis sorted sets and hashes, `now` passed in by the caller
 * (layout in redis-queue-scripts.ts), through node-redis. BullMQ and Streams cannot meet the port
 * unchanged: BullMQ's locks, stalled-job recovery and delays and XAUTOCLAIM's idle times run on
 * Redis's or the worker's clock, while the port, its conformance suite and the retry policy's
 * event age take time from the injected clock; neither has per-function fairness with in-flight
 * caps, and Streams has no delayed delivery. The scripts mirror the SQLite queue instead.
 *
 * Durability is Redis's: an enqueue resolves once Redis has applied it, and it survives a Redis
 * restart or crash as far as Redis's persistence is set to (`appendonly yes` with `appendfsync
 * always` keeps every acknowledged event; `everysec` may lose the last second on a crash).
 * Commands issued in one turn travel in one pipeline and Redis syncs its AOF once per batch, so a
 * burst of enqueues shares syncs as the SQLite queue's group commit does. Faults: see
 * redis-queue-connection.ts (every operation rejects with `QueueUnavailableError` while Redis
 * cannot be reached).
 */
import { randomBytes } from 'node:crypto';
import type { RedisArgument } from 'redis';
import { checkNewEvent, ZERO_COUNTERS, type AttemptRecord, type EventCounters, type EventQueue, type FailEnding, type FailedEvent, type Lease, type LeaseOptions, type ListFailedOptions, type NewEvent, type QueuedEvent } from './queue.js';
import { attemptArgs, counterArgs, list, num, text, toEventReply, toFailed, validId, type Reply } from './redis-queue-codec.js';
import { RedisQueueConnection, script, type RedisConnectionOptions, type Script } from './redis-queue-connection.js';
import * as lua from './redis-queue-scripts.js';

export { QueueUnavailableError } from './redis-queue-connection.js';

export const DEFAULT_QUEUE_PREFIX = 'laminar:';

export interface RedisEventQueueOptions extends RedisConnectionOptions {
  /**
   * Prepended to every key, so several queues (or tests) share one Redis apart. On Redis
   * Cluster, give it a hash tag (`{laminar}:`) so every key of the queue is in one slot.
   * @defaultValue 'laminar:'
   */
  prefix?: string;
}

const SCRIPTS = {
  enqueue: script(lua.ENQUEUE),
  lease: script(lua.LEASE),
  extend: script(lua.EXTEND),
  complete: script(lua.COMPLETE),
  reschedule: script(lua.RESCHEDULE),
  fail: script(lua.FAIL),
  listFailed: script(lua.LIST_FAILED),
  replay: script(lua.REPLAY),
  depth: script(lua.DEPTH),
  nextDue: script(lua.NEXT_DUE),
};

export class RedisEventQueue implements EventQueue {
  readonly prefix: string;
  /** As in the SQLite queue: a random prefix per instance and a counter, unique across nodes. */
  private readonly tokenPrefix = randomBytes(8).toString('hex');
  private tokenSeq = 0;

  /** Connects; rejects with `QueueUnavailableError` when Redis cannot be reached, so a node does not start on it. */
  static async connect(opts: RedisEventQueueOptions): Promise<RedisEventQueue> {
    return new RedisEventQueue(await RedisQueueConnection.open(opts), opts.prefix ?? DEFAULT_QUEUE_PREFIX);
  }

  private constructor(
    private readonly conn: RedisQueueConnection,
    prefix: string,
  ) {
    this.prefix = prefix;
  }

  /** Where the queue lives, without credentials. */
  get target(): string {
    return this.conn.target;
  }

  /** Whether Redis can be reached now. */
  get available(): boolean {
    return this.conn.available;
  }

  /** Resolves once Redis can be reached again (at once when it can); rejects if the queue closes first. */
  whenAvailable(): Promise<void> {
    return this.conn.whenAvailable();
  }

  /** Every script gets the prefix first and `P seq` as its declared key. */
  private run(s: Script, args: readonly RedisArgument[]): Promise<Reply> {
    return this.conn.run(s, `${this.prefix}seq`, [this.prefix, ...args]);
  }

  async enqueue(event: NewEvent): Promise<QueuedEvent> {
    checkNewEvent(event);
    const runAt = event.runAt ?? event.acceptedAt;
    const args: RedisArgument[] = [event.functionName, event.requestId, event.payload, String(event.acceptedAt), String(runAt)];
    if (event.qualifier !== undefined) args.push(event.qualifier);
    const id = text(await this.run(SCRIPTS.enqueue, args), 'an id');
    const out: QueuedEvent = {
      id,
      functionName: event.functionName,
      payload: event.payload,
      requestId: event.requestId,
      acceptedAt: event.acceptedAt,
      runAt,
      counters: { ...ZERO_COUNTERS },
      deliveries: 0,
    };
    if (event.qualifier !== undefined) out.qualifier = event.qualifier;
    return out;
  }

  async lease(now: number, visibilityMs: number, opts: LeaseOptions = {}): Promise<Lease | undefined> {
    const token = `${this.tokenPrefix}-${(++this.tokenSeq).toString(36)}`;
    const expiresAt = now + visibilityMs;
    const args: RedisArgument[] = [String(now), String(expiresAt), token, opts.defaultCap === undefined ? '' : String(opts.defaultCap)];
    for (const [fn, cap] of opts.caps ?? []) args.push(fn, String(cap));
    const reply = await this.run(SCRIPTS.lease, args);
    return reply === null ? undefined : { event: toEventReply(reply), token, expiresAt };
  }

  async extend(id: string, token: string, expiresAt: number): Promise<boolean> {
    return validId(id) && (await this.run(SCRIPTS.extend, [id, token, String(expiresAt)])) === 1;
  }

  async complete(id: string, token: string): Promise<boolean> {
    return validId(id) && (await this.run(SCRIPTS.complete, [id, token])) === 1;
  }

  async reschedule(id: string, token: string, runAt: number, counters: EventCounters, lastAttempt?: AttemptRecord): Promise<boolean> {
    if (!validId(id)) return false;
    const args: RedisArgument[] = [id, token, String(runAt), ...counterArgs(counters)];
    if (lastAttempt) {
      const a = attemptArgs(lastAttempt);
      args.push(a.json);
      if (a.response) args.push(a.response);
    }
    return (await this.run(SCRIPTS.reschedule, args)) === 1;
  }

  async fail(id: string, token: string, reason: string, now: number, ending: FailEnding = {}): Promise<boolean> {
    if (!validId(id)) return false;
    const { counters, lastAttempt, destinations = [] } = ending;
    const a = lastAttempt ? attemptArgs(lastAttempt) : undefined;
    const args: RedisArgument[] = [
      id,
      token,
      reason,
      String(now),
      destinations.length > 0 ? JSON.stringify(destinations) : '',
      counters ? '1' : '0',
      ...counterArgs(counters),
      a ? '1' : '0',
      a?.json ?? '',
      a?.response ? '1' : '0',
      a?.response ?? '',
    ];
    return (await this.run(SCRIPTS.fail, args)) === 1;
  }

  async listFailed(functionName: string, opts: ListFailedOptions = {}): Promise<FailedEvent[]> {
    const after = opts.after !== undefined && validId(opts.after) ? opts.after : '0';
    const rows = list(await this.run(SCRIPTS.listFailed, [functionName, after, String(opts.limit ?? 100)]), 'failed events');
    return rows.map(toFailed);
  }

  async replay(id: string, now: number): Promise<QueuedEvent | undefined> {
    if (!validId(id)) return undefined;
    const reply = await this.run(SCRIPTS.replay, [id, String(now)]);
    return reply === null ? undefined : toEventReply(reply);
  }

  depth(): Promise<Map<string, number>>;
  depth(functionName: string): Promise<number>;
  async depth(functionName?: string): Promise<number | Map<string, number>> {
    if (functionName !== undefined) return num(list(await this.run(SCRIPTS.depth, [functionName]))[0], 'a depth');
    const flat = list(await this.run(SCRIPTS.depth, []), 'depths');
    const pairs: [string, number][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([text(flat[i], 'a function name'), num(flat[i + 1], 'a depth')]);
    return new Map(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async oldestAge(functionName: string, now: number): Promise<number | undefined> {
    const oldest = list(await this.run(SCRIPTS.depth, [functionName]))[1];
    return oldest === null || oldest === undefined ? undefined : now - num(oldest, 'an acceptance time');
  }

  async nextDueAt(): Promise<number | undefined> {
    const at = await this.run(SCRIPTS.nextDue, []);
    return at === null ? undefined : num(at, 'a due time');
  }

  /** Ends the connection; later operations reject. */
  close(): Promise<void> {
    return this.conn.close();
  }
}
