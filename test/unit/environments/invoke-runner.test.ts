import { describe, it, expect } from 'vitest';
import type { UserHandler } from '../../../src/environments/node/handler-loader.js';
import { countResources, isDrained, runHandler } from '../../../src/environments/node/invoke-runner.js';
import type { BootstrapConfig, InvokeTask } from '../../../src/environments/node/protocol.js';

const config: BootstrapConfig = {
  handler: 'index.handler',
  codeDir: '/code',
  functionName: 'fn',
  functionVersion: '$LATEST',
  memoryLimitInMB: '128',
  logGroupName: '/aws/lambda/fn',
  logStreamName: 'stream',
};

function task(overrides: Partial<InvokeTask> = {}): InvokeTask {
  return {
    kind: 'invoke',
    requestId: 'req-1',
    payload: '{"n":2}',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn:live',
    deadlineMs: Date.now() + 5000,
    ...overrides,
  };
}

const run = (handler: UserHandler, t: InvokeTask = task()) => runHandler(handler, t, config);

/**
 * The test host has timers of its own that come and go, so drain detection is checked against a
 * simulated event loop: `setTimer` registers a live 'Timeout' until it fires.
 */
function simulatedLoop() {
  const live = new Set<symbol>();
  return {
    activeResources: (): string[] => [...live].map(() => 'Timeout'),
    setTimer(fn: () => void, ms: number): void {
      const id = Symbol('timer');
      live.add(id);
      setTimeout(() => {
        live.delete(id);
        fn();
      }, ms);
    },
  };
}
const runSimulated = (loop: ReturnType<typeof simulatedLoop>, handler: UserHandler) =>
  runHandler(handler, task(), config, { activeResources: loop.activeResources });

describe('runHandler', () => {
  it('async handler: resolve is the result, rejection the error', async () => {
    await expect(run(async (event) => ({ got: event }))).resolves.toEqual({ ok: true, result: { got: { n: 2 } } });
    const boom = new Error('boom');
    await expect(run(async () => Promise.reject(boom))).resolves.toEqual({ ok: false, error: boom });
  });

  it('an async function never looks at the event loop: its promise is its outcome', async () => {
    let looked = 0;
    const activeResources = (): string[] => {
      looked++;
      return ['Timeout'];
    };
    await expect(runHandler(async () => 'fast', task(), config, { activeResources })).resolves.toEqual({ ok: true, result: 'fast' });
    expect(looked).toBe(0);
    // One that also calls back with callbackWaitsForEmptyEventLoop has nothing to wait for.
    const outcome = await runHandler(async (_e, _c, callback) => void callback(null, 'called back'), task(), config, { activeResources });
    expect(outcome).toEqual({ ok: true, result: 'called back' });
    // A plain function that returns nothing takes a baseline: its outcome may be the loop emptying.
    await runHandler((_e, _c, callback) => callback(null, 'cb'), task(), config, { activeResources: () => (looked++, []) });
    expect(looked).toBeGreaterThan(0);
  });

  it('sync throw and sync return value (fewer than 3 parameters)', async () => {
    const boom = new Error('sync');
    await expect(run(() => { throw boom; })).resolves.toEqual({ ok: false, error: boom });
    await expect(run((event) => (event as { n: number }).n * 10)).resolves.toEqual({ ok: true, result: 20 });
  });

  it('builds the context from the task and the config', async () => {
    const seen = await run(async (_e, context) => {
      const c = context as Record<string, unknown> & { getRemainingTimeInMillis(): number };
      return { ...c, remaining: c.getRemainingTimeInMillis() };
    }, task({ clientContext: '{"client":{"app_title":"t"},"Custom":{"k":1}}', identity: '{"cognitoIdentityId":"id-1"}' }));
    expect(seen.ok).toBe(true);
    const result = (seen as { result: Record<string, unknown> }).result;
    expect(result).toMatchObject({
      functionName: 'fn',
      functionVersion: '$LATEST',
      memoryLimitInMB: '128',
      logGroupName: '/aws/lambda/fn',
      logStreamName: 'stream',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn:live',
      clientContext: { client: { app_title: 't' }, Custom: { k: 1 } },
      identity: { cognitoIdentityId: 'id-1' },
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(result.remaining).toBeGreaterThan(4000);
    expect(result.remaining).toBeLessThanOrEqual(5000);
  });

  it('the context has the RIC own properties in its order, a copy keeps working methods, and its flag is per invocation', async () => {
    const contexts: Record<string, unknown>[] = [];
    const keep = (_e: unknown, context: object): Promise<string> => {
      contexts.push(context as Record<string, unknown>);
      return Promise.resolve('kept');
    };
    await run(async (e, c) => keep(e, c));
    await run(async (e, c) => keep(e, c));
    const [first, second] = contexts as [Record<string, unknown>, Record<string, unknown>];
    expect(Object.keys(first)).toEqual([
      'callbackWaitsForEmptyEventLoop',
      'succeed',
      'fail',
      'done',
      'functionVersion',
      'functionName',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
      'clientContext',
      'identity',
      'invokedFunctionArn',
      'awsRequestId',
      'getRemainingTimeInMillis',
    ]);
    const accessor = Object.getOwnPropertyDescriptor(first, 'callbackWaitsForEmptyEventLoop');
    expect(accessor).toMatchObject({ enumerable: true, configurable: true });
    expect(accessor?.get?.name).toBe('get callbackWaitsForEmptyEventLoop');
    // Each invocation's flag is its own: setting it on one context leaves the other's.
    first.callbackWaitsForEmptyEventLoop = false;
    expect(first.callbackWaitsForEmptyEventLoop).toBe(false);
    expect(second.callbackWaitsForEmptyEventLoop).toBe(true);
    // An object inheriting from a context reads and sets that context's flag.
    const derived = Object.create(second) as Record<string, unknown>;
    derived.callbackWaitsForEmptyEventLoop = false;
    expect(second.callbackWaitsForEmptyEventLoop).toBe(false);
    // A copy keeps the flag's value as data and methods that still answer for their invocation.
    const copy = { ...first } as Record<string, unknown> & { getRemainingTimeInMillis(): number };
    expect(copy.callbackWaitsForEmptyEventLoop).toBe(false);
    expect(copy.getRemainingTimeInMillis()).toBeGreaterThan(4000);
  });

  it('a callback handler that turns the wait off through a copy of its context still waits (the copy is data)', async () => {
    const loop = simulatedLoop();
    const started = Date.now();
    const outcome = await runSimulated(loop, (_e, context, cb) => {
      const copy = { ...context } as { callbackWaitsForEmptyEventLoop: boolean };
      copy.callbackWaitsForEmptyEventLoop = false;
      loop.setTimer(() => undefined, 100);
      cb(null, 'waited');
    });
    expect(outcome).toEqual({ ok: true, result: 'waited' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('an unparseable client context fails the invocation', async () => {
    const outcome = await run(async () => 'x', task({ clientContext: '{nope' }));
    expect(outcome.ok).toBe(false);
    expect(String((outcome as { error: Error }).error.message)).toMatch(/^Cannot parse ClientContext as json/);
  });

  it('callback: only the first call counts', async () => {
    const loop = simulatedLoop();
    const outcome = await runSimulated(loop, (_e, _c, cb) => {
      cb(null, 'one');
      cb(null, 'two');
      cb(new Error('three'));
    });
    expect(outcome).toEqual({ ok: true, result: 'one' });
  });

  it('callback waits for the event loop to empty by default', async () => {
    const loop = simulatedLoop();
    const started = Date.now();
    let timerRan = false;
    const outcome = await runSimulated(loop, (_e, _c, cb) => {
      loop.setTimer(() => (timerRan = true), 100);
      cb(null, 'after timers');
    });
    expect(outcome).toEqual({ ok: true, result: 'after timers' });
    expect(timerRan).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('callbackWaitsForEmptyEventLoop = false replies at once', async () => {
    const loop = simulatedLoop();
    const started = Date.now();
    const outcome = await runSimulated(loop, (_e, context, cb) => {
      (context as { callbackWaitsForEmptyEventLoop: boolean }).callbackWaitsForEmptyEventLoop = false;
      loop.setTimer(() => undefined, 300);
      cb(null, 'now');
    });
    expect(outcome).toEqual({ ok: true, result: 'now' });
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('callback error replies at once and does not wait', async () => {
    const loop = simulatedLoop();
    const err = new Error('cb');
    const started = Date.now();
    const outcome = await runSimulated(loop, (_e, _c, cb) => {
      loop.setTimer(() => undefined, 300);
      cb(err);
    });
    expect(outcome).toEqual({ ok: false, error: err });
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('legacy context.succeed / fail / done', async () => {
    const loop = simulatedLoop();
    type Legacy = { succeed(v: unknown): void; fail(v?: unknown): void; done(e: unknown, v: unknown): void };
    await expect(runSimulated(loop, (_e, c) => void loop.setTimer(() => (c as Legacy).succeed('s'), 5))).resolves.toEqual({
      ok: true,
      result: 's',
    });
    await expect(run((_e, c) => void (c as Legacy).fail())).resolves.toEqual({ ok: false, error: 'handled' });
    await expect(run((_e, c) => void (c as Legacy).done(null, 'd'))).resolves.toEqual({ ok: true, result: 'd' });
  });

  it('a sync handler that never reports yields null once the loop is empty', async () => {
    const loop = simulatedLoop();
    const started = Date.now();
    await expect(runSimulated(loop, (_e, _c, _cb) => void loop.setTimer(() => undefined, 50))).resolves.toEqual({
      ok: true,
      result: null,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('event loop drain detection', () => {
  it('compares live resources against a baseline', async () => {
    const baseline = countResources();
    expect(isDrained(baseline)).toBe(true);
    const t = setTimeout(() => undefined, 1000);
    expect(isDrained(baseline)).toBe(false);
    clearTimeout(t);
    expect(isDrained(baseline)).toBe(true);
    expect(isDrained(countResources(['Timeout']), countResources(['Timeout', 'TCPWrap']))).toBe(false);
  });
});
