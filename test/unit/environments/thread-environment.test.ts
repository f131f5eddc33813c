import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../../../src/environments/environment.js';
import { nodeProcessEnvironmentFactory, NodeProcessEnvironment } from '../../../src/environments/process/node/node-process-environment.js';
import { threadEnvironmentFactory, ThreadEnvironment } from '../../../src/environments/thread/thread-environment.js';
import { EnvTracker, eventually, fixtureSpec, liveUnits, NODE_KINDS, request, type NodeEnvironment } from './helpers.js';

function json(outcome: InvokeOutcome): Record<string, unknown> {
  expect(outcome.status, outcome.payload.toString()).toBe('success');
  return JSON.parse(outcome.payload.toString()) as Record<string, unknown>;
}

// Laminar's Node.js runtime has the same semantics in a worker thread and in a process of its own.
describe.each(NODE_KINDS)('%s environment: Init and invoke', (kind) => {
  const envs = new EnvTracker<NodeEnvironment>(kind);
  afterEach(() => envs.destroyAll());

  async function ready(name: string, ...rest: Parameters<EnvTracker['create']> extends [string, ...infer R] ? R : never) {
    const env = envs.create(name, ...rest);
    const init = await env.init();
    expect(init.ok, JSON.stringify(init.error)).toBe(true);
    return env;
  }

  it('initialises echo and answers an invocation with context and env', async () => {
    const env = envs.create('echo', { variables: { GREETING: 'hello' } });
    const init = await env.init();
    expect(init).toMatchObject({ ok: true, logs: '' });
    expect(init.initDurationMs).toBeGreaterThan(0);
    expect(env.state).toBe('ready');
    expect(liveUnits(env)).toBe(1);

    const req = request({ a: 1 }, { clientContext: '{"Custom":{"k":"v"}}', identity: '{"cognitoIdentityId":"c-1"}' });
    const outcome = await env.invoke(req);
    expect(outcome).toMatchObject({ status: 'success', environmentDead: false, logs: '' });
    expect(outcome.maxMemoryUsedMb).toBeGreaterThanOrEqual(1);
    expect(outcome.durationMs).toBeGreaterThan(0);
    const body = json(outcome);
    expect(body).toMatchObject({
      event: { a: 1 },
      requestId: req.requestId,
      functionName: 'echo',
      memoryLimitInMB: '128',
      invokedFunctionArn: req.invokedFunctionArn,
      clientContext: { Custom: { k: 'v' } },
      identity: { cognitoIdentityId: 'c-1' },
      initType: 'on-demand',
      invocations: 1,
    });
    expect(body.env).toMatchObject({ GREETING: 'hello', AWS_REGION: 'eu-west-1', _HANDLER: 'index.handler', TZ: ':UTC' });
    expect(body.remaining).toBeGreaterThan(2000);
    expect(body.remaining).toBeLessThanOrEqual(3000);
  });

  it('carries a 5 MB event and its response byte for byte', async () => {
    const env = await ready('echo');
    const big = 'é✓'.repeat(900_000);
    const outcome = await env.invoke(request({ big }));
    expect((json(outcome).event as { big: string }).big).toBe(big);
  });

  it('keeps module state between invocations of the same environment only', async () => {
    const first = await ready('echo');
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push(json(await first.invoke(request())).invocations);
    expect(counts).toEqual([1, 2, 3]);
    const second = await ready('echo');
    expect(json(await second.invoke(request())).invocations).toBe(1);
  });

  it('shows the function its own variables and never the host environment', async () => {
    process.env.LAMINAR_SECRET = 'host-secret';
    let body: Record<string, unknown>;
    try {
      const env = await ready('echo', { variables: { GREETING: 'hi', LANG: 'C' }, initializationType: 'provisioned-concurrency' });
      body = json(await env.invoke(request()));
    } finally {
      delete process.env.LAMINAR_SECRET;
    }
    const keys = body.envKeys as string[];
    expect(keys).not.toContain('LAMINAR_SECRET');
    expect(keys).not.toContain('HOME');
    expect(keys).toEqual(expect.arrayContaining(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'LAMBDA_TASK_ROOT', 'NODE_PATH', 'PATH']));
    expect(body.env).toMatchObject({ GREETING: 'hi', LANG: 'C' });
    expect(body.initType).toBe('provisioned-concurrency');
  });

  it('gives each environment its own /tmp, created at Init and removed on destroy', async () => {
    const a = await ready('echo');
    const b = await ready('echo');
    const tmpA = json(await a.invoke(request())).tmp;
    const tmpB = json(await b.invoke(request())).tmp;
    expect(tmpA).toBe(a.spec.tmpDir);
    expect(tmpB).toBe(b.spec.tmpDir);
    expect(tmpA).not.toBe(tmpB);
    expect(existsSync(a.spec.tmpDir)).toBe(true);
    await a.destroy();
    expect(existsSync(a.spec.tmpDir)).toBe(false);
    expect(existsSync(b.spec.tmpDir)).toBe(true);
  });

  it('sets _X_AMZN_TRACE_ID per invocation', async () => {
    const env = await ready('echo');
    const traced = json(await env.invoke(request({}, { traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' })));
    expect((traced.env as Record<string, string>)._X_AMZN_TRACE_ID).toBe('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
    const untraced = json(await env.invoke(request()));
    expect(untraced.env).not.toHaveProperty('_X_AMZN_TRACE_ID');
  });

  // Max Memory Used is read again after an invocation of 1 ms or more, not only once a second.
  it("reports the peak of an invocation that grew the environment's memory on its own REPORT", async () => {
    const env = await ready('hoard');
    const quick = await env.invoke(request({}));
    const grown = await env.invoke(request({ mb: 32 }));
    expect(json(grown)).toEqual({ kept: 1 });
    expect(grown.maxMemoryUsedMb).toBeGreaterThanOrEqual(quick.maxMemoryUsedMb + 24);
  });

  it('treats a deadline that is not real time (a test clock) as the full timeout', async () => {
    const env = await ready('echo');
    const body = json(await env.invoke(request({}, { deadlineMs: Date.UTC(2020, 0, 1) })));
    expect(body.remaining).toBeGreaterThan(2000);
    expect(body.remaining).toBeLessThanOrEqual(3000);
  });

  it.each([
    ['esm', 'index.handler', { flavour: 'esm', event: { x: 1 } }],
    ['mjs', 'index.handler', { flavour: 'mjs', event: { x: 1 } }],
    ['cjs-ext', 'index.handler', { flavour: 'cjs' }],
    ['nested', 'src/lib/handler.a.b.handler', { flavour: 'nested' }],
    ['with-dep', 'index.handler', { padded: '00007' }],
    ['sync-return', 'index.handler', { doubled: 2 }],
  ])('loads %s (%s)', async (name, handler, expected) => {
    const env = await ready(name, { handler });
    expect(json(await env.invoke(request({ x: 1 })))).toEqual(expected);
  });

  it('runs callback handlers: wait for the loop, no-wait, first call wins, errors', async () => {
    const env = await ready('callback');
    const started = Date.now();
    expect(json(await env.invoke(request({ mode: 'wait' })))).toHaveProperty('started');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const quick = Date.now();
    expect(json(await env.invoke(request({ mode: 'no-wait' })))).toEqual({ waited: false });
    expect(Date.now() - quick).toBeLessThan(1000);
    expect(json(await env.invoke(request({ mode: 'twice' })))).toBe('first');
    expect(json(await env.invoke(request({})))).toEqual({ mode: 'async-callback' });
    expect(json(await env.invoke(request({ mode: 'never' })))).toBeNull();
    const failed = await env.invoke(request({ mode: 'error' }));
    expect(failed).toMatchObject({ status: 'error', errorType: 'Error', environmentDead: false });
    expect(JSON.parse(failed.payload.toString())).toMatchObject({ errorType: 'Error', errorMessage: 'callback failed' });
  });

  it('runs legacy context.succeed / fail / done', async () => {
    const env = await ready('legacy-context');
    expect(json(await env.invoke(request({})))).toEqual({ legacy: true });
    expect(json(await env.invoke(request({ mode: 'done' })))).toBe('done result');
    const failed = await env.invoke(request({ mode: 'fail' }));
    expect(JSON.parse(failed.payload.toString())).toMatchObject({ errorType: 'Error', errorMessage: 'legacy failure' });
  });

  it('reports Init duration including top-level await (slow-init ≥ 300 ms)', async () => {
    const env = envs.create('slow-init');
    const init = await env.init();
    expect(init.ok).toBe(true);
    expect(init.initDurationMs).toBeGreaterThanOrEqual(300);
    expect(init.logs).toMatch(/^\S+Z\tundefined\tINFO\tinit done\n$/);
    expect(json(await env.invoke(request())).initMs).toBeGreaterThanOrEqual(300);
  });

  it('captures logs per invocation with request id and level, and keeps them off the host stdout', async () => {
    const env = envs.create('logs');
    const init = await env.init();
    expect(init.logs).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z\tundefined\tINFO\tloading module\n$/);

    const written: string[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written.push(String(chunk));
      return originalWrite(chunk, ...rest);
    }) as typeof process.stdout.write;
    const req = request({ name: 'bob' });
    let outcome: InvokeOutcome;
    try {
      outcome = await env.invoke(req);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.stdout.write = originalWrite;
    }
    expect(json(outcome)).toBe('logged');
    const lines = outcome.logs.split('\n').filter(Boolean);
    const tagged = lines.filter((l) => l.split('\t')[1] === req.requestId).map((l) => l.split('\t').slice(2).join('\t'));
    expect(tagged).toEqual([
      'INFO\thello bob { n: 1 }',
      'INFO\tinfo line',
      'WARN\twarn line',
      'ERROR\terror line',
      'DEBUG\tdebug line',
      'TRACE\ttrace line',
    ]);
    expect(lines.at(-1)).toBe('raw stdout');
    expect(written.join('')).not.toContain('hello bob');
  });

  it('refuses a second concurrent invocation without killing the environment', async () => {
    const env = await ready('callback');
    const slow = env.invoke(request({ mode: 'wait' }));
    const refused = await env.invoke(request());
    expect(refused).toMatchObject({ status: 'crash', environmentDead: false });
    expect((await slow).status).toBe('success');
    expect(env.state).toBe('ready');
  });

  it('destroy() stops the runtime, is idempotent, and later invokes are refused', async () => {
    const env = await ready('echo');
    expect(liveUnits(env)).toBe(1);
    await Promise.all([env.destroy(), env.destroy()]);
    await env.destroy();
    expect(liveUnits(env)).toBe(0);
    expect(env.state).toBe('destroyed');
    expect(existsSync(env.spec.tmpDir)).toBe(false);
    expect(await env.invoke(request())).toMatchObject({ status: 'crash', environmentDead: true });
    expect((await env.init()).ok).toBe(true); // init() returns the settled result of the one Init
  });

  it('destroy() during Init leaves no thread and no /tmp', async () => {
    const env = envs.create('slow-init');
    const init = env.init();
    await new Promise((r) => setTimeout(r, 50));
    await env.destroy();
    expect((await init).ok).toBe(false);
    await eventually(() => liveUnits(env) === 0);
    expect(existsSync(env.spec.tmpDir)).toBe(false);
  });

  it('is what the factory builds', () => {
    const factory = kind === 'thread' ? threadEnvironmentFactory : nodeProcessEnvironmentFactory;
    const env = factory('f-1', fixtureSpec('echo'));
    expect(env).toBeInstanceOf(kind === 'thread' ? ThreadEnvironment : NodeProcessEnvironment);
    expect(env.id).toBe('f-1');
  });
});
