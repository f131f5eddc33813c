/**
 * An event queue held in memory: nothing survives the process. For unit tests of code that
 * drives a queue (the dispatcher), where a database file per test is only overhead. It passes
 * the same conformance suite as the SQLite queue, minus restart durability.
 */
import { randomBytes } from 'node:crypto';
import {
  checkNewEvent,
  roundRobinOrder,
  ZERO_COUNTERS,
  type AttemptRecord,
  type EventCounters,
  type EventQueue,
  type FailEnding,
  type FailedEvent,
  type Lease,
  type LeaseOptions,
  type ListFailedOptions,
  type NewEvent,
  type QueuedEvent,
} from './queue.js';

interface Entry {
  event: QueuedEvent;
  /** As in the SQLite queue: the run time while waiting, the lease expiry while leased. */
  dueAt: number;
  token?: string;
}

/** Copies, so callers cannot change what the queue holds (a database would not let them). */
function copy<T extends QueuedEvent>(e: T): T {
  const out = { ...e, counters: { ...e.counters } };
  if (e.lastAttempt) out.lastAttempt = { ...e.lastAttempt };
  if ('destinations' in out && Array.isArray(out.destinations)) out.destinations = [...(out.destinations as string[])];
  return out;
}

export class MemoryEventQueue implements EventQueue {
  private nextId = 1;
  private readonly entries = new Map<number, Entry>();
  private readonly failed = new Map<number, FailedEvent>();
  /** Functions that ever had events, with their depth. */
  private readonly depths = new Map<string, number>();
  private cursor: string | undefined;

  async enqueue(event: NewEvent): Promise<QueuedEvent> {
    checkNewEvent(event);
    const id = this.nextId++;
    const dueAt = event.runAt ?? event.acceptedAt;
    const queued: QueuedEvent = {
      id: String(id),
      functionName: event.functionName,
      payload: Buffer.from(event.payload),
      requestId: event.requestId,
      acceptedAt: event.acceptedAt,
      runAt: dueAt,
      counters: { ...ZERO_COUNTERS },
      deliveries: 0,
    };
    if (event.qualifier !== undefined) queued.qualifier = event.qualifier;
    this.add(id, queued, dueAt);
    return copy(queued);
  }

  private add(id: number, event: QueuedEvent, dueAt: number): void {
    this.entries.set(id, { event, dueAt });
    this.depths.set(event.functionName, (this.depths.get(event.functionName) ?? 0) + 1);
  }

  private remove(id: number, entry: Entry): void {
    this.entries.delete(id);
    this.depths.set(entry.event.functionName, (this.depths.get(entry.event.functionName) ?? 1) - 1);
  }

  async lease(now: number, visibilityMs: number, opts: LeaseOptions = {}): Promise<Lease | undefined> {
    const byFunction = new Map<string, { id: number; entry: Entry }>();
    const inFlight = new Map<string, number>();
    for (const [id, entry] of this.entries) {
      const fn = entry.event.functionName;
      if (entry.token !== undefined && entry.dueAt > now) inFlight.set(fn, (inFlight.get(fn) ?? 0) + 1);
      if (entry.dueAt > now) continue;
      const best = byFunction.get(fn);
      if (!best || entry.dueAt < best.entry.dueAt || (entry.dueAt === best.entry.dueAt && id < best.id)) byFunction.set(fn, { id, entry });
    }
    for (const fn of roundRobinOrder([...byFunction.keys()].sort(), this.cursor)) {
      const cap = opts.caps?.get(fn) ?? opts.defaultCap;
      if (cap !== undefined && (inFlight.get(fn) ?? 0) >= cap) continue;
      const { entry } = byFunction.get(fn)!;
      entry.token = randomBytes(16).toString('hex');
      entry.event.runAt = entry.dueAt;
      entry.event.deliveries++;
      entry.dueAt = now + visibilityMs;
      this.cursor = fn;
      return { event: copy(entry.event), token: entry.token, expiresAt: entry.dueAt };
    }
    return undefined;
  }

  private held(id: string, token: string): { id: number; entry: Entry } | undefined {
    const n = Number(id);
    const entry = this.entries.get(n);
    return entry && entry.token === token ? { id: n, entry } : undefined;
  }

  async extend(id: string, token: string, expiresAt: number): Promise<boolean> {
    const h = this.held(id, token);
    if (h) h.entry.dueAt = expiresAt;
    return h !== undefined;
  }

  async complete(id: string, token: string): Promise<boolean> {
    const h = this.held(id, token);
    if (h) this.remove(h.id, h.entry);
    return h !== undefined;
  }

  async reschedule(id: string, token: string, runAt: number, counters: EventCounters, lastAttempt?: AttemptRecord): Promise<boolean> {
    const h = this.held(id, token);
    if (!h) return false;
    delete h.entry.token;
    h.entry.dueAt = runAt;
    h.entry.event.runAt = runAt;
    h.entry.event.counters = { ...counters };
    if (lastAttempt) h.entry.event.lastAttempt = { ...lastAttempt };
    return true;
  }

  async fail(id: string, token: string, reason: string, now: number, ending: FailEnding = {}): Promise<boolean> {
    const h = this.held(id, token);
    if (!h) return false;
    this.remove(h.id, h.entry);
    const failed: FailedEvent = { ...h.entry.event, reason, failedAt: now, destinations: [...(ending.destinations ?? [])] };
    if (ending.counters) failed.counters = { ...ending.counters };
    if (ending.lastAttempt) failed.lastAttempt = { ...ending.lastAttempt };
    this.failed.set(h.id, failed);
    return true;
  }

  async listFailed(functionName: string, opts: ListFailedOptions = {}): Promise<FailedEvent[]> {
    const after = opts.after === undefined ? 0 : Number(opts.after) || 0;
    return [...this.failed]
      .filter(([id, f]) => f.functionName === functionName && id > after)
      .sort(([a], [b]) => a - b)
      .slice(0, opts.limit ?? 100)
      .map(([, f]) => copy(f));
  }

  async replay(id: string, now: number): Promise<QueuedEvent | undefined> {
    const n = Number(id);
    const f = this.failed.get(n);
    if (!f) return undefined;
    this.failed.delete(n);
    const { reason: _r, failedAt: _f, lastAttempt: _l, destinations: _d, ...rest } = f;
    const event: QueuedEvent = { ...rest, acceptedAt: now, runAt: now, counters: { ...ZERO_COUNTERS }, deliveries: 0 };
    this.add(n, event, now);
    return copy(event);
  }

  depth(): Promise<Map<string, number>>;
  depth(functionName: string): Promise<number>;
  async depth(functionName?: string): Promise<number | Map<string, number>> {
    if (functionName !== undefined) return this.depths.get(functionName) ?? 0;
    return new Map([...this.depths].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async oldestAge(functionName: string, now: number): Promise<number | undefined> {
    let oldest: number | undefined;
    for (const { event } of this.entries.values()) {
      if (event.functionName === functionName && (oldest === undefined || event.acceptedAt < oldest)) oldest = event.acceptedAt;
    }
    return oldest === undefined ? undefined : now - oldest;
  }

  async nextDueAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const { dueAt } of this.entries.values()) if (next === undefined || dueAt < next) next = dueAt;
    return next;
  }

  async close(): Promise<void> {}
}
