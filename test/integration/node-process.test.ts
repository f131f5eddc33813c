/**
 * Node.js functions in a process of their own, through the real SDK against a real server: the
 * `laminar:isolation` tag and the server's `isolation` default choose the kind, the function runs
 * in another process than the server, and a function that kills its own process or leaves
 * children behind harms nothing but its environment.
 */
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  TagResourceCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { descendsFrom, environmentGone, environmentProcesses } from '../helpers/host-processes.js';
import { sample, scrape } from '../helpers/metrics.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

type PidBody = { execArgv: string[]; pid: number; ppid: number; child?: number; runtimeApi?: string; cwd: string; stream: string };

async function invoke(harness: Harness, name: string, event: unknown = {}, qualifier?: string) {
  const out = await harness.client.send(
    new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: 'Tail', ...(qualifier ? { Qualifier: qualifier } : {}) }),
  );
  return { out, body: decode(out.Payload) as PidBody & { errorType?: string; errorMessage?: string }, log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8') };
}

const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** The log stream the fixture names when it starts a child. */
function streamOf(log: string): string {
  const m = /stream (\S+)/.exec(log);
  if (!m) throw new Error(`no stream in ${log}`);
  return m[1] as string;
}

describe('laminar:isolation=process', () => {
  it('runs the function in a process of its own, warm between invocations, with START/END/REPORT', async () => {
    const name = await deployFixture(h.client, 'pid', { Tags: { 'laminar:isolation': 'process' } });
    const first = await invoke(h, name);
    expect(first.out.FunctionError).toBeUndefined();
    expect(first.body.pid).not.toBe(process.pid);
    // Processes of the server's, found on the host by the variable the environment's processes carry.
    const hostPids = environmentProcesses(first.body.stream);
    expect(hostPids.length).toBeGreaterThan(0);
    for (const pid of hostPids) expect(descendsFrom(pid, process.pid)).toBe(true);
    expect(first.body.runtimeApi).toBeDefined();
    expect(first.log).toMatch(/START RequestId: [0-9a-f-]{36} Version: \$LATEST/);
    expect(first.log).toMatch(/REPORT RequestId: .*Max Memory Used: \d+ MB\tInit Duration: /);
    // The process's peak resident set, not a placeholder.
    expect(Number(/Max Memory Used: (\d+) MB/.exec(first.log)?.[1])).toBeGreaterThan(10);
    const warm = await invoke(h, name);
    expect(warm.body.stream).toBe(first.body.stream);
    expect(warm.log).not.toContain('Init Duration');
  });

  it('starts node with the heap limit of its MemorySize and without V8\'s memory reducer', async () => {
    const name = await deployFixture(h.client, 'pid', { MemorySize: 1024, Tags: { 'laminar:isolation': 'process' } });
    const { body } = await invoke(h, name);
    // 1024 MB: 64 MB of young generation, the rest old (heapLimits).
    expect(body.execArgv).toEqual(['--max-old-space-size=960', '--no-memory-reducer']);
  });

  it('Max Memory Used follows a warm invocation that grows the process, after quick ones that did not', async () => {
    const name = await deployFixture(h.client, 'hoard', { Tags: { 'laminar:isolation': 'process' } });
    const mb = (log: string) => Number(/Max Memory Used: (\d+) MB/.exec(log)?.[1]);
    await invoke(h, name);
    const quick = await invoke(h, name);
    const grown = await invoke(h, name, { mb: 48 });
    expect(grown.body).toEqual({ kept: 1 });
    expect(mb(grown.log)).toBeGreaterThanOrEqual(mb(quick.log) + 40);
  });

  it('survives process.kill(process.pid, 9) in the function; the server keeps serving', async () => {
    const name = await deployFixture(h.client, 'pid', { Tags: { 'laminar:isolation': 'process' } });
    const before = (await invoke(h, name)).body.stream;
    const killed = await invoke(h, name, { kill: true });
    expect(killed.out.FunctionError).toBe('Unhandled');
    expect(killed.body).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(killed.body.errorMessage).toMatch(/Runtime exited with error: signal: killed$/);
    await environmentGone(before);
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    const after = await invoke(h, name);
    expect(after.out.FunctionError).toBeUndefined();
    expect(after.body.stream).not.toBe(before);
    expect(after.log).toContain('Init Duration');
  });

  it('a change of the tag retires environments of the old kind', async () => {
    const name = await deployFixture(h.client, 'pid', { Tags: { 'laminar:isolation': 'thread' } });
    expect((await invoke(h, name)).body.pid).toBe(process.pid);
    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { 'laminar:isolation': 'process' } }));
    const inProcess = (await invoke(h, name)).body;
    expect(inProcess.pid).not.toBe(process.pid);
    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { 'laminar:isolation': 'thread' } }));
    expect((await invoke(h, name)).body.pid).toBe(process.pid);
    await environmentGone(inProcess.stream);
  });

  it('provisioned environments follow a change of the tag', async () => {
    const name = await deployFixture(h.client, 'pid', { Tags: { 'laminar:isolation': 'process' } });
    const version = (await h.client.send(new PublishVersionCommand({ FunctionName: name }))).Version as string;
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: version }));
    await h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    const ready = async (): Promise<void> => {
      for (let i = 0; i < 500; i++) {
        const cfg = await h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: 'live' }));
        if (cfg.Status === 'READY' && cfg.AvailableProvisionedConcurrentExecutions === 1) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('provisioned concurrency not READY');
    };
    await ready();
    const inProcess = await invoke(h, name, {}, 'live');
    expect(inProcess.body.pid).not.toBe(process.pid);
    expect(inProcess.log).not.toContain('Init Duration');

    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { 'laminar:isolation': 'thread' } }));
    // The first invocation after the change finds no environment of the new kind yet.
    expect((await invoke(h, name, {}, 'live')).body.pid).toBe(process.pid);
    await environmentGone(inProcess.body.stream);
    await ready();
    const provisioned = await invoke(h, name, {}, 'live');
    expect(provisioned.body.pid).toBe(process.pid);
    expect(provisioned.log).not.toContain('Init Duration');
    // Served by a provisioned environment of the new kind, not the warm on-demand one.
    const m = await scrape(h.url);
    expect(sample(m, 'laminar_provisioned_concurrency_invocations_total', { function: name, qualifier: 'live' })).toBe(2);
  });

  it('a timeout kills the function with what it started', async () => {
    const name = await deployFixture(h.client, 'pid', { Timeout: 1, Tags: { 'laminar:isolation': 'process' } });
    const timedOut = await invoke(h, name, { spawn: true, hang: true });
    expect(timedOut.body).toMatchObject({ errorType: 'Sandbox.Timedout' });
    const child = Number(/child (\d+)/.exec(timedOut.log)?.[1]);
    expect(child).toBeGreaterThan(0);
    await environmentGone(streamOf(timedOut.log));
  });
});

describe('the isolation default', () => {
  it('isolation=process runs untagged Node.js functions in a process; a thread tag still wins', async () => {
    const other = await startLaminar({ isolation: 'process' });
    try {
      const untagged = await deployFixture(other.client, 'pid');
      const { pid, stream } = (await invoke(other, untagged)).body;
      expect(pid).not.toBe(process.pid);
      const threaded = await deployFixture(other.client, 'pid', { Tags: { 'laminar:isolation': 'thread' } });
      expect((await invoke(other, threaded)).body.pid).toBe(process.pid);
      await other.close();
      await environmentGone(stream);
    } finally {
      await other.close();
    }
  });

  it('isolation=process is the default: untagged functions run in a process', async () => {
    const name = await deployFixture(h.client, 'pid');
    const { body } = await invoke(h, name);
    expect(body.pid).not.toBe(process.pid);
    expect(environmentProcesses(body.stream).length).toBeGreaterThan(0);
  });

  it('isolation=thread runs untagged functions in the server', async () => {
    const other = await startLaminar({ isolation: 'thread' });
    try {
      const name = await deployFixture(other.client, 'pid');
      expect((await invoke(other, name)).body.pid).toBe(process.pid);
    } finally {
      await other.close();
    }
  });
});

describe('nothing is left running', () => {
  it('after the function is deleted: the runtime and what it started are gone', async () => {
    const name = await deployFixture(h.client, 'pid', { Tags: { 'laminar:isolation': 'process' } });
    const { body } = await invoke(h, name, { spawn: true });
    expect(body.child).toBeGreaterThan(0);
    // While warm: the runtime and the child it started (and, sandboxed, the sandbox around them).
    expect(environmentProcesses(body.stream).length).toBeGreaterThanOrEqual(2);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await environmentGone(body.stream);
  });
});
