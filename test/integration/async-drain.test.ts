/**
 * A burst of 10,000 Event invocations to a function with reservation 10 drains completely, never
 * more than 10 at once, without a throttle, while another function's synchronous invokes keep
 * answering. Concurrency is counted by the handlers themselves (a probe outside the sandbox);
 * the metrics must agree with their count.
 */
import { performance } from 'node:perf_hooks';
import { InvokeCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';
import { startProbe, type Probe } from '../helpers/probe.js';

const BURST = 10_000;
const RESERVATION = 10;
/** Event invokes in flight from the test at once. */
const SENDERS = 64;

let h: Harness;
let probe: Probe;
let syncClient: LambdaClient;
beforeAll(async () => {
  h = await startLaminar();
  probe = await startProbe();
  // Its own connections: the burst's must not queue the synchronous invokes in the client.
  syncClient = new LambdaClient({ endpoint: h.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});
afterAll(async () => {
  syncClient?.destroy();
  await h?.close();
  await probe?.close();
});

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** One synchronous invoke: its latency in ms, and whether it failed in any way. */
async function timedInvoke(fn: string): Promise<{ ms: number; ok: boolean }> {
  const t = performance.now();
  try {
    const out = await syncClient.send(new InvokeCommand({ FunctionName: fn, Payload: Buffer.from('{}') }));
    return { ms: performance.now() - t, ok: out.StatusCode === 200 && out.FunctionError === undefined };
  } catch {
    return { ms: performance.now() - t, ok: false };
  }
}

describe('a burst of 10,000 Event invocations', () => {
  it('drains with never more than the reservation in flight and no throttle, while another function answers synchronously', async () => {
    // The handler's reports to the probe are its only work; at 128 MB a sandboxed environment
    // gets 7% of a CPU (1,769 MB = one vCPU), which would make the handlers the bottleneck.
    const busy = await deployFixture(h.client, 'sleep', { Timeout: 30, MemorySize: 1024 });
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: busy, ReservedConcurrentExecutions: RESERVATION }));
    const other = await deployFixture(h.client, 'echo');
    for (let i = 0; i < 5; i++) await timedInvoke(other);
    const baseline: number[] = [];
    for (let i = 0; i < 50; i++) baseline.push((await timedInvoke(other)).ms);

    const t0 = performance.now();
    let drained = false;
    const during: { ms: number; ok: boolean }[] = [];
    // One synchronous invoke at a time, paced: a caller's traffic, not a second load test.
    const syncLoop = (async () => {
      while (!drained) {
        during.push(await timedInvoke(other));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const payload = Buffer.from(JSON.stringify({ probe: probe.url, ms: 0 }));
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < BURST) {
          next++;
          const out = await h.client.send(new InvokeCommand({ FunctionName: busy, InvocationType: 'Event', Payload: payload }));
          const code = out.StatusCode ?? 0;
          statuses.set(code, (statuses.get(code) ?? 0) + 1);
        }
      }),
    );
    const acceptSeconds = (performance.now() - t0) / 1000;
    expect(Object.fromEntries(statuses)).toEqual({ 202: BURST });

    for (let i = 0; probe.entered < BURST && i < 2400; i++) await new Promise((r) => setTimeout(r, 50));
    const drainSeconds = (performance.now() - t0) / 1000;
    drained = true;
    await syncLoop;
    await h.laminar.dispatcher.settled();

    const m = await scrape(h.url);
    const report = {
      acceptSeconds: Number(acceptSeconds.toFixed(2)),
      drainSeconds: Number(drainSeconds.toFixed(2)),
      eventsPerSecond: Math.round(BURST / drainSeconds),
      peakInHandlers: probe.peak,
      syncInvokes: during.length,
      syncBaselineP50Ms: Number(quantile(baseline, 0.5).toFixed(2)),
      syncDuringP50Ms: Number(quantile(during.map((d) => d.ms), 0.5).toFixed(2)),
      syncDuringP99Ms: Number(quantile(during.map((d) => d.ms), 0.99).toFixed(2)),
    };
    console.log(`async drain: ${JSON.stringify(report)}`);

    // Every event ran, never more than the reservation at once, and the handlers and metrics agree.
    expect(probe.entered).toBe(BURST);
    expect(probe.peak).toBeLessThanOrEqual(RESERVATION);
    expect(probe.current).toBe(0);
    expect(sample(m, 'laminar_invocations_total', { function: busy })).toBe(probe.entered);
    expect(sample(m, 'laminar_async_events_received_total', { function: busy })).toBe(BURST);
    expect(sample(m, 'laminar_async_event_age_seconds_count', { function: busy })).toBe(BURST);
    expect(sample(m, 'laminar_async_queue_depth', { function: busy })).toBe(0);
    expect(sample(m, 'laminar_async_events_dropped_total', { function: busy })).toBe(0);
    // The dispatcher leased only what the reservation could admit: not one throttle.
    expect(sample(m, 'laminar_throttles_total', { function: busy })).toBe(0);

    // The other function answered every synchronous invoke, never throttled, within a generous
    // multiple of its own latency just before the burst (the burst shares two cores with it).
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((d) => !d.ok)).toEqual([]);
    expect(sample(m, 'laminar_throttles_total', { function: other })).toBe(0);
    expect(report.syncDuringP50Ms).toBeLessThan(Math.max(50 * report.syncBaselineP50Ms, report.syncBaselineP50Ms + 100));
  }, 240_000);
});
