/**
 * The embedded event queue: a SQLite file of its own in the data dir (`events.db`), apart from
 * registry.db so that a burst of events never contends with registry writes and either file can
 * be inspected or moved on its own.
 *
 * One column, `due_at`, orders everything: for a waiting event it is the time it may run, for a
 * leased one the time its lease expires. "Due" is therefore `due_at <= now` whatever the state,
 * and an event whose holder died becomes due again without any sweeper. A lease is one IMMEDIATE
 * transaction (choose the event, write the new token), so two leasers, even on two connections,
 * never get the same event.
 *
 * Durability: two connections to the one file. Enqueue and replay, the writes that answer a
 * caller who will not check again (the 202, a user's replay), commit on a connection with
 * `synchronous = FULL`: in WAL mode that syncs the WAL before the commit returns, so an
 * acknowledged event survives a power loss or kernel crash, not only a killed process. Lease,
 * extend, complete, reschedule and fail commit on a `NORMAL` connection (no sync per commit;
 * SIGKILL still loses nothing). Losing one of those to a power loss only brings an event back to
 * an earlier state, which at-least-once delivery already allows (it runs again), and the next
 * FULL commit syncs them too, since the WAL is one file synced in order. Two connections because
 * the level belongs to a connection: one connection would have to recompile a pragma around
 * every commit. A WAL sync costs tens to hundreds of microseconds on an SSD with a write cache
 * and milliseconds on spinning or network disks; `synchronous` lowers the accepting connection
 * to NORMAL where that is too slow, and concurrent enqueues share one sync (group commit).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrateDatabase, prepareDatabaseFile } from '../registry/data-dir.js';
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

export const EVENTS_DB = 'events.db';

/** One write of a group commit: what it returned, or why the database refused it. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Runs one write of a group commit; a refused statement fails its caller only, not the batch. */
function attempt(op: () => unknown): Outcome {
  try {
    return { ok: true, value: op() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Each entry upgrades the schema by one step; `PRAGMA user_version` records how far we got. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     function_name TEXT NOT NULL,
     qualifier TEXT,
     request_id TEXT NOT NULL,
     payload BLOB NOT NULL,
     accepted_at INTEGER NOT NULL,
     due_at INTEGER NOT NULL,
     lease_token TEXT,
     deliveries INTEGER NOT NULL DEFAULT 0,
     invocations INTEGER NOT NULL DEFAULT 0,
     function_errors INTEGER NOT NULL DEFAULT 0,
     throttles INTEGER NOT NULL DEFAULT 0,
     last_attempt TEXT,
     last_response BLOB
   );
   -- The next due event of one function, in order.
   CREATE INDEX events_due ON events(function_name, due_at, id);
   -- The earliest due time overall: "is anything due?" without visiting functions.
   CREATE INDEX events_next ON events(due_at);
   -- A function's unexpired leases, counted against its cap.
   CREATE INDEX events_leased ON events(function_name, due_at) WHERE lease_token IS NOT NULL;
   CREATE INDEX events_age ON events(function_name, accepted_at);
   -- Per-function depth kept by triggers: the list of functions a fair lease walks and the
   -- metrics' gauge read this small table, never a scan of the events.
   CREATE TABLE queue_functions (name TEXT PRIMARY KEY, depth INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TRIGGER events_inserted AFTER INSERT ON events BEGIN
     INSERT INTO queue_functions (name, depth) VALUES (NEW.function_name, 1)
       ON CONFLICT(name) DO UPDATE SET depth = depth + 1;
   END;
   CREATE TRIGGER events_deleted AFTER DELETE ON events BEGIN
     UPDATE queue_functions SET depth = depth - 1 WHERE name = OLD.function_name;
   END;
   CREATE TABLE failed_events (
     id INTEGER PRIMARY KEY,
     function_name TEXT NOT NULL,
     qualifier TEXT,
     request_id TEXT NOT NULL,
     payload BLOB NOT NULL,
     accepted_at INTEGER NOT NULL,
     due_at INTEGER NOT NULL,
     deliveries INTEGER NOT NULL,
     invocations INTEGER NOT NULL,
     function_errors INTEGER NOT NULL,
     throttles INTEGER NOT NULL,
     last_attempt TEXT,
     last_response BLOB,
     reason TEXT NOT NULL,
     failed_at INTEGER NOT NULL
   );
   CREATE INDEX failed_by_function ON failed_events(function_name, id);`,
  // The targets a stored event was bound for (a JSON list of ARNs).
  `ALTER TABLE failed_events ADD COLUMN destinations TEXT;`,
];

interface RawEvent {
  id: number;
  function_name: string;
  qualifier: string | null;
  request_id: string;
  payload: Buffer;
  accepted_at: number;
  due_at: number;
  lease_token: string | null;
  deliveries: number;
  invocations: number;
  function_errors: number;
  throttles: number;
  last_attempt: string | null;
  last_response: Buffer | null;
}

interface RawFailed extends Omit<RawEvent, 'lease_token'> {
  reason: string;
  failed_at: number;
  destinations: string | null;
}

function toEvent(r: Omit<RawEvent, 'lease_token'>): QueuedEvent {
  const e: QueuedEvent = {
    id: String(r.id),
    functionName: r.function_name,
    payload: r.payload,
    requestId: r.request_id,
    acceptedAt: r.accepted_at,
    runAt: r.due_at,
    counters: { invocations: r.invocations, functionErrors: r.function_errors, throttles: r.throttles },
    deliveries: r.deliveries,
  };
  if (r.qualifier !== null) e.qualifier = r.qualifier;
  if (r.last_attempt !== null) {
    e.lastAttempt = JSON.parse(r.last_attempt) as AttemptRecord;
    if (r.last_response !== null) e.lastAttempt.responsePayload = r.last_response;
  }
  return e;
}

/** The record's fields as stored: the response bytes go to their own BLOB column. */
function attemptColumns(a: AttemptRecord | undefined): { last_attempt: string | null; last_response: Buffer | null } {
  if (!a) return { last_attempt: null, last_response: null };
  const { responsePayload, ...rest } = a;
  return { last_attempt: JSON.stringify(rest), last_response: responsePayload ?? null };
}

function queued(event: NewEvent, id: number): QueuedEvent {
  const out: QueuedEvent = {
    id: String(id),
    functionName: event.functionName,
    payload: event.payload,
    requestId: event.requestId,
    acceptedAt: event.acceptedAt,
    runAt: event.runAt ?? event.acceptedAt,
    counters: { ...ZERO_COUNTERS },
    deliveries: 0,
  };
  if (event.qualifier !== undefined) out.qualifier = event.qualifier;
  return out;
}

/** Ids are SQLite rowids; anything else names no event. */
function rowid(id: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : undefined;
}

function prepare(db: Database.Database) {
  const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
  return {
    insert: p(
      `INSERT INTO events (function_name, qualifier, request_id, payload, accepted_at, due_at)
       VALUES (@functionName, @qualifier, @requestId, @payload, @acceptedAt, @dueAt)`,
    ),
    insertWithId: p(
      `INSERT INTO events (id, function_name, qualifier, request_id, payload, accepted_at, due_at)
       VALUES (@id, @function_name, @qualifier, @request_id, @payload, @accepted_at, @due_at)`,
    ),
    nextDue: p<{ at: number | null }>('SELECT MIN(due_at) AS at FROM events'),
    activeFunctions: p<{ name: string }>('SELECT name FROM queue_functions WHERE depth > 0 ORDER BY name'),
    inFlight: p<{ n: number }>('SELECT COUNT(*) AS n FROM events WHERE function_name = ? AND lease_token IS NOT NULL AND due_at > ?'),
    firstDue: p<RawEvent>('SELECT * FROM events WHERE function_name = ? AND due_at <= ? ORDER BY due_at, id LIMIT 1'),
    take: p('UPDATE events SET lease_token = ?, due_at = ?, deliveries = deliveries + 1 WHERE id = ?'),
    extend: p('UPDATE events SET due_at = ? WHERE id = ? AND lease_token = ?'),
    complete: p('DELETE FROM events WHERE id = ? AND lease_token = ?'),
    reschedule: p(
      `UPDATE events SET due_at = @runAt, lease_token = NULL, invocations = @invocations,
         function_errors = @functionErrors, throttles = @throttles,
         last_attempt = COALESCE(@last_attempt, last_attempt),
         last_response = CASE WHEN @last_attempt IS NULL THEN last_response ELSE @last_response END
       WHERE id = @id AND lease_token = @token`,
    ),
    leased: p<RawEvent>('SELECT * FROM events WHERE id = ? AND lease_token = ?'),
    remove: p('DELETE FROM events WHERE id = ?'),
    insertFailed: p(
      `INSERT OR REPLACE INTO failed_events (id, function_name, qualifier, request_id, payload, accepted_at, due_at,
         deliveries, invocations, function_errors, throttles, last_attempt, last_response, reason, failed_at, destinations)
       VALUES (@id, @function_name, @qualifier, @request_id, @payload, @accepted_at, @due_at,
         @deliveries, @invocations, @function_errors, @throttles, @last_attempt, @last_response, @reason, @failed_at, @destinations)`,
    ),
    failedPage: p<RawFailed>('SELECT * FROM failed_events WHERE function_name = ? AND id > ? ORDER BY id LIMIT ?'),
    failedById: p<RawFailed>('SELECT * FROM failed_events WHERE id = ?'),
    removeFailed: p('DELETE FROM failed_events WHERE id = ?'),
    depthOf: p<{ depth: number }>('SELECT depth FROM queue_functions WHERE name = ?'),
    depths: p<{ name: string; depth: number }>('SELECT name, depth FROM queue_functions ORDER BY name'),
    oldest: p<{ at: number | null }>('SELECT MIN(accepted_at) AS at FROM events WHERE function_name = ?'),
    releaseAll: p('UPDATE events SET lease_token = NULL, due_at = MIN(due_at, ?) WHERE lease_token IS NOT NULL'),
  };
}

export interface SqliteEventQueueOptions {
  /**
   * `NORMAL` trades the power-loss guarantee of acknowledged events for throughput on disks
   * where a sync is slow; a killed process still loses nothing.
   * @defaultValue 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** The database exists but cannot be used; the message names the file. */
export class EventDatabaseError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Event queue database ${file} ${problem}. Laminar does not start on it, so that no accepted event is silently lost. ` +
        `Restore it from a backup, or move it (with any -wal and -shm files beside it) out of the data dir to start with an empty queue.`,
      options,
    );
    this.name = new.target.name;
  }
}

export class SqliteEventQueue implements EventQueue {
  /** Commits acknowledged writes (enqueue, replay) with a WAL sync. */
  private readonly db: Database.Database;
  private readonly qa: ReturnType<typeof prepare>;
  /** Commits the dispatcher's bookkeeping without one. */
  private readonly work: Database.Database;
  private readonly q: ReturnType<typeof prepare>;
  /** The function leased last: the next lease starts after it. In memory, as fairness needs no history. */
  private cursor: string | undefined;
  /**
   * The dispatcher's writes waiting for the next group commit, in call order, and the transaction
   * that commits them (built once: better-sqlite3 builds a wrapper per `transaction()` call).
   */
  private workPending: { run: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }[] = [];
  private readonly workTx: Database.Transaction<(ops: readonly (() => unknown)[]) => Outcome[]>;
  /**
   * Lease tokens: a random prefix per queue instance and a counter. A token only has to differ
   * from every other lease's; drawing 16 random bytes per lease cost more than the lease's update.
   */
  private readonly tokenPrefix = randomBytes(8).toString('hex');
  private tokenSeq = 0;
  private pending: { event: NewEvent; resolve: (e: QueuedEvent) => void; reject: (err: unknown) => void }[] = [];

  /** Opens (creating if missing) `<dataDir>/events.db`. */
  static inDataDir(dataDir: string, opts?: SqliteEventQueueOptions): SqliteEventQueue {
    return new SqliteEventQueue(join(dataDir, EVENTS_DB), opts);
  }

  constructor(
    readonly file: string,
    opts: SqliteEventQueueOptions = {},
  ) {
    prepareDatabaseFile(file, (problem, cause) => new EventDatabaseError(file, problem, cause === undefined ? undefined : { cause }));
    try {
      this.db = new Database(file);
    } catch (err) {
      throw new EventDatabaseError(file, `cannot be read: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      const check = this.db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') throw new Error(`integrity check failed: ${check}`);
      migrateDatabase(this.db, MIGRATIONS);
      this.db.pragma(`synchronous = ${opts.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      this.qa = prepare(this.db);
      this.work = new Database(file);
    } catch (err) {
      this.db.close();
      throw err instanceof EventDatabaseError ? err : new EventDatabaseError(file, `cannot be used: ${(err as Error).message}`, { cause: err });
    }
    try {
      this.work.pragma('busy_timeout = 5000');
      this.work.pragma('synchronous = NORMAL');
      this.q = prepare(this.work);
      this.workTx = this.work.transaction((ops: readonly (() => unknown)[]) => ops.map(attempt));
    } catch (err) {
      this.work.close();
      this.db.close();
      throw new EventDatabaseError(file, `cannot be used: ${(err as Error).message}`, { cause: err });
    }
  }


  /** IMMEDIATE takes the write lock at BEGIN, so two leasers on two connections serialise instead of failing to upgrade. */
  private inTransaction<T>(fn: () => T, db = this.work): T {
    return db.transaction(fn).immediate();
  }

  /**
   * Group commit: enqueues that arrive in the same turn of the event loop (concurrent Event
   * invokes) share one transaction and so one WAL sync. Each promise still resolves only after
   * the commit that holds its event, so "durable when it resolves" is kept; what changes is that
   * a burst pays one sync per batch instead of one per event.
   */
  enqueue(event: NewEvent): Promise<QueuedEvent> {
    try {
      checkNewEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const ids = this.inTransaction(() => batch.map((p) => this.insert(p.event)), this.db);
      batch.forEach((p, i) => p.resolve(queued(p.event, ids[i]!)));
    } catch {
      // One event the database refuses must not fail the others: each gets its own commit.
      for (const p of batch) {
        try {
          p.resolve(queued(p.event, this.insert(p.event)));
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }

  private insert(event: NewEvent): number {
    return Number(
      this.qa.insert.run({
        functionName: event.functionName,
        qualifier: event.qualifier ?? null,
        requestId: event.requestId,
        payload: event.payload,
        acceptedAt: event.acceptedAt,
        dueAt: event.runAt ?? event.acceptedAt,
      }).lastInsertRowid,
    );
  }

  /**
   * Group commit of the dispatcher's writes (lease, extend, complete, reschedule, fail): those
   * called in the same turn of the event loop share one transaction, in call order. A commit
   * costs more than the statements in it, and an attempt that ends completes its event and leases
   * the next in the same turn, so the steady state pays one commit per event instead of two.
   * Each promise resolves after the commit that holds its write, as before.
   */
  private onWork<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.workPending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.workPending.length === 1) setImmediate(() => this.flushWork());
    });
  }

  private flushWork(): void {
    const batch = this.workPending;
    this.workPending = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      // IMMEDIATE takes the write lock at BEGIN, so two leasers on two connections serialise instead of failing to upgrade.
      outcomes = this.workTx.immediate(batch.map((op) => op.run));
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    }
    batch.forEach((op, i) => {
      const o = outcomes[i]!;
      if (o.ok) op.resolve(o.value);
      else op.reject(o.error);
    });
  }

  lease(now: number, visibilityMs: number, opts: LeaseOptions = {}): Promise<Lease | undefined> {
    return this.onWork(() => this.leaseOne(now, visibilityMs, opts));
  }

  private leaseOne(now: number, visibilityMs: number, opts: LeaseOptions): Lease | undefined {
    const next = this.q.nextDue.get()?.at;
    if (next === null || next === undefined || next > now) return undefined;
    const names = this.q.activeFunctions.all().map((r) => r.name);
    for (const fn of roundRobinOrder(names, this.cursor)) {
      const cap = opts.caps?.get(fn) ?? opts.defaultCap;
      if (cap !== undefined && (this.q.inFlight.get(fn, now)?.n ?? 0) >= cap) continue;
      const row = this.q.firstDue.get(fn, now);
      if (!row) continue;
      const token = `${this.tokenPrefix}-${(++this.tokenSeq).toString(36)}`;
      const expiresAt = now + visibilityMs;
      this.q.take.run(token, expiresAt, row.id);
      this.cursor = fn;
      const event = toEvent({ ...row, deliveries: row.deliveries + 1 });
      return { event, token, expiresAt };
    }
    return undefined;
  }

  async extend(id: string, token: string, expiresAt: number): Promise<boolean> {
    const n = rowid(id);
    return n !== undefined && this.onWork(() => this.q.extend.run(expiresAt, n, token).changes === 1);
  }

  async complete(id: string, token: string): Promise<boolean> {
    const n = rowid(id);
    return n !== undefined && this.onWork(() => this.q.complete.run(n, token).changes === 1);
  }

  async reschedule(id: string, token: string, runAt: number, counters: EventCounters, lastAttempt?: AttemptRecord): Promise<boolean> {
    const n = rowid(id);
    if (n === undefined) return false;
    const columns = attemptColumns(lastAttempt);
    return this.onWork(() => this.q.reschedule.run({ id: n, token, runAt, ...counters, ...columns }).changes === 1);
  }

  async fail(id: string, token: string, reason: string, now: number, ending: FailEnding = {}): Promise<boolean> {
    const { lastAttempt, counters, destinations = [] } = ending;
    const n = rowid(id);
    if (n === undefined) return false;
    // A savepoint within the group commit: the copy and the removal happen together or not at all.
    return this.onWork(() => this.inTransaction((): boolean => {
      const row = this.q.leased.get(n, token);
      if (!row) return false;
      const { lease_token: _, ...rest } = row;
      const attempt = lastAttempt ? attemptColumns(lastAttempt) : { last_attempt: row.last_attempt, last_response: row.last_response };
      const count = counters ? { invocations: counters.invocations, function_errors: counters.functionErrors, throttles: counters.throttles } : {};
      this.q.insertFailed.run({
        ...rest,
        ...count,
        ...attempt,
        reason,
        failed_at: now,
        destinations: destinations.length > 0 ? JSON.stringify(destinations) : null,
      });
      this.q.remove.run(n);
      return true;
    }));
  }

  async listFailed(functionName: string, opts: ListFailedOptions = {}): Promise<FailedEvent[]> {
    const after = opts.after === undefined ? 0 : (rowid(opts.after) ?? 0);
    return this.q.failedPage.all(functionName, after, opts.limit ?? 100).map((r) => ({
      ...toEvent(r),
      reason: r.reason,
      failedAt: r.failed_at,
      destinations: r.destinations === null ? [] : (JSON.parse(r.destinations) as string[]),
    }));
  }

  async replay(id: string, now: number): Promise<QueuedEvent | undefined> {
    const n = rowid(id);
    if (n === undefined) return undefined;
    return this.inTransaction((): QueuedEvent | undefined => {
      const row = this.qa.failedById.get(n);
      if (!row) return undefined;
      // The same id and request id, so logs and the failed listing tie the runs together.
      this.qa.insertWithId.run({ ...row, accepted_at: now, due_at: now });
      this.qa.removeFailed.run(n);
      const out: QueuedEvent = {
        id: String(n),
        functionName: row.function_name,
        payload: row.payload,
        requestId: row.request_id,
        acceptedAt: now,
        runAt: now,
        counters: { ...ZERO_COUNTERS },
        deliveries: 0,
      };
      if (row.qualifier !== null) out.qualifier = row.qualifier;
      return out;
    }, this.db);
  }

  depth(): Promise<Map<string, number>>;
  depth(functionName: string): Promise<number>;
  async depth(functionName?: string): Promise<number | Map<string, number>> {
    if (functionName !== undefined) return this.q.depthOf.get(functionName)?.depth ?? 0;
    return new Map(this.q.depths.all().map((r) => [r.name, r.depth]));
  }

  async oldestAge(functionName: string, now: number): Promise<number | undefined> {
    const at = this.q.oldest.get(functionName)?.at;
    return at === null || at === undefined ? undefined : now - at;
  }

  async nextDueAt(): Promise<number | undefined> {
    return this.q.nextDue.get()?.at ?? undefined;
  }

  /**
   * Makes every leased event due at `now` at the latest. The data dir has one server (its lock
   * file), so at start no lease can have a live holder: the events a killed server held run
   * again at once instead of after their visibility timeout. Not part of the port: with several
   * nodes sharing a queue, another node's leases are alive.
   */
  releaseAllLeases(now: number): number {
    return this.q.releaseAll.run(now).changes;
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // Enqueues already accepted, and the dispatcher's last writes, commit before the file closes.
    this.flush();
    this.flushWork();
    this.work.close();
    this.db.close();
  }
}

