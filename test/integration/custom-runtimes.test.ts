/**
 * Custom runtimes (`provided.al2023`) run as process environments on the Lambda Runtime API: a
 * shell runtime looping with curl and one in Python 3, each driven through the real SDK against a
 * real server, under the same scheduler, ledger, metrics and REPORT lines as Node.js functions.
 */
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentGone, environmentProcesses } from '../helpers/host-processes.js';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

const RUNTIMES = [
  { fixture: 'custom-sh', errorType: 'Function.Failed', says: 'shell runtime starting' },
  { fixture: 'custom-py', errorType: 'ValueError', says: 'python runtime starting' },
] as const;

const deploy = (fixture: string, extra: Record<string, unknown> = {}) =>
  deployFixture(h.client, fixture, { Runtime: 'provided.al2023' as Runtime, Handler: 'function.handler', ...extra });

async function invoke(name: string, event: unknown, qualifier?: string) {
  const out = await h.client.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: 'Tail', ...(qualifier ? { Qualifier: qualifier } : {}) }),
  );
  return { out, body: decode(out.Payload) as Record<string, unknown>, log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8') };
}

describe.each(RUNTIMES)('$fixture', ({ fixture, errorType, says }) => {
  it('echoes through the Runtime API, with Lambda variables, Init output and START/END/REPORT', async () => {
    const name = await deploy(fixture);
    const { out, body, log } = await invoke(name, { hello: 'world' });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(body.event).toEqual({ hello: 'world' });
    expect(log).toContain(says);
    expect(log).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(log).toMatch(/handling [0-9a-f-]{36}/);
    expect(log).toMatch(/REPORT RequestId: .*Init Duration: /);
    // Measured from the runtime's processes, not a placeholder.
    expect(Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1])).toBeGreaterThan(1);
    const warm = await invoke(name, { again: true });
    expect(warm.body.event).toEqual({ again: true });
    expect(warm.log).not.toContain('Init Duration');
  });

  it('leaves nothing running once the function is deleted', async () => {
    const name = await deploy(fixture);
    const stream = String((await invoke(name, {})).body.stream);
    expect(environmentProcesses(stream).length).toBeGreaterThan(0); // running while warm
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await environmentGone(stream);
  });

  it('leaves nothing running once the server stops', async () => {
    const other = await startLaminar();
    try {
      const name = await deployFixture(other.client, fixture, { Runtime: 'provided.al2023' as Runtime, Handler: 'function.handler' });
      const out = await other.client.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
      const stream = (decode(out.Payload) as { stream: string }).stream;
      expect(environmentProcesses(stream).length).toBeGreaterThan(0);
      await other.close();
      await environmentGone(stream);
    } finally {
      await other.close();
    }
  });

  it('reports a function error with its type, and the environment stays warm', async () => {
    const name = await deploy(fixture);
    const failed = await invoke(name, { fail: true });
    expect(failed.out.FunctionError).toBe('Unhandled');
    expect(failed.body).toMatchObject({ errorType, errorMessage: 'failed on purpose' });
    const next = await invoke(name, { after: 'error' });
    expect(next.body.event).toEqual({ after: 'error' });
    expect(next.log).not.toContain('Init Duration');
  });

  it('reports an init error', async () => {
    const name = await deploy(fixture, { Environment: { Variables: { INIT_FAIL: 'yes' } } });
    const failed = await invoke(name, {});
    expect(failed.out.FunctionError).toBe('Unhandled');
    expect(failed.body).toMatchObject({ errorType: 'Runtime.ConfigError', errorMessage: 'init failed on purpose' });
  });

  it('times out, and the runtime is killed with what it started', async () => {
    const name = await deploy(fixture, { Timeout: 1 });
    const timedOut = await invoke(name, { hang: true });
    expect(timedOut.body).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const [, child, stream] = /child (\d+) stream (\S+)/.exec(timedOut.log) ?? [];
    expect(Number(child)).toBeGreaterThan(0);
    await environmentGone(String(stream));
    const next = await invoke(name, { after: 'timeout' });
    expect(next.body.event).toEqual({ after: 'timeout' });
  });

  it('an exiting runtime answers Runtime.ExitError with its status', async () => {
    const name = await deploy(fixture);
    const exited = await invoke(name, { exit: true });
    expect(exited.body).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(String(exited.body.errorMessage)).toMatch(/Runtime exited with error: exit status 3$/);
  });

  it('runs under reserved and provisioned concurrency like a Node.js function', async () => {
    const name = await deploy(fixture);
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 1 }));
    const both = await Promise.allSettled([invoke(name, { wait: 1 }), invoke(name, { wait: 2 })]);
    const throttled = both.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as { name: string; Reason?: string });
    expect(throttled).toHaveLength(1);
    expect(throttled[0]).toMatchObject({ name: 'TooManyRequestsException', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });

    const version = (await h.client.send(new PublishVersionCommand({ FunctionName: name }))).Version as string;
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: version }));
    await h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    for (let i = 0; i < 500; i++) {
      const cfg = await h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
      if (cfg.Status === 'READY') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const warm = await invoke(name, { via: 'provisioned' }, 'live');
    expect(warm.body.event).toEqual({ via: 'provisioned' });
    expect(warm.log).not.toContain('Init Duration');
    const m = await scrape(h.url);
    expect(sample(m, 'laminar_provisioned_concurrency_executions', { function: name, qualifier: 'live' })).toBe(0);
    expect(sample(m, 'laminar_invocations_total', { function: name, qualifier: 'live' })).toBe(1);
    expect(sample(m, 'laminar_throttles_total', { function: name, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })).toBe(1);
  });
});

describe('Max Memory Used of a custom runtime', () => {
  it('follows a warm invocation that grows the runtime, after quick ones that did not', async () => {
    const name = await deploy('custom-py');
    const mb = (log: string) => Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1]);
    await invoke(name, { quick: 1 });
    const quick = await invoke(name, { quick: 2 });
    const grown = await invoke(name, { mb: 48 });
    expect(grown.body).toEqual({ kept: 1 });
    // At least 48 MB more than the environment's own measure before; the quick invocations' figure
    // may sit above that measure by the pages of shared files its processes count (see notePeak).
    expect(mb(grown.log)).toBeGreaterThanOrEqual(48);
    expect(mb(grown.log)).toBeGreaterThanOrEqual(mb(quick.log) + 24);
  });
});

describe('a custom runtime without a bootstrap', () => {
  it('fails Init with Runtime.InvalidEntrypoint, naming where Lambda looks', async () => {
    const name = await deploy('echo');
    const failed = await invoke(name, {});
    expect(failed.out.FunctionError).toBe('Unhandled');
    expect(failed.body).toEqual({
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: "Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    });
  });
});
