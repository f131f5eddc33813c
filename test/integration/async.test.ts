/**
 * Event invocations end to end: the AWS SDK against a real server whose dispatcher runs on a
 * ManualClock, so the retry schedule, the backoff and the maximum age are driven in milliseconds.
 * Each step waits on the dispatcher's own signal (settled), never on a fixed sleep.
 */
import {
  DeleteFunctionCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startProbe, type Probe } from '../helpers/probe.js';

const HOUR = 3600_000;

/** Waits for a condition the test cannot be signalled about (a handler reached the probe). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition never held');
}

interface Ctx {
  h: Harness;
  clock: ManualClock;
  probe: Probe;
}

/** A server on a ManualClock and a probe, for one describe block. */
function useServer(flags: Record<string, unknown> = {}): Ctx {
  const ctx = {} as Ctx;
  beforeAll(async () => {
    ctx.clock = new ManualClock();
    ctx.h = await startLaminar(flags, { clock: ctx.clock });
    ctx.probe = await startProbe();
  });
  afterAll(async () => {
    await ctx.h?.close();
    await ctx.probe?.close();
  });
  return ctx;
}

function helpers(ctx: Ctx) {
  const metric = async (name: string, labels: Record<string, string>) => sample(await scrape(ctx.h.url), name, labels);
  const event = (fn: string, payload: unknown = {}) =>
    ctx.h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) }));
  const settle = () => ctx.h.laminar.dispatcher.settled();
  /** Moves the test clock, then waits for every attempt that set off. */
  const advance = async (ms: number) => {
    ctx.clock.advance(ms);
    await settle();
  };
  /** A synchronous invoke of the sleep fixture that holds its environment until the probe is released. */
  const hold = async (fn: string) => {
    const running = fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations`, {
      method: 'POST',
      body: JSON.stringify({ probe: ctx.probe.url, hold: true, ms: 1 }),
    });
    await until(() => ctx.probe.current === 1);
    return async () => {
      ctx.probe.release();
      const res = await running;
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      ctx.probe.reset();
    };
  };
  return { metric, event, settle, advance, hold };
}

describe('Event invocations', () => {
  const ctx = useServer();
  const { metric, event, settle, advance, hold } = helpers(ctx);

  it('are accepted with 202, run, and leave the queue', async () => {
    const fn = await deployFixture(ctx.h.client, 'echo');
    const out = await event(fn, { a: 1 });
    expect(out.StatusCode).toBe(202);
    await settle();
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    expect(await metric('laminar_async_events_received_total', { function: fn })).toBe(1);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
  });

  it('refuses an event over 1 MB with RequestTooLargeException and queues nothing', async () => {
    const fn = await deployFixture(ctx.h.client, 'echo');
    const big = Buffer.from(JSON.stringify({ s: 'x'.repeat(1024 * 1024) }));
    await expect(ctx.h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: big }))).rejects.toMatchObject({
      name: 'RequestTooLargeException',
      message: 'Request must be smaller than 1048576 bytes for the InvokeFunction operation',
    });
    expect(await metric('laminar_async_events_received_total', { function: fn })).toBe(0);
  });

  it('a failing event is retried twice, after about 1 and 2 minutes, then dropped', async () => {
    const fn = await deployFixture(ctx.h.client, 'throws');
    await event(fn);
    await settle();
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    await advance(59_999);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    await advance(1);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    await advance(119_999);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    await advance(1);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(3);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })).toBe(1);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
    const m = await scrape(ctx.h.url);
    // Three attempts: at 0 s, 60 s and 180 s of event age.
    expect(sample(m, 'laminar_async_event_age_seconds_count', { function: fn })).toBe(3);
    expect(sample(m, 'laminar_async_event_age_seconds_sum', { function: fn })).toBe(240);
  });

  it('with reservation 0 an event is dropped at once, never run', async () => {
    const zero = await deployFixture(ctx.h.client, 'echo');
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: zero, ReservedConcurrentExecutions: 0 }));
    expect((await event(zero)).StatusCode).toBe(202);
    await settle();
    expect(await metric('laminar_async_events_dropped_total', { function: zero, reason: 'ReservedConcurrencyZero' })).toBe(1);
    expect(await metric('laminar_invocations_total', { function: zero })).toBe(0);
    expect(await metric('laminar_throttles_total', { function: zero })).toBe(0);
  });

  it('an event that waited past its maximum age (6 hours) is dropped EventAgeExceeded without running', async () => {
    const fn = await deployFixture(ctx.h.client, 'sleep', { Timeout: 30 });
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 1 }));
    // A synchronous invoke holds the function's only slot: the event waits, never throttled.
    const release = await hold(fn);
    await event(fn, { ms: 1 });
    await settle();
    await advance(6 * HOUR + 1);
    await release();
    await advance(1000);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'EventAgeExceeded' })).toBe(1);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    expect(await metric('laminar_throttles_total', { function: fn })).toBe(0);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
  });

  it('an event of a function deleted before its retry is dropped FunctionNotFound', async () => {
    const fn = await deployFixture(ctx.h.client, 'throws');
    await event(fn);
    await settle();
    await ctx.h.client.send(new DeleteFunctionCommand({ FunctionName: fn }));
    await advance(60_000);
    expect(await metric('laminar_async_events_dropped_total', { function: fn, reason: 'FunctionNotFound' })).toBe(1);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
  });

  it('a retry after UpdateFunctionCode runs the new code on its warm environment, retiring nothing', async () => {
    const fn = await deployFixture(ctx.h.client, 'throws');
    await event(fn);
    await settle();
    expect(await metric('laminar_errors_total', { function: fn })).toBe(1);
    await ctx.h.client.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: await zipFixture('echo') }));
    await waitUntilFunctionUpdatedV2({ client: ctx.h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    // A synchronous invoke warms an environment of the new code (the old one is retired by the
    // update itself, as for any update).
    const warm = await ctx.h.client.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from('{}') }));
    expect(warm.FunctionError).toBeUndefined();
    const before = await scrape(ctx.h.url);
    expect(sample(before, 'laminar_environment_evictions_total', { function: fn })).toBe(1);
    expect(sample(before, 'laminar_cold_starts_total', { function: fn })).toBe(2);

    await advance(60_000);
    const after = await scrape(ctx.h.url);
    expect(sample(after, 'laminar_invocations_total', { function: fn })).toBe(3);
    // The retry succeeded: it ran the new code (the old code always throws).
    expect(sample(after, 'laminar_errors_total', { function: fn })).toBe(1);
    expect(sample(after, 'laminar_async_events_dropped_total', { function: fn })).toBe(0);
    expect(sample(after, 'laminar_async_queue_depth', { function: fn })).toBe(0);
    // On the warm environment: no cold start, and nothing retired or evicted.
    expect(sample(after, 'laminar_cold_starts_total', { function: fn })).toBe(2);
    expect(sample(after, 'laminar_environment_evictions_total', { function: fn })).toBe(1);
    expect(sample(after, 'laminar_environments', { function: fn, state: 'idle' })).toBe(1);
  });
});

describe('Event invocations that are throttled', () => {
  // One new environment per hour: a second environment is refused with a throttle the caps
  // cannot foresee (the scaling rate), which the dispatcher must back off from.
  const ctx = useServer({ scalingRateEnvironments: 1, scalingRateWindowSeconds: 3600 });
  const { metric, event, settle, advance, hold } = helpers(ctx);

  it('back off 1, 2, 4, 8 s without using a retry, and run once the function has room', async () => {
    const fn = await deployFixture(ctx.h.client, 'sleep', { Timeout: 30 });
    const release = await hold(fn);
    await event(fn, { ms: 1 });
    await settle();
    const throttles = () => metric('laminar_throttles_total', { function: fn, reason: 'FunctionInvocationRateLimitExceeded' });
    expect(await throttles()).toBe(1);
    await advance(999);
    expect(await throttles()).toBe(1);
    await advance(1);
    expect(await throttles()).toBe(2);
    await advance(2000);
    expect(await throttles()).toBe(3);
    await advance(4000);
    // Four throttles: more attempts than MaximumRetryAttempts allows, and the event is kept.
    expect(await throttles()).toBe(4);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(1);
    await advance(7999);
    expect(await throttles()).toBe(4);
    await release();
    await advance(1);
    expect(await throttles()).toBe(4);
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(2);
    expect(await metric('laminar_async_events_dropped_total', { function: fn })).toBe(0);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
  });
});
