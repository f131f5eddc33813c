import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../../../src/environments/environment.js';
import type { NodeProcessEnvironment } from '../../../src/environments/process/node/node-process-environment.js';
import { bootstrapPathOf, EnvTracker, eventually, fixtureSpec, liveUnits, NODE_KINDS, request, type NodeEnvironment } from './helpers.js';

const payloadOf = (outcome: InvokeOutcome) => JSON.parse(outcome.payload.toString()) as { errorType: string; errorMessage: string; trace?: string[] };

// The failure modes of Laminar's Node.js runtime, in a worker thread and in a process of its own.
describe.each(NODE_KINDS)('%s environment', (kind) => {
  const envs = new EnvTracker<NodeEnvironment>(kind);
  afterEach(() => envs.destroyAll());

  async function initError(name: string, handler = 'index.handler') {
    const env = envs.create(name, { handler });
    const init = await env.init();
    expect(init.ok).toBe(false);
    expect(env.state).toBe('failed');
    return { env, init, error: init.error! };
  }

  describe('Init failures are data', () => {
    it('Runtime.ImportModuleError for a missing handler module', async () => {
      const { error, init } = await initError('echo', 'missing.handler');
      expect(error.errorType).toBe('Runtime.ImportModuleError');
      expect(error.errorMessage).toBe(`Error: Cannot find module 'missing'\nRequire stack:\n- ${bootstrapPathOf(kind)}`);
      expect(init.logs).toMatch(/\tundefined\tERROR\tUncaught Exception \t\{"errorType":"Runtime.ImportModuleError"/);
    });

    it('Runtime.ImportModuleError for a missing dependency', async () => {
      const { error } = await initError('import-error');
      expect(error.errorType).toBe('Runtime.ImportModuleError');
      expect(error.errorMessage).toMatch(/^Error: Cannot find module 'this-package-does-not-exist'\nRequire stack:\n- .*import-error\/index\.js/);
    });

    it('Runtime.UserCodeSyntaxError', async () => {
      const { error } = await initError('syntax-error');
      expect(error).toMatchObject({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: "SyntaxError: Unexpected token '}'" });
      expect(error.trace?.join('\n')).toContain('syntax-error/index.js:2');
    });

    it.each([
      ['not-exported', 'index.handler is undefined or not exported'],
      ['not-function', 'index.handler is not a function'],
    ])('Runtime.HandlerNotFound for %s', async (name, errorMessage) => {
      const { error } = await initError(name);
      expect(error).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage });
    });

    it.each(['../echo/index.handler', 'index'])('Runtime.MalformedHandlerName for %s', async (handler) => {
      const { error } = await initError('echo', handler);
      expect(error.errorType).toBe('Runtime.MalformedHandlerName');
      expect(error.errorMessage).toMatch(/^Bad handler /);
    });

    it('Runtime.ExitError when module code calls process.exit', async () => {
      const { error, env } = await initError('init-exit');
      expect(error).toEqual({ errorType: 'Runtime.ExitError', errorMessage: 'Error: Runtime exited with error: exit status 4' });
      await eventually(() => liveUnits(env) === 0);
    });

    it('a hanging Init is bounded and its stuck runtime stopped', async () => {
      const env = envs.create('init-hang', {}, { initTimeoutMs: 800 });
      const started = Date.now();
      const init = await env.init();
      expect(Date.now() - started).toBeLessThan(800 + 500);
      expect(init).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: 'Init timed out after 0.80 seconds' } });
      await eventually(() => liveUnits(env) === 0);
    });
  });

  describe('invocation failures', () => {
    async function invokeOnce(name: string, payload: unknown = {}, overrides = {}) {
      const env = envs.create(name, overrides);
      expect((await env.init()).ok).toBe(true);
      const req = request(payload, {}, fixtureSpec(name, overrides).timeoutSeconds);
      const started = Date.now();
      const outcome = await env.invoke(req);
      return { env, req, outcome, elapsed: Date.now() - started };
    }

    it('a thrown Error becomes {errorType, errorMessage, trace} and an Invoke Error log line', async () => {
      const { env, req, outcome } = await invokeOnce('throws');
      expect(outcome).toMatchObject({ status: 'error', errorType: 'ValidationError', environmentDead: false });
      const body = payloadOf(outcome);
      expect(body).toMatchObject({ errorType: 'ValidationError', errorMessage: 'name is required' });
      expect(body.trace?.[0]).toBe('ValidationError: name is required');
      const [ts, id, level, message] = outcome.logs.split('\t');
      expect([id, level, message]).toEqual([req.requestId, 'ERROR', 'Invoke Error ']);
      expect(Date.parse(ts ?? '')).not.toBeNaN();
      // As the RIC logs it: own enumerable fields (here `name` and `field`) ride along with the stack.
      expect(JSON.parse(outcome.logs.slice(outcome.logs.indexOf('{')))).toMatchObject({
        errorType: 'ValidationError',
        errorMessage: 'name is required',
        field: 'name',
        stack: expect.arrayContaining(['ValidationError: name is required']),
      });
      expect(env.state).toBe('ready');
    });

    it('a thrown non-Error becomes {errorType: typeof, errorMessage: String(v), trace: []}', async () => {
      const { outcome } = await invokeOnce('throws-string');
      expect(outcome).toMatchObject({ status: 'error', errorType: 'string', environmentDead: false });
      expect(payloadOf(outcome)).toEqual({ errorType: 'string', errorMessage: 'plain string failure', trace: [] });
    });

    it('a result that cannot be serialized is an error', async () => {
      const { outcome } = await invokeOnce('circular');
      expect(payloadOf(outcome)).toMatchObject({ errorType: 'Error', errorMessage: 'Unable to stringify response body' });
    });

    it('an unhandled rejection fails the invocation and kills the environment', async () => {
      const { env, outcome } = await invokeOnce('rejects-unhandled');
      expect(outcome).toMatchObject({ status: 'error', errorType: 'Runtime.UnhandledPromiseRejection', environmentDead: true });
      expect(payloadOf(outcome)).toMatchObject({ errorMessage: 'Error: nobody caught me' });
      expect(outcome.logs).toContain('\tERROR\tUnhandled Promise Rejection \t{"errorType":"Runtime.UnhandledPromiseRejection"');
      await eventually(() => liveUnits(env) === 0);
      expect(env.state).toBe('dead');
    });

    it('an exception thrown asynchronously fails the invocation and kills the environment', async () => {
      const { env, outcome } = await invokeOnce('uncaught');
      expect(outcome).toMatchObject({ status: 'error', errorType: 'TypeError', environmentDead: true });
      expect(payloadOf(outcome).errorMessage).toBe('thrown from a timer');
      expect(outcome.logs).toContain('\tERROR\tUncaught Exception \t{"errorType":"TypeError"');
      await eventually(() => liveUnits(env) === 0);
    });

    it.each(['spin', 'wait'])('times out on time (%s), kills the runtime, keeps the logs written so far', async (mode) => {
      const { env, req, outcome, elapsed } = await invokeOnce('timeout', { mode }, { timeoutSeconds: 1 });
      expect(elapsed).toBeGreaterThanOrEqual(990);
      expect(elapsed).toBeLessThan(1000 + 100);
      expect(outcome).toMatchObject({ status: 'timeout', errorType: 'Sandbox.Timedout', environmentDead: true });
      expect(payloadOf(outcome)).toEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${req.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(990);
      expect(outcome.logs).toMatch(new RegExp(`\\t${req.requestId}\\tINFO\\tstarted ${mode}\\n$`));
      expect(env.state).toBe('dead');
      await eventually(() => liveUnits(env) === 0);
      expect(await env.invoke(request())).toMatchObject({ status: 'crash', environmentDead: true });
    });

    it('heap exhaustion is Runtime.OutOfMemory and the host survives', async () => {
      const { env, req, outcome } = await invokeOnce('oom', {}, { memoryMb: 128, timeoutSeconds: 20 });
      expect(outcome).toMatchObject({ status: 'crash', errorType: 'Runtime.OutOfMemory', environmentDead: true, maxMemoryUsedMb: 128 });
      expect(payloadOf(outcome)).toEqual({
        errorType: 'Runtime.OutOfMemory',
        errorMessage: `RequestId: ${req.requestId} Error: Runtime exited with error: signal: killed`,
      });
      await eventually(() => liveUnits(env) === 0);
      const next = envs.create('echo');
      expect((await next.init()).ok).toBe(true);
      expect((await next.invoke(request())).status).toBe('success');
    }, 60_000);

    it('process.exit(3) is Runtime.ExitError', async () => {
      const { env, req, outcome } = await invokeOnce('exits');
      expect(outcome).toMatchObject({ status: 'crash', errorType: 'Runtime.ExitError', environmentDead: true });
      expect(payloadOf(outcome)).toEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${req.requestId} Error: Runtime exited with error: exit status 3`,
      });
      expect(outcome.logs).toContain('\tINFO\tabout to exit\n');
      await eventually(() => liveUnits(env) === 0);
    });
  });

});

describe('ThreadEnvironment: no leaked threads', () => {
  it('a process that used and destroyed environments exits on its own', async () => {
    const moduleUrl = new URL('../../../dist/environments/thread/thread-environment.js', import.meta.url).href;
    const script = `
      const { ThreadEnvironment } = await import(${JSON.stringify(moduleUrl)});
      const specFor = (name, extra) => ({ ...${JSON.stringify(fixtureSpec('echo'))}, functionName: name,
        codeDir: ${JSON.stringify(join(fixtureSpec('echo').codeDir, '..'))} + '/' + name, ...extra });
      const req = () => ({ requestId: 'r', payload: '{}', invokedFunctionArn: 'arn', deadlineMs: Date.now() + 3000 });
      const ok = new ThreadEnvironment('a', specFor('echo', { tmpDir: ${JSON.stringify(fixtureSpec('echo').tmpDir)} }));
      await ok.init(); await ok.invoke(req());
      const slow = new ThreadEnvironment('b', specFor('timeout', { timeoutSeconds: 1, tmpDir: ${JSON.stringify(fixtureSpec('echo').tmpDir)} + '-b' }));
      await slow.init(); const t = await slow.invoke(req());
      await ok.destroy(); await slow.destroy();
      console.log('done', t.status, ok.threadCount + slow.threadCount);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000 });
    expect(stdout.trim()).toBe('done timeout 0');
  }, 20_000);
});

describe('NodeProcessEnvironment: containment of the process', () => {
  const envs = new EnvTracker<NodeProcessEnvironment>('process');
  afterEach(() => envs.destroyAll());

  /** Alive and not a zombie waiting for whoever adopted it to reap it. */
  const running = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };

  it('destroy() leaves none of its processes running, what the function started included', async () => {
    const env = envs.create('pid');
    expect((await env.init()).ok).toBe(true);
    const body = JSON.parse((await env.invoke(request({ spawn: true }))).payload.toString()) as { pid: number; child: number };
    expect(body.pid).toBe(env.pid);
    expect(running(body.child)).toBe(true);
    await env.destroy();
    expect(env.processCount).toBe(0);
    expect(running(body.pid)).toBe(false);
    await eventually(() => !running(body.child), 5000);
  });

  it.each([
    ['a header that is not JSON', {}],
    ['a frame larger than any reply', { huge: true }],
  ])('a function that writes %s to the runtime pipe ends its own environment only', async (_what, event) => {
    const env = envs.create('pipe-writer');
    expect((await env.init()).ok).toBe(true);
    const outcome = await env.invoke(request(event));
    expect(outcome).toMatchObject({ status: 'crash', errorType: 'Runtime.Unknown', environmentDead: true });
    expect(payloadOf(outcome).errorMessage).toMatch(/Runtime pipe broken: /);
    await eventually(() => env.processCount === 0);
  });
});
