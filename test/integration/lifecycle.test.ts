import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { cgroupDir } from '../helpers/cgroup-of.js';
import { environmentGone, environmentProcesses } from '../helpers/host-processes.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { cgroupParentName } from '../../src/environments/sandbox/cgroups.js';

/** Where a server on `dataDir` keeps its parent cgroup: one folder per v1 controller, or one on v2. */
function parentGroups(dataDir: string): string[] {
  const name = cgroupParentName(dataDir);
  return ['memory', 'cpu', 'pids', 'unified', ''].map((c) => join('/sys/fs/cgroup', c, name)).filter((d) => existsSync(d));
}
import { sample, scrape } from '../helpers/metrics.js';


describe('updates retire environments gracefully', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLaminar();
  });
  afterAll(async () => h.close());

  it('an in-flight invocation finishes on the old configuration; the next one starts cold on the new', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    const invoke = (body: string) => fetch(`${h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body });
    await (await invoke('{"ms":1}')).arrayBuffer();
    const inFlight = invoke('{"ms":700}');
    await new Promise((r) => setTimeout(r, 150));
    await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Description: 'v2', Timeout: 5 }));
    await waitUntilFunctionUpdatedV2({ client: h.client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    const next = await invoke('{"ms":1}');
    expect(next.headers.get('x-laminar-cold-start')).toBe('true');
    const old = await inFlight;
    expect(old.status).toBe(200);
    expect(await old.json()).toEqual({ slept: 700 });
    const m = await scrape(h.url);
    expect(sample(m, 'laminar_environment_evictions_total', { function: fn, reason: 'retired' })).toBe(1);
    expect(sample(m, 'laminar_environments', { function: fn })).toBe(1);
  });
});

describe('laminar serve', () => {
  it('deploys examples, serves them, and on SIGTERM lets in-flight work finish, then exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-serve-'));
    const served = await startServeProcess(dataDir, ['--functions', EXAMPLES]);
    const { child, url } = served;
    try {
      expect(served.output()).toMatch(/deployed 6 function\(s\)/);
      const hello = await fetch(`${url}/2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{"name":"Ada"}' });
      expect(((await hello.json()) as { message: string }).message).toBe('Hello, Ada!');
      const dep = await fetch(`${url}/2015-03-31/functions/with-dependency/invocations`, { method: 'POST', body: '{"text":"a b"}' });
      expect(await dep.json()).toEqual({ title: 'A B' });
      // with-layer's dependency comes from the layer examples/layers/string-tools, published first.
      const layered = await fetch(`${url}/2015-03-31/functions/with-layer/invocations`, { method: 'POST', body: '{"text":"Hello Layers"}' });
      expect(await layered.json()).toEqual({ slug: 'hello-layers', reversed: 'sreyaL olleH' });
      const esm = await fetch(`${url}/2015-03-31/functions/esm-greeter/invocations`, { method: 'POST', body: '{}' });
      expect(((await esm.json()) as { initializationType: string }).initializationType).toBe('on-demand');
      // The custom-runtime examples run as processes on the Runtime API.
      const shell = await fetch(`${url}/2015-03-31/functions/shell-runtime/invocations`, { method: 'POST', body: '{"n":1}' });
      expect(await shell.json()).toEqual({ message: 'Hello from a shell runtime', event: { n: 1 } });
      const python = await fetch(`${url}/2015-03-31/functions/python-runtime/invocations`, { method: 'POST', body: '{"name":"Ada"}' });
      expect(((await python.json()) as { message: string }).message).toBe('Hello, Ada, from a Python runtime');

      const client = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const slow = await deployFixture(client, 'sleep');
      client.destroy();
      const inFlight = fetch(`${url}/2015-03-31/functions/${slow}/invocations`, { method: 'POST', body: '{"ms":800}' });
      await new Promise((r) => setTimeout(r, 300));
      // The sandboxes' parent group exists while the server runs and leaves with it.
      expect(parentGroups(dataDir).length).toBeGreaterThan(0);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ slept: 800 });
      expect(await exited).toBe(0);
      expect(served.output()).toMatch(/SIGTERM received, draining/);
      expect(parentGroups(dataDir)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('killed with SIGKILL, takes every sandbox with it: nothing the functions started keeps running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-kill-'));
    const { child, url } = await startServeProcess(dataDir);
    try {
      const client = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const fn = await deployFixture(client, 'pid');
      client.destroy();
      const res = await fetch(`${url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: '{"spawn":true}' });
      const { stream } = (await res.json()) as { stream: string };
      // The runtime and the child it started, inside their sandbox.
      expect(environmentProcesses(stream).length).toBeGreaterThanOrEqual(2);
      const runtime = Math.max(...environmentProcesses(stream));
      const group = cgroupDir(runtime, 'memory');
      expect(group !== undefined && existsSync(group)).toBe(true);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await environmentGone(stream);
      // The environment's cgroup outlives the server that made it; the next start on the data dir removes it.
      expect(existsSync(group as string)).toBe(true);
      const again = await startServeProcess(dataDir);
      try {
        expect(existsSync(group as string)).toBe(false);
      } finally {
        again.child.kill('SIGKILL');
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
