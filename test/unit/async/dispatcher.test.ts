/**
 * The dispatcher against the memory queue, the real ledger and a scheduler whose outcomes the
 * test scripts; time is a ManualClock. Waits are on the dispatcher's own signals (idle, settled).
 */
import { describe, expect, it } from 'vitest';
import type { InvocationRecord } from '../../../src/async/destination-record.js';
import type { EventDestinations } from '../../../src/async/destinations.js';
import { Dispatcher, type DispatchScheduler, type EventSettings } from '../../../src/async/dispatcher.js';
import { MemoryEventQueue } from '../../../src/async/memory-queue.js';
import { DEFAULT_RETRY_CONFIG } from '../../../src/async/retry-policy.js';
import { ManualClock } from '../../../src/core/clock.js';
import { ResourceNotFoundException, ServiceException, TooManyRequestsException } from '../../../src/core/errors.js';
import { Metrics } from '../../../src/metrics/metrics.js';
import type { ResolvedTarget } from '../../../src/registry/types.js';
import { Ledger } from '../../../src/scheduler/admission/ledger.js';
import type { InvocationResult } from '../../../src/scheduler/scheduler.js';

type Outcome = 'ok' | 'error' | 'throttle' | 'system' | 'hang';

interface Call {
  functionName: string;
  version: string;
  at: number;
  requestId: string;
  payload: Buffer;
  /** Ends a `hang` call: successfully, or with a function error. */
  finish(error?: boolean): void;
}

/** Admits through the real ledger (as the scheduler does, in the same turn) and ends as scripted. */
class FakeScheduler implements DispatchScheduler {
  readonly calls: Call[] = [];
  private readonly scripts = new Map<string, Outcome[]>();

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: ManualClock,
  ) {}

  script(fn: string, ...outcomes: Outcome[]): void {
    this.scripts.set(fn, outcomes);
  }

  reservation(fn: string): number | undefined {
    return this.ledger.reserved.get(fn);
  }

  async invoke(target: ResolvedTarget, options: { requestId?: string }, payload: Buffer): Promise<InvocationResult> {
    const fn = target.functionName;
    const outcome = this.scripts.get(fn)?.shift() ?? 'ok';
    if (outcome === 'throttle') throw new TooManyRequestsException('Rate Exceeded.', 'FunctionInvocationRateLimitExceeded');
    if (outcome === 'system') throw new ServiceException('the code folder is missing');
    const permit = this.ledger.acquire(fn);
    if (!('release' in permit)) throw new TooManyRequestsException('Rate Exceeded.', permit.reason);
    let finish: (error?: boolean) => void = () => {};
    const ended = new Promise<boolean>((resolve) => (finish = (error) => resolve(error ?? false)));
    this.calls.push({ functionName: fn, version: target.version, at: this.clock.now(), requestId: options.requestId ?? '', payload, finish });
    if (outcome !== 'hang') finish(outcome === 'error');
    try {
      const failed = await ended;
      return {
        requestId: options.requestId ?? '',
        executedVersion: target.version,
        payload: Buffer.from(failed ? '{"errorType":"Error","errorMessage":"boom"}' : '{}'),
        ...(failed ? { functionError: 'Error' } : {}),
        log: '',
        coldStart: false,
        durationMs: 1,
      };
    } finally {
      permit.release();
    }
  }

  of(fn: string): Call[] {
    return this.calls.filter((c) => c.functionName === fn);
  }
}

const T0 = Date.UTC(2026, 0, 1);

/** A queue whose failed-event store refuses every write, as a full or broken disk would. */
class RefusingStoreQueue extends MemoryEventQueue {
  override async fail(): Promise<boolean> {
    throw new Error('SQLITE_FULL: database or disk is full');
  }
}

interface SetupOptions {
  maxConcurrency?: number;
  regionalLimit?: number;
  versions?: Map<string, string>;
  deleted?: Set<string>;
  /** Destinations (and retry settings) per function. */
  settings?: Record<string, Partial<EventSettings> & { destinations?: EventDestinations }>;
  queue?: MemoryEventQueue;
}

const PARTITION = { region: 'us-east-1', accountId: '000000000000' };
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:dlq';

function setup(opts: SetupOptions = {}) {
  const clock = new ManualClock(T0);
  const ledger = new Ledger({ regionalLimit: opts.regionalLimit ?? 1000, unreservedMinimum: 0, scalingRateEnvironments: 1000, scalingRateWindowMs: 10_000 });
  const scheduler = new FakeScheduler(ledger, clock);
  const queue = opts.queue ?? new MemoryEventQueue();
  const metrics = new Metrics();
  const versions = opts.versions ?? new Map<string, string>();
  const deleted = opts.deleted ?? new Set<string>();
  const errors: unknown[] = [];
  const dispatcher = new Dispatcher({
    queue,
    scheduler,
    resolve: (functionName, qualifier) => {
      if (deleted.has(functionName)) throw new ResourceNotFoundException(`Function not found: ${functionName}`);
      return { functionName, version: versions.get(functionName) ?? qualifier ?? '$LATEST' } as ResolvedTarget;
    },
    ledger,
    metrics,
    clock,
    maxConcurrency: opts.maxConcurrency ?? 100,
    onError: (err) => errors.push(err),
    partition: PARTITION,
    eventSettings: (fn) => ({ ...DEFAULT_RETRY_CONFIG, ...opts.settings?.[fn] }),
  });
  dispatcher.start();
  let n = 0;
  const submit = (fn: string, qualifier?: string, payload = '{}') =>
    dispatcher.submit({ functionName: fn, ...(qualifier ? { qualifier } : {}), payload: Buffer.from(payload), requestId: `req-${++n}` });
  /** Moves the clock and waits for what it set off. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await dispatcher.settled();
  };
  const dropped = async (fn: string, reason: string) =>
    (await metrics.asyncDropped.get()).values.find((v) => v.labels.function === fn && v.labels.reason === reason)?.value ?? 0;
  /** The value of one series of a counter (0 when it has none). */
  const count = async (metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string>) =>
    (await metric.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  /** The records a destination function received, in order. */
  const records = (fn: string) => scheduler.of(fn).map((c) => JSON.parse(c.payload.toString()) as InvocationRecord);
  return { clock, ledger, scheduler, queue, metrics, dispatcher, submit, advance, dropped, count, records, errors, versions, deleted };
}

describe('Dispatcher', () => {
  it('runs an accepted event once, with its request id, and empties the queue', async () => {
    const t = setup();
    await t.submit('f');
    await t.dispatcher.settled();
    expect(t.scheduler.calls.map((c) => c.requestId)).toEqual(['req-1']);
    expect(await t.queue.depth('f')).toBe(0);
    expect((await t.metrics.asyncReceived.get()).values[0]?.value).toBe(1);
    expect(await t.metrics.registry.getSingleMetricAsString('laminar_async_queue_depth')).toMatch(/laminar_async_queue_depth\{function="f"\} 0/);
    expect(t.errors).toEqual([]);
  });

  it('function errors: attempts at 0, 1 and 3 minutes, each with the same request id, then RetriesExhausted', async () => {
    const t = setup();
    t.scheduler.script('f', 'error', 'error', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    await t.advance(59_999);
    expect(t.scheduler.calls).toHaveLength(1);
    await t.advance(1);
    await t.advance(120_000);
    expect(t.scheduler.calls.map((c) => c.at - T0)).toEqual([0, 60_000, 180_000]);
    expect(new Set(t.scheduler.calls.map((c) => c.requestId))).toEqual(new Set(['req-1']));
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(1);
    expect(await t.queue.depth('f')).toBe(0);
  });

  it('throttles and system errors back off 1, 2, 4 s without using a retry', async () => {
    const t = setup();
    t.scheduler.script('f', 'throttle', 'system', 'throttle', 'error', 'error', 'ok');
    await t.submit('f');
    await t.dispatcher.settled();
    for (const ms of [1000, 2000, 4000]) await t.advance(ms);
    // The fourth attempt reached the function (a function error: the first retry use).
    expect(t.scheduler.calls.map((c) => c.at - T0)).toEqual([7000]);
    await t.advance(60_000);
    await t.advance(120_000);
    expect(t.scheduler.calls.map((c) => c.at - T0)).toEqual([7000, 67_000, 187_000]);
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(0);
    expect(await t.queue.depth('f')).toBe(0);
  });

  it('an event whose function was deleted is dropped FunctionNotFound at its next attempt', async () => {
    const t = setup();
    t.scheduler.script('f', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    t.deleted.add('f');
    await t.advance(60_000);
    expect(t.scheduler.calls).toHaveLength(1);
    expect(await t.dropped('f', 'FunctionNotFound')).toBe(1);
  });

  it('every attempt resolves the target afresh: a retry after an update runs the new version', async () => {
    const t = setup();
    t.scheduler.script('f', 'error');
    await t.submit('f', 'live');
    await t.dispatcher.settled();
    t.versions.set('f', '2');
    await t.advance(60_000);
    expect(t.scheduler.calls.map((c) => c.version)).toEqual(['live', '2']);
  });

  it('reservation 0: dropped without an attempt', async () => {
    const t = setup();
    t.ledger.setReservation('z', 0);
    for (let i = 0; i < 5; i++) await t.submit('z');
    await t.dispatcher.settled();
    expect(t.scheduler.calls).toHaveLength(0);
    expect(await t.dropped('z', 'ReservedConcurrencyZero')).toBe(5);
  });

  it('an event older than its maximum age is dropped EventAgeExceeded without running', async () => {
    const t = setup();
    t.ledger.setReservation('f', 1);
    // A synchronous invoke holds the only slot, so the event waits, checked each second.
    const sync = t.ledger.acquire('f');
    await t.submit('f');
    await t.dispatcher.settled();
    await t.advance(6 * 3600_000 + 1);
    if ('release' in sync) sync.release();
    await t.advance(1000);
    expect(t.scheduler.calls).toHaveLength(0);
    expect(await t.dropped('f', 'EventAgeExceeded')).toBe(1);
    expect((await t.metrics.asyncEventAge.get()).values.find((v) => v.metricName === 'laminar_async_event_age_seconds_count')?.value ?? 0).toBe(0);
  });

  it('a reservation caps the events in flight, less what synchronous invokes use: no throttles, whatever the backlog', async () => {
    const t = setup();
    t.ledger.setReservation('f', 3);
    t.scheduler.script('f', ...Array<Outcome>(20).fill('hang'));
    const sync = t.ledger.acquire('f');
    if (!('release' in sync)) throw new Error('the synchronous invoke was refused');
    await Promise.all(Array.from({ length: 20 }, () => t.submit('f')));
    await t.dispatcher.idle();
    expect(t.scheduler.calls).toHaveLength(2);
    // The synchronous invoke ends without telling the dispatcher: it looks again within a second.
    sync.release();
    t.clock.advance(999);
    await t.dispatcher.idle();
    expect(t.scheduler.calls).toHaveLength(2);
    t.clock.advance(1);
    await t.dispatcher.idle();
    expect(t.scheduler.calls).toHaveLength(3);
    let peak = 0;
    while (t.scheduler.calls.length < 20) {
      peak = Math.max(peak, t.ledger.concurrency('f'));
      for (const c of t.scheduler.calls) c.finish();
      await new Promise((r) => setImmediate(r));
      await t.dispatcher.idle();
    }
    for (const c of t.scheduler.calls) c.finish();
    await t.dispatcher.settled();
    expect(peak).toBe(3);
    expect(await t.queue.depth('f')).toBe(0);
    expect(t.scheduler.calls).toHaveLength(20);
  });

  it('at most maxConcurrency attempts at once, and another function’s event goes before the backlog', async () => {
    const t = setup({ maxConcurrency: 2 });
    t.scheduler.script('a', ...Array<Outcome>(50).fill('hang'));
    t.scheduler.script('b', 'hang');
    await Promise.all(Array.from({ length: 50 }, () => t.submit('a')));
    await t.dispatcher.idle();
    await t.submit('b');
    await t.dispatcher.idle();
    expect(t.scheduler.calls.map((c) => c.functionName)).toEqual(['a', 'a']);
    t.scheduler.calls[0]!.finish();
    await new Promise((r) => setImmediate(r));
    await t.dispatcher.idle();
    expect(t.scheduler.calls.map((c) => c.functionName)).toEqual(['a', 'a', 'b']);
    expect(t.dispatcher.inFlight).toBe(2);
    t.dispatcher.stop();
    for (const c of t.scheduler.calls) c.finish();
    await t.dispatcher.settled();
  });

  it('functions without reservation take at most half the unreserved pool', async () => {
    const t = setup({ regionalLimit: 10 });
    t.scheduler.script('a', ...Array<Outcome>(20).fill('hang'));
    await Promise.all(Array.from({ length: 20 }, () => t.submit('a')));
    await t.dispatcher.idle();
    expect(t.scheduler.calls).toHaveLength(5);
    t.dispatcher.stop();
    for (const c of t.scheduler.calls) c.finish();
    await t.dispatcher.settled();
  });

  it('an attempt that ends after stop is not counted: the event stays for the next start', async () => {
    const t = setup();
    t.scheduler.script('f', 'hang');
    await t.submit('f');
    await t.dispatcher.idle();
    t.dispatcher.stop();
    t.scheduler.calls[0]!.finish(true);
    await t.dispatcher.settled();
    expect(await t.queue.depth('f')).toBe(1);
    // Not rescheduled: still leased (a restart releases it), counters untouched.
    expect(await t.queue.lease(T0, 1000)).toBeUndefined();
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(0);
  });
});

describe('Dispatcher: destinations and dead letters', () => {
  it('a success with OnSuccess on a function: the record arrives there as a new Event invocation', async () => {
    const t = setup({ settings: { f: { destinations: { onSuccess: fnArn('d') } } } });
    await t.submit('f', 'live', '{"order":7}');
    await t.dispatcher.settled();
    expect(t.scheduler.of('d')).toHaveLength(1);
    const [record] = t.records('d');
    expect(record).toEqual({
      version: '1.0',
      timestamp: new Date(T0).toISOString(),
      requestContext: { requestId: 'req-1', functionArn: fnArn('f:live'), condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { order: 7 },
      responseContext: { statusCode: 200, executedVersion: 'live' },
      responsePayload: {},
    });
    // Its own invocation, with its own request id; the source's event is finished, not dropped.
    expect(t.scheduler.of('d')[0]!.requestId).not.toBe('req-1');
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(0);
    expect(await t.queue.depth('f')).toBe(0);
    expect(await t.count(t.metrics.asyncReceived, { function: 'd' })).toBe(1);
    expect(t.errors).toEqual([]);
  });

  it('retries exhausted with OnFailure on a function: the record names the condition, the count and the last error', async () => {
    const t = setup({ settings: { f: { maximumRetryAttempts: 1, destinations: { onFailure: fnArn('d') } } } });
    t.scheduler.script('f', 'error', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    expect(t.scheduler.of('d')).toHaveLength(0);
    await t.advance(60_000);
    const [record] = t.records('d');
    expect(record).toMatchObject({
      requestContext: { functionArn: fnArn('f:$LATEST'), condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      requestPayload: {},
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'boom' },
    });
    expect(record!.timestamp).toBe(new Date(T0 + 60_000).toISOString());
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(1);
  });

  it('a dead-letter queue and an on-failure queue: the event is kept once in the failed store, bound for both', async () => {
    const topic = 'arn:aws:sns:us-east-1:000000000000:failures';
    const t = setup({ settings: { f: { maximumRetryAttempts: 0, destinations: { onFailure: topic, deadLetter: QUEUE } } } });
    t.scheduler.script('f', 'error');
    await t.submit('f', undefined, '{"n":1}');
    await t.dispatcher.settled();
    const [stored, ...more] = await t.dispatcher.listFailed('f');
    expect(more).toEqual([]);
    expect(stored).toMatchObject({ functionName: 'f', requestId: 'req-1', reason: 'RetriesExhausted', destinations: [topic, QUEUE] });
    expect(stored!.payload.toString()).toBe('{"n":1}');
    expect(stored!.lastAttempt?.responsePayload?.toString()).toContain('boom');
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(1);
    expect(await t.count(t.metrics.asyncStored, { function: 'f', reason: 'RetriesExhausted' })).toBe(1);
    expect(await t.count(t.metrics.deadLetterErrors, { function: 'f' })).toBe(0);
    expect(await t.count(t.metrics.destinationDeliveryFailures, { function: 'f', type: 'sns' })).toBe(0);
    expect(await t.queue.depth('f')).toBe(0);
  });

  it('OnFailure on a function and a dead-letter queue: the function gets the record and the store keeps the event', async () => {
    const t = setup({ settings: { f: { maximumRetryAttempts: 0, destinations: { onFailure: fnArn('d'), deadLetter: QUEUE } } } });
    t.scheduler.script('f', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    expect(t.records('d').map((r) => r.requestContext.condition)).toEqual(['RetriesExhausted']);
    expect((await t.dispatcher.listFailed('f')).map((f) => f.destinations)).toEqual([[QUEUE]]);
  });

  it('OnSuccess on a queue: the successful event is kept in the store as Success, and not counted as dropped', async () => {
    const t = setup({ settings: { f: { destinations: { onSuccess: QUEUE } } } });
    await t.submit('f');
    await t.dispatcher.settled();
    expect(await t.dispatcher.listFailed('f')).toMatchObject([{ reason: 'Success', destinations: [QUEUE] }]);
    expect(await t.count(t.metrics.asyncStored, { function: 'f', reason: 'Success' })).toBe(1);
    expect(await t.count(t.metrics.asyncDropped, { function: 'f' })).toBe(0);
  });

  it('no destination and no dead-letter queue: a failed event is dropped and nothing is stored', async () => {
    const t = setup({ settings: { f: { maximumRetryAttempts: 0, destinations: { onSuccess: fnArn('d') } } } });
    t.scheduler.script('f', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    expect(await t.dispatcher.listFailed('f')).toEqual([]);
    expect(t.scheduler.of('d')).toHaveLength(0);
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(1);
  });

  it('reservation 0 with OnFailure: the record says RetriesExhausted with no attempt and no response', async () => {
    const t = setup({ settings: { z: { destinations: { onFailure: fnArn('d') } } } });
    t.ledger.setReservation('z', 0);
    await t.submit('z');
    await t.dispatcher.settled();
    const [record] = t.records('d');
    expect(record!.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 0 });
    expect(record!.responseContext).toBeUndefined();
    expect(record!.responsePayload).toBeUndefined();
    expect(await t.dropped('z', 'ReservedConcurrencyZero')).toBe(1);
  });

  it('expired after a function error and then throttles: the EventAgeExceeded record names the error it last saw', async () => {
    const t = setup({ settings: { f: { maximumEventAgeSeconds: 90, destinations: { onFailure: fnArn('d') } } } });
    t.scheduler.script('f', 'error', ...Array<Outcome>(10).fill('throttle'));
    await t.submit('f');
    await t.dispatcher.settled();
    await t.advance(60_000); // the retry is throttled: backoff 1, 2, 4 s …
    for (let i = 0; i < 6; i++) await t.advance(8_000);
    const [record] = t.records('d');
    expect(record).toMatchObject({
      requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 1 },
      responseContext: { executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'boom' },
    });
    expect(await t.dropped('f', 'EventAgeExceeded')).toBe(1);
  });

  it('an event whose function was deleted goes to no destination', async () => {
    const t = setup({ settings: { f: { destinations: { onFailure: fnArn('d'), deadLetter: QUEUE } } } });
    t.scheduler.script('f', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    t.deleted.add('f');
    await t.advance(60_000);
    expect(await t.dropped('f', 'FunctionNotFound')).toBe(1);
    expect(t.scheduler.of('d')).toHaveLength(0);
    expect(await t.dispatcher.listFailed('f')).toEqual([]);
  });

  it('a destination function deleted since the config was written: a delivery failure, counted by type', async () => {
    const t = setup({ settings: { f: { destinations: { onSuccess: fnArn('gone') } } } });
    t.deleted.add('gone');
    await t.submit('f');
    await t.dispatcher.settled();
    expect(await t.count(t.metrics.destinationDeliveryFailures, { function: 'f', type: 'lambda' })).toBe(1);
    expect(await t.count(t.metrics.asyncReceived, { function: 'gone' })).toBe(0);
    expect(await t.queue.depth('f')).toBe(0);
    expect(t.errors).toEqual([]);
  });

  it('a record over the 1 MB event limit cannot be delivered: a delivery failure', async () => {
    const t = setup({ settings: { f: { destinations: { onSuccess: fnArn('d') } } } });
    await t.submit('f', undefined, JSON.stringify({ s: 'x'.repeat(1024 * 1024 - 20) }));
    await t.dispatcher.settled();
    expect(await t.count(t.metrics.destinationDeliveryFailures, { function: 'f', type: 'lambda' })).toBe(1);
    expect(t.scheduler.of('d')).toHaveLength(0);
  });

  it('a store that refuses the write: a dead-letter error and a delivery failure, and the event leaves the queue', async () => {
    const t = setup({
      queue: new RefusingStoreQueue(),
      settings: { f: { maximumRetryAttempts: 0, destinations: { onFailure: 'arn:aws:events:us-east-1:000000000000:event-bus/default', deadLetter: QUEUE } } },
    });
    t.scheduler.script('f', 'error');
    await t.submit('f');
    await t.dispatcher.settled();
    expect(await t.count(t.metrics.deadLetterErrors, { function: 'f' })).toBe(1);
    expect(await t.count(t.metrics.destinationDeliveryFailures, { function: 'f', type: 'events' })).toBe(1);
    expect(await t.count(t.metrics.asyncStored, { function: 'f' })).toBe(0);
    expect(await t.dropped('f', 'RetriesExhausted')).toBe(1);
    expect(await t.queue.depth('f')).toBe(0);
    expect(String(t.errors[0])).toContain('SQLITE_FULL');
  });

  it('replay queues a stored event afresh: it runs again with its request id and full retries', async () => {
    const t = setup({ settings: { f: { maximumRetryAttempts: 0, destinations: { deadLetter: QUEUE } } } });
    t.scheduler.script('f', 'error', 'ok');
    await t.submit('f');
    await t.dispatcher.settled();
    const [stored] = await t.dispatcher.listFailed('f');
    await t.advance(1000);
    const replayed = await t.dispatcher.replay(stored!.id);
    expect(replayed).toMatchObject({ id: stored!.id, requestId: 'req-1', acceptedAt: T0 + 1000 });
    await t.dispatcher.settled();
    expect(t.scheduler.of('f').map((c) => [c.requestId, c.at - T0])).toEqual([
      ['req-1', 0],
      ['req-1', 1000],
    ]);
    expect(await t.dispatcher.listFailed('f')).toEqual([]);
    expect(await t.dispatcher.replay(stored!.id)).toBeUndefined();
    expect(await t.count(t.metrics.asyncReceived, { function: 'f' })).toBe(2);
  });
});
