import { InvokeCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

let h: Harness;
let clock: ManualClock;
beforeAll(async () => {
  clock = new ManualClock();
  h = await startLaminar({}, { clock });
});
afterAll(async () => h.close());

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition never held');
}

const metric = async (name: string, labels: Record<string, string>) => sample(await scrape(h.url), name, labels);

describe('Event invocations', () => {
  it('are accepted with 202, run, and leave the queue', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const out = await h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from('{"a":1}') }));
    expect(out.StatusCode).toBe(202);
    await until(async () => (await metric('laminar_invocations_total', { function: fn })) === 1);
    expect(await metric('laminar_async_events_received_total', { function: fn })).toBe(1);
    await until(async () => (await metric('laminar_async_queue_depth', { function: fn })) === 0);
  });

  it('a failing event is retried twice, after about 1 and 2 minutes, then dropped', async () => {
    const fn = await deployFixture(h.client, 'throws');
    await h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event' }));
    await until(async () => (await metric('laminar_invocations_total', { function: fn })) === 1);
    clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(await metric('laminar_invocations_total', { function: fn })).toBe(1);
    clock.advance(1_000);
    await until(async () => (await metric('laminar_invocations_total', { function: fn })) === 2);
    clock.advance(120_000);
    await until(async () => (await metric('laminar_invocations_total', { function: fn })) === 3);
    await until(async () => (await metric('laminar_async_events_dropped_total', { function: fn, reason: 'RetriesExhausted' })) === 1);
    expect(await metric('laminar_async_queue_depth', { function: fn })).toBe(0);
    const m = await scrape(h.url);
    // Three attempts: at 0 s, 60 s and 180 s of event age.
    expect(sample(m, 'laminar_async_event_age_seconds_count', { function: fn })).toBe(3);
    expect(sample(m, 'laminar_async_event_age_seconds_sum', { function: fn })).toBeGreaterThanOrEqual(240);
  });

  it('a throttled event is kept and retried; with reservation 0 it is dropped at once', async () => {
    const zero = await deployFixture(h.client, 'echo');
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: zero, ReservedConcurrentExecutions: 0 }));
    await h.client.send(new InvokeCommand({ FunctionName: zero, InvocationType: 'Event' }));
    await until(async () => (await metric('laminar_async_events_dropped_total', { function: zero, reason: 'ReservedConcurrencyZero' })) === 1);

    const busy = await deployFixture(h.client, 'sleep', { Timeout: 10 });
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: busy, ReservedConcurrentExecutions: 1 }));
    const running = fetch(`${h.url}/2015-03-31/functions/${busy}/invocations`, { method: 'POST', body: '{"ms":400}' });
    await new Promise((r) => setTimeout(r, 100));
    await h.client.send(new InvokeCommand({ FunctionName: busy, InvocationType: 'Event', Payload: Buffer.from('{"ms":1}') }));
    await until(async () => (await metric('laminar_throttles_total', { function: busy })) === 1);
    expect(await metric('laminar_async_queue_depth', { function: busy })).toBe(1);
    await running;
    clock.advance(1_000);
    await until(async () => (await metric('laminar_invocations_total', { function: busy })) === 2);
    await until(async () => (await metric('laminar_async_queue_depth', { function: busy })) === 0);
  });
});
