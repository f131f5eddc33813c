import { InvokeCommand, type CreateFunctionCommandInput, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

type ErrorBody = { errorType: string; errorMessage: string; trace?: string[] };

// Every test runs with Node.js in a worker thread and in a process of its own.
const KINDS = ['thread', 'process'] as const;

async function invoke(name: string, payload = '{}'): Promise<InvokeCommandOutput> {
  return h.client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(payload) }));
}

/** The platform survived a failure: it answers and still runs functions. */
async function expectPlatformHealthy(): Promise<void> {
  const res = await fetch(`${h.url}/health`);
  expect(res.status).toBe(200);
  const echo = await deployFixture(h.client, 'echo');
  const out = await invoke(echo);
  expect(out.FunctionError).toBeUndefined();
}

describe.each(KINDS)('%s environments', (isolation) => {
  const deploy = (fixture: string, input: Partial<CreateFunctionCommandInput> = {}) =>
    deployFixture(h.client, fixture, { ...input, Tags: { 'laminar:isolation': isolation } });

  describe('function errors', () => {
    it('a thrown Error becomes {errorType, errorMessage, trace} with X-Amz-Function-Error: Unhandled', async () => {
      const name = await deploy('throws');
      const out = await invoke(name);
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBe('Unhandled');
      const body = decode(out.Payload) as ErrorBody;
      expect(body.errorType).toMatch(/Error$/);
      expect(body.errorMessage.length).toBeGreaterThan(0);
      expect(Array.isArray(body.trace)).toBe(true);
      expect(body.trace?.[0]).toContain(body.errorMessage);
    });

    it('a thrown non-Error reports its typeof as errorType', async () => {
      const name = await deploy('throws-string');
      const body = decode((await invoke(name)).Payload) as ErrorBody;
      expect(body.errorType).toBe('string');
      expect(body.trace).toEqual([]);
    });

    it('an unhandled rejection fails the invocation and the next one gets a fresh environment', async () => {
      const name = await deploy('rejects-unhandled');
      const first = await invoke(name);
      expect(first.FunctionError).toBe('Unhandled');
      expect((decode(first.Payload) as ErrorBody).errorType).toBe('Runtime.UnhandledPromiseRejection');
      const res = await fetch(`${h.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
      expect(res.headers.get('x-laminar-cold-start')).toBe('true');
    });
  });

  describe('containment', () => {
    it('times out on time with Sandbox.Timedout and destroys the environment', async () => {
      const name = await deploy('timeout', { Timeout: 1 });
      const started = Date.now();
      const out = await invoke(name);
      const elapsed = Date.now() - started;
      expect(out.FunctionError).toBe('Unhandled');
      const body = decode(out.Payload) as ErrorBody;
      expect(body.errorType).toBe('Sandbox.Timedout');
      expect(body.errorMessage).toBe(`RequestId: ${out.$metadata.requestId} Error: Task timed out after 1.00 seconds`);
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(2500);
      const next = await fetch(`${h.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
      expect(next.headers.get('x-laminar-cold-start')).toBe('true');
      await next.arrayBuffer();
    });

    it('exhausting the memory budget is a function error, not a dead server', async () => {
      const name = await deploy('oom', { MemorySize: 128, Timeout: 30 });
      const out = await invoke(name);
      expect(out.FunctionError).toBe('Unhandled');
      expect((decode(out.Payload) as ErrorBody).errorType).toBe('Runtime.OutOfMemory');
      await expectPlatformHealthy();
    });

    it('process.exit becomes Runtime.ExitError and the next invocation starts cold', async () => {
      const name = await deploy('exits');
      const out = await invoke(name);
      const body = decode(out.Payload) as ErrorBody;
      expect(body.errorType).toBe('Runtime.ExitError');
      expect(body.errorMessage).toMatch(/Runtime exited with error: exit status 3/);
      const next = await fetch(`${h.url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
      expect(next.headers.get('x-laminar-cold-start')).toBe('true');
      await next.arrayBuffer();
    });
  });

  describe('init errors', () => {
    const cases: [string, string, string][] = [
      ['import-error', 'index.handler', 'Runtime.ImportModuleError'],
      ['echo', 'missing.handler', 'Runtime.ImportModuleError'],
      ['not-exported', 'index.handler', 'Runtime.HandlerNotFound'],
      ['not-function', 'index.handler', 'Runtime.HandlerNotFound'],
      ['syntax-error', 'index.handler', 'Runtime.UserCodeSyntaxError'],
      ['echo', '../index.handler', 'Runtime.MalformedHandlerName'],
    ];
    for (const [fixture, handler, errorType] of cases) {
      it(`${fixture} with handler ${handler} fails Init with ${errorType}`, async () => {
        const name = await deploy(fixture, { Handler: handler });
        const out = await h.client.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
        expect(out.StatusCode).toBe(200);
        expect(out.FunctionError).toBe('Unhandled');
        expect((decode(out.Payload) as ErrorBody).errorType).toBe(errorType);
        const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
        expect(log).toContain(`Error Type: ${errorType}`);
      });
    }
  });
});
