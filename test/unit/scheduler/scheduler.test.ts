/**
 * The Scheduler driven end to end over a fake environment factory and a manual clock: reuse,
 * cold starts, eviction, keep-alive, provisioned first, spillover, every throttle reason, failed
 * Init, an environment that dies, and a pool retired by a configuration change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';
import { harness, rejection, until, type Harness, type HarnessOptions } from './harness.js';

let h: Harness;
async function start(o: HarnessOptions = {}): Promise<Harness> {
  h = await harness(o);
  return h;
}
afterEach(async () => {
  await h?.cleanup();
});

const IDLE_S = 300;

describe('placement', () => {
  it('a first invocation starts cold (no-environment); the next reuses the environment warm', async () => {
    await start();
    await h.deploy('f');
    const cold = await h.invoke('f');
    expect(cold).toMatchObject({ coldStart: true, coldStartReason: 'no-environment', initDurationMs: 12.5, executedVersion: '$LATEST' });
    expect(cold.log).toMatch(/^init ran\nSTART RequestId: \S+ Version: \$LATEST\n\S+ handler ran\nEND RequestId: \S+\nREPORT .*Init Duration: 12.50 ms\tLaminar Cold Start: no-environment\t\n$/);
    const warm = await h.invoke('f');
    expect(warm.coldStart).toBe(false);
    expect(warm.coldStartReason).toBeUndefined();
    expect(h.servedBy(warm)).toBe(h.servedBy(cold));
    expect(h.fake.built).toHaveLength(1);
    expect(await h.count(h.metrics.coldStarts, { function: 'f', qualifier: '$LATEST' })).toBe(1);
    expect(await h.count(h.metrics.invocations, { function: 'f', qualifier: '$LATEST' })).toBe(2);
  });

  it('while every environment is busy, a new one starts cold (all-environments-busy)', async () => {
    await start();
    await h.deploy('f');
    await h.invoke('f');
    h.fake.holding = true;
    const first = h.invoke('f');
    await h.fake.heldCount(1);
    const second = h.invoke('f');
    await h.fake.heldCount(2);
    h.fake.take().finish();
    h.fake.take().finish();
    expect((await first).coldStart).toBe(false);
    expect(await second).toMatchObject({ coldStart: true, coldStartReason: 'all-environments-busy' });
    expect(h.fake.built).toHaveLength(2);
  });

  it('reuses the most recently used idle environment, so older ones age out', async () => {
    await start();
    await h.deploy('f');
    h.fake.holding = true;
    const a = h.invoke('f');
    const b = h.invoke('f');
    const [first, second] = await h.fake.heldCount(2);
    h.fake.held.splice(0);
    // The second environment is released later than the first.
    first?.finish();
    await a;
    h.clock.advance(1000);
    second?.finish();
    await b;
    h.fake.holding = false;
    const next = await h.invoke('f');
    expect(h.servedBy(next)).toBe(second?.env.id);
    expect(next.coldStart).toBe(false);
  });

  it('a full host evicts the least recently used idle on-demand environment, of any function', async () => {
    await start({ hostMemoryMb: 512 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await h.deploy(name, { MemorySize: 128 });
    for (const name of ['b', 'a', 'c', 'd']) {
      await h.invoke(name);
      h.clock.advance(1000);
    }
    const [b, a, c, d] = h.fake.built;
    const result = await h.invoke('e');
    expect(result.coldStart).toBe(true);
    expect(b?.destroyed).toBe(true);
    expect([a, c, d].map((e) => e?.destroyed)).toEqual([false, false, false]);
    expect(await h.count(h.metrics.evictions, { function: 'b', reason: 'capacity' })).toBe(1);
    // b comes back cold, evicting the next least recently used: a.
    await h.invoke('b');
    expect(a?.destroyed).toBe(true);
  });
});

describe('keep-alive', () => {
  it('an idle on-demand environment is destroyed after exactly the idle timeout, not before', async () => {
    await start({ idleTimeoutSeconds: IDLE_S });
    await h.deploy('f');
    await h.invoke('f');
    const env = h.fake.built[0];
    h.clock.advance(IDLE_S * 1000 - 1);
    expect(env?.destroyed).toBe(false);
    h.clock.advance(1);
    expect(env?.destroyed).toBe(true);
    expect(await h.count(h.metrics.evictions, { function: 'f', reason: 'idle-timeout' })).toBe(1);
    expect(await h.invoke('f')).toMatchObject({ coldStart: true, coldStartReason: 'no-environment' });
  });

  it('an invocation restarts the keep-alive from its end', async () => {
    await start({ idleTimeoutSeconds: IDLE_S });
    await h.deploy('f');
    await h.invoke('f');
    h.clock.advance(IDLE_S * 1000 - 1);
    await h.invoke('f');
    h.clock.advance(IDLE_S * 1000 - 1);
    expect(h.fake.built[0]?.destroyed).toBe(false);
    expect(h.clock.pending()).toBe(1);
    h.clock.advance(1);
    expect(h.fake.built[0]?.destroyed).toBe(true);
  });
});

describe('provisioned concurrency', () => {
  async function provision(count: number): Promise<void> {
    await h.deploy('p');
    h.registry.publishVersion('p', {});
    h.registry.createAlias('p', { Name: 'live', FunctionVersion: '1' });
    h.provisioned.putConfig('p', 'live', count);
    await until(() => h.provisioned.getConfig('p', 'live').Status === 'READY', 'the config to be READY');
  }
  const provisionedEnvs = () => h.fake.live().filter((e) => e.spec.initializationType === 'provisioned-concurrency');

  it('an idle provisioned environment serves first, warm, even when an on-demand one is idle', async () => {
    await start();
    await provision(1);
    // An on-demand environment of version 1 exists too (the provisioned one was busy then), and
    // it was used more recently.
    h.fake.holding = true;
    const busy = h.invoke('p', 'live');
    await h.fake.heldCount(1);
    const spill = h.invoke('p', '1');
    await h.fake.heldCount(2);
    h.fake.take().finish();
    await busy;
    h.clock.advance(1000);
    h.fake.take().finish();
    expect(h.fake.built.at(-1)?.spec.initializationType).toBe('on-demand');
    expect(h.servedBy(await spill)).toBe(h.fake.built.at(-1)?.id);
    h.fake.holding = false;
    const result = await h.invoke('p', 'live');
    expect(h.servedBy(result)).toBe(provisionedEnvs()[0]?.id);
    expect(result.coldStart).toBe(false);
    expect(await h.count(h.metrics.provisionedInvocations, { function: 'p', qualifier: 'live' })).toBe(2);
    expect(await h.count(h.metrics.coldStarts, { function: 'p', qualifier: 'live' })).toBe(0);
  });

  it('when the provisioned environments are busy, an invocation spills over to on-demand and is counted', async () => {
    await start();
    await provision(1);
    h.fake.holding = true;
    const onProvisioned = h.invoke('p', 'live');
    await h.fake.heldCount(1);
    const spilled = h.invoke('p', 'live');
    const [first, second] = await h.fake.heldCount(2);
    expect(first?.env.spec.initializationType).toBe('provisioned-concurrency');
    expect(second?.env.spec.initializationType).toBe('on-demand');
    h.fake.take().finish();
    h.fake.take().finish();
    expect((await onProvisioned).coldStart).toBe(false);
    expect(await spilled).toMatchObject({ coldStart: true, coldStartReason: 'all-environments-busy' });
    expect(await h.count(h.metrics.provisionedInvocations, { function: 'p', qualifier: 'live' })).toBe(1);
    expect(await h.count(h.metrics.provisionedSpillover, { function: 'p', qualifier: 'live' })).toBe(1);
  });

  it('a provisioned environment that dies is destroyed and replaced', async () => {
    await start();
    await provision(1);
    const [original] = provisionedEnvs();
    h.fake.holding = true;
    const crashing = h.invoke('p', 'live');
    (await h.fake.heldCount(1))[0]?.die();
    h.fake.held.splice(0);
    const result = await crashing;
    expect(result.functionError).toBe('Runtime.ExitError');
    expect(result.log).toMatch(/REPORT .*Status: error\tError Type: Runtime.ExitError\t\n$/);
    expect(original?.destroyed).toBe(true);
    expect(await h.count(h.metrics.evictions, { function: 'p', reason: 'failed' })).toBe(1);
    await until(() => provisionedEnvs().length === 1 && h.provisioned.getConfig('p', 'live').Status === 'READY', 'a replacement');
    expect(provisionedEnvs()[0]).not.toBe(original);
    expect(h.provisioned.getConfig('p', 'live').AllocatedProvisionedConcurrentExecutions).toBe(1);
  });

  it('provisioned environments outlive the keep-alive and are never evicted for host capacity', async () => {
    await start({ hostMemoryMb: 256, idleTimeoutSeconds: IDLE_S });
    await provision(1);
    await h.deploy('other', { MemorySize: 128 });
    await h.invoke('p', 'live');
    h.clock.advance(IDLE_S * 1000 * 2);
    expect(provisionedEnvs()).toHaveLength(1);
    await h.invoke('other');
    // The host is full: a new environment of p's $LATEST evicts other's idle one, not the provisioned one.
    h.fake.holding = true;
    const latest = h.invoke('p', '$LATEST');
    await h.fake.heldCount(1);
    expect(h.fake.built.find((e) => e.spec.functionName === 'other')?.destroyed).toBe(true);
    expect(provisionedEnvs()).toHaveLength(1);
    // With only the idle provisioned environment left to evict, nothing fits.
    const err = await rejection(h.invoke('other'));
    expect(err.reason).toBe(ThrottleReason.HostCapacity);
    expect(provisionedEnvs()).toHaveLength(1);
    h.fake.take().finish();
    await latest;
  });
});

describe('throttles', () => {
  it('reserved concurrency in use throttles with the reserved reason; 0 throttles everything', async () => {
    await start();
    await h.deploy('f');
    await h.reservations.put('f', 1);
    h.fake.holding = true;
    const running = h.invoke('f');
    await h.fake.heldCount(1);
    const err = await rejection(h.invoke('f'));
    expect(err).toMatchObject({ code: 'TooManyRequestsException', reason: ThrottleReason.Reserved, retryAfterSeconds: 1 });
    h.fake.take().finish();
    await running;
    await h.reservations.put('f', 0);
    expect((await rejection(h.invoke('f'))).reason).toBe(ThrottleReason.Reserved);
    expect(await h.count(h.metrics.throttles, { function: 'f', reason: ThrottleReason.Reserved })).toBe(2);
    expect(h.ledger.counts()).toEqual({ granted: 1, released: 1 });
  });

  it('the unreserved pool in use throttles with the account reason', async () => {
    await start({ regionalLimit: 2 });
    await h.deploy('f');
    await h.deploy('g');
    h.fake.holding = true;
    const running = [h.invoke('f'), h.invoke('g')];
    await h.fake.heldCount(2);
    const err = await rejection(h.invoke('f'));
    expect(err).toMatchObject({ reason: ThrottleReason.Account, retryAfterSeconds: 1 });
    expect(await h.count(h.metrics.throttles, { function: 'f', reason: ThrottleReason.Account })).toBe(1);
    h.fake.take().finish();
    h.fake.take().finish();
    await Promise.all(running);
  });

  it('the scaling rate throttles new environments with a Retry-After until a token refills', async () => {
    await start({ scalingRateEnvironments: 2, scalingRateWindowMs: 10_000 });
    await h.deploy('f');
    h.fake.holding = true;
    const running = [h.invoke('f'), h.invoke('f')];
    await h.fake.heldCount(2);
    const err = await rejection(h.invoke('f'));
    // One token refills in 10 s / 2 = 5 s.
    expect(err).toMatchObject({ reason: ThrottleReason.ScalingRate, retryAfterSeconds: 5 });
    expect(await h.count(h.metrics.throttles, { function: 'f', reason: ThrottleReason.ScalingRate })).toBe(1);
    h.clock.advance(5000);
    const third = h.invoke('f');
    await h.fake.heldCount(3);
    expect(h.fake.built).toHaveLength(3);
    for (const held of h.fake.held.splice(0)) held.finish();
    await Promise.all([...running, third]);
  });

  it('precheck names the throttle an invocation would meet, counts it, and takes nothing', async () => {
    await start({ scalingRateEnvironments: 1, scalingRateWindowMs: 10_000 });
    await h.deploy('f');
    await h.deploy('g');
    expect(h.scheduler.precheck(h.target('f'))).toBeUndefined();
    await h.reservations.put('f', 0);
    expect(h.scheduler.precheck(h.target('f'))).toEqual({ reason: ThrottleReason.Reserved, retryAfterSeconds: 1 });
    expect(h.scheduler.precheck(h.target('f'))).toEqual({ reason: ThrottleReason.Reserved, retryAfterSeconds: 1 });
    expect(await h.count(h.metrics.throttles, { function: 'f', reason: ThrottleReason.Reserved })).toBe(2);
    // A check of the scaling rate spends no token: the invocation after it still gets one.
    expect(h.scheduler.precheck(h.target('g'))).toBeUndefined();
    expect(h.scheduler.precheck(h.target('g'))).toBeUndefined();
    h.fake.holding = true;
    const running = h.invoke('g');
    await h.fake.heldCount(1);
    // The window's one token is spent and the only environment is busy.
    expect(h.scheduler.precheck(h.target('g'))).toEqual({ reason: ThrottleReason.ScalingRate, retryAfterSeconds: 10 });
    h.fake.take().finish();
    await running;
    // An idle environment needs no token.
    expect(h.scheduler.precheck(h.target('g'))).toBeUndefined();
    expect(h.ledger.counts()).toEqual({ granted: 1, released: 1 });
  });

  it('a full host with nothing idle throttles for host capacity and spends no scaling-rate token', async () => {
    await start({ hostMemoryMb: 256, scalingRateEnvironments: 1, scalingRateWindowMs: 60_000 });
    await h.deploy('f', { MemorySize: 128 });
    await h.deploy('g', { MemorySize: 256 });
    h.fake.holding = true;
    const running = h.invoke('f');
    await h.fake.heldCount(1);
    const err = await rejection(h.invoke('g'));
    expect(err).toMatchObject({ reason: ThrottleReason.HostCapacity, message: 'Rate Exceeded: the Laminar host has no memory left for another execution environment.' });
    expect(await h.count(h.metrics.throttles, { function: 'g', reason: ThrottleReason.HostCapacity })).toBe(1);
    h.fake.take().finish();
    await running;
    // g's only token was not spent by the throttle: it starts now, evicting f's idle environment.
    h.fake.holding = false;
    expect((await h.invoke('g')).coldStart).toBe(true);
    expect(h.fake.built[0]?.destroyed).toBe(true);
  });

  it('a scaling-rate throttle evicts nothing', async () => {
    await start({ hostMemoryMb: 512, scalingRateEnvironments: 1, scalingRateWindowMs: 60_000 });
    await h.deploy('f', { MemorySize: 256 });
    await h.deploy('g', { MemorySize: 256 });
    await h.invoke('f'); // f's only token
    await h.invoke('g');
    h.fake.holding = true;
    const running = h.invoke('f');
    await h.fake.heldCount(1);
    // Another environment of f would fit by evicting g's idle one, but f has no token left.
    const err = await rejection(h.invoke('f'));
    expect(err.reason).toBe(ThrottleReason.ScalingRate);
    expect(h.fake.built.map((e) => [e.spec.functionName, e.destroyed])).toEqual([
      ['f', false],
      ['g', false],
    ]);
    expect(await h.count(h.metrics.evictions, { function: 'g', reason: 'capacity' })).toBe(0);
    h.fake.take().finish();
    await running;
  });

  it('a shutting-down scheduler refuses new work and destroys environments as their invocations end', async () => {
    await start();
    await h.deploy('f');
    h.fake.holding = true;
    const running = h.invoke('f');
    const [held] = await h.fake.heldCount(1);
    h.fake.held.splice(0);
    const closed = h.scheduler.close(60_000);
    const err = await rejection(h.invoke('f'));
    expect(err).toMatchObject({ code: 'TooManyRequestsException', message: 'Laminar is shutting down.', reason: ThrottleReason.Account });
    held?.finish();
    expect((await running).functionError).toBeUndefined();
    await closed;
    expect(held?.env.destroyed).toBe(true);
    expect(await h.count(h.metrics.evictions, { function: 'f', reason: 'shutdown' })).toBe(1);
  });
});

describe('failures', () => {
  it('a failed Init answers with the Init error, logs INIT_REPORT, destroys the environment and counts one error', async () => {
    await start();
    await h.deploy('f');
    h.fake.initResult = () => ({
      ok: false,
      initDurationMs: 7,
      logs: 'import failed\n',
      error: { errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'index'" },
    });
    const result = await h.invoke('f');
    expect(result).toMatchObject({ functionError: 'Runtime.ImportModuleError', coldStart: true, coldStartReason: 'no-environment', durationMs: 0, initDurationMs: 7 });
    expect(JSON.parse(result.payload.toString())).toEqual({ errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module 'index'" });
    expect(result.log).toMatch(/^import failed\nINIT_REPORT Init Duration: 7.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\nSTART /);
    expect(h.fake.built[0]?.destroyed).toBe(true);
    expect(h.fake.built[0]?.invocations).toBe(0);
    const labels = { function: 'f', qualifier: '$LATEST' };
    expect(await h.count(h.metrics.invocations, labels)).toBe(1);
    expect(await h.count(h.metrics.errors, { ...labels, type: 'Runtime.ImportModuleError' })).toBe(1);
    expect(await h.count(h.metrics.evictions, { function: 'f', reason: 'failed' })).toBe(1);
    expect(h.ledger.counts()).toEqual({ granted: 1, released: 1 });
  });

  it('an on-demand environment that dies is destroyed; the next invocation starts cold', async () => {
    await start();
    await h.deploy('f');
    h.fake.holding = true;
    const crashing = h.invoke('f');
    (await h.fake.heldCount(1))[0]?.die();
    h.fake.held.splice(0);
    expect((await crashing).functionError).toBe('Runtime.ExitError');
    expect(h.fake.built[0]?.destroyed).toBe(true);
    h.fake.holding = false;
    expect(await h.invoke('f')).toMatchObject({ coldStart: true, coldStartReason: 'no-environment' });
  });

  it("an environment whose invoke rejects is contained as Runtime.Unknown and never reused", async () => {
    await start();
    await h.deploy('f');
    h.fake.holding = true;
    const failing = h.invoke('f');
    (await h.fake.heldCount(1))[0]?.reject(new Error('channel closed'));
    h.fake.held.splice(0);
    const result = await failing;
    expect(result.functionError).toBe('Runtime.Unknown');
    expect(JSON.parse(result.payload.toString())).toEqual({ errorType: 'Runtime.Unknown', errorMessage: `RequestId: ${result.requestId} Error: channel closed` });
    expect(h.fake.built[0]?.destroyed).toBe(true);
  });
});

describe('configuration changes', () => {
  it('a new configuration retires the pool: idle environments go now, busy ones when they finish; the next invocation is cold on the new', async () => {
    await start();
    await h.deploy('f', { MemorySize: 128 });
    h.fake.holding = true;
    const inFlight = h.invoke('f');
    await h.fake.heldCount(1);
    const busy = h.fake.take();
    h.fake.holding = false;
    await h.invoke('f');
    const idle = h.fake.built[1];
    expect(idle?.destroyed).toBe(false);

    h.registry.updateFunctionConfiguration('f', { MemorySize: 256 });
    const fresh = await h.invoke('f');
    expect(fresh).toMatchObject({ coldStart: true, coldStartReason: 'no-environment' });
    const created = h.fake.built[2];
    expect(created?.spec.memoryMb).toBe(256);
    expect(idle?.destroyed).toBe(true);
    expect(busy.env.destroyed).toBe(false);

    busy.finish();
    expect((await inFlight).functionError).toBeUndefined();
    expect(busy.env.destroyed).toBe(true);
    expect(await h.count(h.metrics.evictions, { function: 'f', reason: 'retired' })).toBe(2);
    expect(h.servedBy(await h.invoke('f'))).toBe(created?.id);
  });
});
