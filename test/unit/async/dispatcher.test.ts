/**
 * The dispatcher against the memory queue, the real ledger and a scheduler whose outcomes the
 * test scripts; time is a ManualClock. Waits are on the dispatcher's own signals (idle, settled).
 */
import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchScheduler } from '../../../src/async/dispatcher.js';
import { MemoryEventQueue } from '../../../src/async/memory-queue.js';
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

  async invoke(target: ResolvedTarget, options: { requestId?: string }): Promise<InvocationResult> {
    const fn = target.functionName;
    const outcome = this.scripts.get(fn)?.shift() ?? 'ok';
    if (outcome === 'throttle') throw new TooManyRequestsException('Rate Exceeded.', 'FunctionInvocationRateLimitExceeded');
    if (outcome === 'system') throw new ServiceException('the code folder is missing');
    const permit = this.ledger.acquire(fn);
    if (!('release' in permit)) throw new TooManyRequestsException('Rate Exceeded.', permit.reason);
    let finish: (error?: boolean) => void = () => {};
    const ended = new Promise<boolean>((resolve) => (finish = (error) => resolve(error ?? false)));
    this.calls.push({ functionName: fn, version: target.version, at: this.clock.now(), requestId: options.requestId ?? '', finish });
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

function setup(opts: { maxConcurrency?: number; regionalLimit?: number; versions?: Map<string, string>; deleted?: Set<string> } = {}) {
  const clock = new ManualClock(T0);
  const ledger = new Ledger({ regionalLimit: opts.regionalLimit ?? 1000, unreservedMinimum: 0, scalingRateEnvironments: 1000, scalingRateWindowMs: 10_000 });
  const scheduler = new FakeScheduler(ledger, clock);
  const queue = new MemoryEventQueue();
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
  });
  dispatcher.start();
  let n = 0;
  const submit = (fn: string, qualifier?: string) =>
    dispatcher.submit({ functionName: fn, ...(qualifier ? { qualifier } : {}), payload: Buffer.from('{}'), requestId: `req-${++n}` });
  /** Moves the clock and waits for what it set off. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await dispatcher.settled();
  };
  const dropped = async (fn: string, reason: string) =>
    (await metrics.asyncDropped.get()).values.find((v) => v.labels.function === fn && v.labels.reason === reason)?.value ?? 0;
  return { clock, ledger, scheduler, queue, metrics, dispatcher, submit, advance, dropped, errors, versions, deleted };
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
