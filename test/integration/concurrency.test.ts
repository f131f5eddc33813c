import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvalidParameterValueException,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, useLaminarWithProbe, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

type Outcome = { status: number; reason?: string; retryAfter?: string | null; header?: string | null };

/**
 * Fires `n` invocations at once and collects status codes and throttle reasons. `settled` counts
 * requests that are answered or have failed, so a caller waiting on it sees a failure at once.
 */
async function burst(url: string, fn: string, n: number, event: object, settled?: { count: number }): Promise<Outcome[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const res = await fetch(`${url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: JSON.stringify(event) });
        const body = (await res.json()) as { Reason?: string };
        return {
          status: res.status,
          ...(res.status === 429 ? { reason: body.Reason, retryAfter: res.headers.get('retry-after'), header: res.headers.get('x-laminar-throttle-reason') } : {}),
        };
      } finally {
        if (settled) settled.count++;
      }
    }),
  );
}

const count = (outcomes: Outcome[], status: number, reason?: string) =>
  outcomes.filter((o) => o.status === status && (reason === undefined || o.reason === reason)).length;

describe('reserved concurrency', () => {
  const ctx = useLaminarWithProbe();
  afterEach(() => ctx.probe.reset());

  it('Put/Get/Delete FunctionConcurrency on their AWS paths, shown in GetFunction', async () => {
    const fn = await deployFixture(ctx.h.client, 'echo');
    expect(await ctx.h.client.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }))).not.toHaveProperty('ReservedConcurrentExecutions');
    const put = await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 7 }));
    expect(put.ReservedConcurrentExecutions).toBe(7);
    expect((await ctx.h.client.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }))).ReservedConcurrentExecutions).toBe(7);
    expect((await ctx.h.client.send(new GetFunctionCommand({ FunctionName: fn }))).Concurrency?.ReservedConcurrentExecutions).toBe(7);
    const settings = await ctx.h.client.send(new GetAccountSettingsCommand({}));
    expect(settings.AccountLimit?.UnreservedConcurrentExecutions).toBe(1000 - 7);
    await ctx.h.client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: fn }));
    expect(await ctx.h.client.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }))).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('refuses a reservation that leaves less than the unreserved minimum, with AWS’s message', async () => {
    const fn = await deployFixture(ctx.h.client, 'echo');
    await expect(ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 901 }))).rejects.toThrow(
      new InvalidParameterValueException({
        message: "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
        $metadata: {},
      }).message,
    );
    await expect(ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'no-such-fn', ReservedConcurrentExecutions: 1 }))).rejects.toThrow(
      /Function not found/,
    );
  });

  it('reservation 2 with 10 concurrent slow invokes: exactly 2 run, 8 get 429 with the reserved reason', async () => {
    const fn = await deployFixture(ctx.h.client, 'sleep');
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 2 }));
    const outcomes = await burst(ctx.h.url, fn, 10, { ms: 1000, probe: ctx.probe.url });
    expect(count(outcomes, 200)).toBe(2);
    expect(count(outcomes, 429, 'ReservedFunctionConcurrentInvocationLimitExceeded')).toBe(8);
    expect(outcomes.find((o) => o.status === 429)?.retryAfter).toBe('1');
    expect(outcomes.find((o) => o.status === 429)?.header).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(ctx.probe.peak).toBe(2);
    const m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_throttles_total', { function: fn, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })).toBe(8);
    expect(sample(m, 'laminar_concurrent_executions', { function: fn })).toBe(0);
  });

  it('reservation 0 throttles every invocation, through the SDK as TooManyRequestsException', async () => {
    const fn = await deployFixture(ctx.h.client, 'echo');
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 0 }));
    const err = await ctx.h.client.send(new InvokeCommand({ FunctionName: fn })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsException);
    expect((err as TooManyRequestsException).Reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect((err as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
  });
});

describe('account limits', () => {
  const ctx = useLaminarWithProbe({ regionalConcurrencyLimit: 12, unreservedConcurrencyMinimum: 4 });

  it('a function saturating the unreserved pool cannot take another function’s reservation', async () => {
    const greedy = await deployFixture(ctx.h.client, 'sleep');
    const reserved = await deployFixture(ctx.h.client, 'sleep');
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: reserved, ReservedConcurrentExecutions: 4 }));
    const [greedyOut, reservedOut] = await Promise.all([
      burst(ctx.h.url, greedy, 14, { ms: 1000 }),
      new Promise<void>((r) => setTimeout(r, 150)).then(() => burst(ctx.h.url, reserved, 4, { ms: 300 })),
    ]);
    // The unreserved pool is 12 − 4 = 8.
    expect(count(greedyOut, 200)).toBe(8);
    expect(count(greedyOut, 429, 'ConcurrentInvocationLimitExceeded')).toBe(6);
    expect(count(reservedOut, 200)).toBe(4);
  });

  it('the regional limit throttles with ConcurrentInvocationLimitExceeded', async () => {
    const fn = await deployFixture(ctx.h.client, 'sleep');
    const outcomes = await burst(ctx.h.url, fn, 20, { ms: 800, probe: ctx.probe.url });
    expect(count(outcomes, 200)).toBe(8);
    expect(count(outcomes, 429, 'ConcurrentInvocationLimitExceeded')).toBe(12);
    expect(ctx.probe.peak).toBeLessThanOrEqual(8);
  });
});

describe('scaling rate, keep-alive and host capacity (manual clock)', () => {
  let h: Harness;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    h = await startLaminar({ scalingRateEnvironments: 2, scalingRateWindowSeconds: 10, hostMemoryMb: 384, environmentIdleTimeoutSeconds: 600 }, { clock });
  });
  afterAll(async () => h.close());

  it('the scaling rate throttles new environments beyond the budget, and refills with time', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    const outcomes = await burst(h.url, fn, 3, { ms: 500 });
    expect(count(outcomes, 200)).toBe(2);
    expect(count(outcomes, 429, 'FunctionInvocationRateLimitExceeded')).toBe(1);
    // Warm environments need no token.
    expect(count(await burst(h.url, fn, 2, { ms: 10 }), 200)).toBe(2);
    // A third environment needs a token: none until 5 s (of the manual clock) have passed.
    expect(count(await burst(h.url, fn, 3, { ms: 300 }), 429, 'FunctionInvocationRateLimitExceeded')).toBe(1);
    clock.advance(5_000);
    const refilled = await burst(h.url, fn, 3, { ms: 300 });
    expect(count(refilled, 200)).toBe(3);
    expect(sample(await scrape(h.url), 'laminar_throttles_total', { function: fn, reason: 'FunctionInvocationRateLimitExceeded' })).toBe(2);
  });

  it('idle environments are destroyed after the keep-alive, and the next invocation is cold', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const first = await fetch(`${h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: '{}' });
    expect(first.headers.get('x-laminar-cold-start')).toBe('true');
    let m = await scrape(h.url);
    expect(sample(m, 'laminar_environments', { function: fn, state: 'idle' })).toBe(1);
    clock.advance(599_000);
    expect(sample(await scrape(h.url), 'laminar_environments', { function: fn, state: 'idle' })).toBe(1);
    clock.advance(1_000);
    m = await scrape(h.url);
    expect(sample(m, 'laminar_environments', { function: fn })).toBe(0);
    expect(sample(m, 'laminar_environment_evictions_total', { function: fn, reason: 'idle-timeout' })).toBe(1);
    const again = await fetch(`${h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: '{}' });
    expect(again.headers.get('x-laminar-cold-start')).toBe('true');
  });

  it('a full host evicts the least recently used idle environment, and throttles when nothing is idle', async () => {
    clock.advance(600_000); // earlier tests' environments expire and rate buckets refill: the host budget is 3 × 128 MB
    const [a, b, c, d] = [await deployFixture(h.client, 'echo'), await deployFixture(h.client, 'echo'), await deployFixture(h.client, 'echo'), await deployFixture(h.client, 'sleep')];
    const invoke = (fn: string, body = '{}') => fetch(`${h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body });
    for (const fn of [a, b, c]) {
      await (await invoke(fn)).arrayBuffer();
      clock.advance(1_000);
    }
    // a is the least recently used: d's environment takes its place.
    const dRes = await invoke(d, '{"ms":10}');
    expect(dRes.status).toBe(200);
    const m = await scrape(h.url);
    expect(sample(m, 'laminar_environment_evictions_total', { function: a, reason: 'capacity' })).toBe(1);
    expect(sample(m, 'laminar_environments', { function: a })).toBe(0);
    expect((await invoke(b)).headers.get('x-laminar-cold-start')).toBe('false');

    // Three busy environments fill the host (evicting b and c): a fourth function is throttled for capacity.
    clock.advance(10_000);
    const busy = burst(h.url, d, 3, { ms: 800 });
    await new Promise((r) => setTimeout(r, 400));
    const refused = await invoke(a);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { Reason: string }).Reason).toBe('LaminarHostCapacityExceeded');
    await busy;
  });
});

describe('stress', () => {
  const ctx = useLaminarWithProbe();

  it('1000 concurrent invokes at reservation 50: exactly 50 run at once, the rest are 429, nothing leaks', async () => {
    const fn = await deployFixture(ctx.h.client, 'sleep', { Timeout: 120 });
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 50 }));
    // Admitted handlers hold until every request is either settled or inside a handler, so the
    // whole burst overlaps however slowly 1000 requests arrive on this machine. A failed request
    // counts as settled: the wait ends and `await pending` reports its error.
    const settled = { count: 0 };
    const pending = burst(ctx.h.url, fn, 1000, { ms: 1, probe: ctx.probe.url, hold: true }, settled);
    const started = Date.now();
    while (settled.count + ctx.probe.current < 1000 && Date.now() - started < 90_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    ctx.probe.release();
    const outcomes = await pending;
    expect(ctx.probe.peak).toBe(50);
    expect(count(outcomes, 200)).toBe(50);
    expect(count(outcomes, 429, 'ReservedFunctionConcurrentInvocationLimitExceeded')).toBe(950);
    expect(ctx.h.laminar.ledger!.totalInFlight()).toBe(0);
    const counts = ctx.h.laminar.ledger!.counts();
    expect(counts.released).toBe(counts.granted);
    const m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_concurrent_executions', { function: fn })).toBe(0);
    expect(sample(m, 'laminar_environments', { function: fn, state: 'busy' })).toBe(0);
    expect(sample(m, 'laminar_environments', { function: fn, state: 'initializing' })).toBe(0);
    expect(sample(m, 'laminar_environments', { function: fn, state: 'idle' })).toBe(50);
  }, 120_000);
});
