import {
  CreateAliasCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  ListProvisionedConcurrencyConfigsCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, useLaminarWithProbe, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

async function waitReady(client: LambdaClient, fn: string, q: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const c = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: q }));
    if (c.Status !== 'IN_PROGRESS') return c.Status as string;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('provisioned concurrency never left IN_PROGRESS');
}

const ctx = useLaminarWithProbe();

async function published(fixture: string, alias = 'live'): Promise<string> {
  const fn = await deployFixture(ctx.h.client, fixture, { Timeout: 30 });
  await ctx.h.client.send(new PublishVersionCommand({ FunctionName: fn }));
  await ctx.h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: '1' }));
  return fn;
}


describe('provisioned concurrency', () => {
  it('PC 3 on an alias: READY, 3 concurrent invokes run provisioned, a 4th spills over, delete releases', async () => {
    const fn = await published('sleep');
    const put = await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 3 }));
    expect(put.$metadata.httpStatusCode).toBe(202);
    expect(put.RequestedProvisionedConcurrentExecutions).toBe(3);
    expect(put.Status).toBe('IN_PROGRESS');
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    const got = await ctx.h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
    expect(got.AllocatedProvisionedConcurrentExecutions).toBe(3);

    const invoke = (ms: number) =>
      fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations?Qualifier=live`, { method: 'POST', body: JSON.stringify({ ms, probe: ctx.probe.url }) });
    const three = await Promise.all([invoke(600), invoke(600), invoke(600)]);
    expect(three.map((r) => r.headers.get('x-laminar-cold-start'))).toEqual(['false', 'false', 'false']);
    let m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_cold_starts_total', { function: fn })).toBe(0);
    expect(sample(m, 'laminar_provisioned_concurrency_invocations_total', { function: fn, qualifier: 'live' })).toBe(3);

    const four = await Promise.all([invoke(600), invoke(600), invoke(600), invoke(600)]);
    expect(four.filter((r) => r.headers.get('x-laminar-cold-start') === 'true')).toHaveLength(1);
    m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_provisioned_concurrency_spillover_invocations_total', { function: fn, qualifier: 'live' })).toBe(1);
    expect(sample(m, 'laminar_provisioned_concurrency_allocated', { function: fn, qualifier: 'live' })).toBe(3);
    expect(sample(m, 'laminar_environments', { function: fn, kind: 'provisioned' })).toBe(3);

    await ctx.h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
    m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_environments', { function: fn, kind: 'provisioned' })).toBe(0);
    expect(ctx.h.laminar.ledger!.provisioned.get(fn)).toBeUndefined();
    await expect(ctx.h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }))).rejects.toBeInstanceOf(
      ProvisionedConcurrencyConfigNotFoundException,
    );
  });

  it('provisioned environments initialise with AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency', async () => {
    const fn = await published('echo');
    await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    const res = await fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations?Qualifier=live`, { method: 'POST', body: '{}' });
    expect(((await res.json()) as { initType: string }).initType).toBe('provisioned-concurrency');
    const list = await ctx.h.client.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: fn }));
    expect(list.ProvisionedConcurrencyConfigs?.map((c) => c.FunctionArn)).toEqual([`arn:aws:lambda:us-east-1:000000000000:function:${fn}:live`]);
  });

  it('refuses PC on $LATEST and beyond the reservation; a reservation cannot drop below PC', async () => {
    const fn = await published('echo');
    await expect(
      ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
    ).rejects.toThrow(/unpublished function versions/);
    await ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 2 }));
    await expect(
      ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 3 })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
    await expect(ctx.h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 1 }))).rejects.toThrow(
      " ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2].",
    );
    // PC = RC: every on-demand invocation ($LATEST) is throttled.
    const latest = await fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: '{}' });
    expect(latest.status).toBe(429);
    await expect(
      ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1', ProvisionedConcurrentExecutions: 1 })),
    ).rejects.toThrow('Version is pointed by a Provisioned Concurrency alias');
  });

  it('an init failure makes the config FAILED with a reason', async () => {
    const fn = await published('import-error');
    await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('FAILED');
    const got = await ctx.h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
    expect(got.StatusReason).toMatch(/Runtime.ImportModuleError/);
  });

  it('re-pointing the alias moves its provisioned environments to the new version', async () => {
    const fn = await published('echo');
    await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 2 }));
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    await ctx.h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Description: 'v2' }));
    await waitUntilFunctionUpdatedV2({ client: ctx.h.client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
    const v2 = await ctx.h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await ctx.h.client.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: v2.Version }));
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    const res = await fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations?Qualifier=live`, { method: 'POST', body: '{}' });
    expect(res.headers.get('x-amz-executed-version')).toBe('2');
    expect(res.headers.get('x-laminar-cold-start')).toBe('false');
    const m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_environments', { function: fn, kind: 'provisioned' })).toBe(2);
  });

  it('a provisioned environment that crashes is replaced', async () => {
    const fn = await published('exits');
    await ctx.h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    const res = await fetch(`${ctx.h.url}/2015-03-31/functions/${fn}/invocations?Qualifier=live`, { method: 'POST', body: '{}' });
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await waitReady(ctx.h.client, fn, 'live')).toBe('READY');
    const m = await scrape(ctx.h.url);
    expect(sample(m, 'laminar_environments', { function: fn, kind: 'provisioned' })).toBe(1);
    expect(sample(m, 'laminar_environment_evictions_total', { function: fn, reason: 'failed' })).toBe(1);
  });
});

describe('provisioned environments are pinned (manual clock)', () => {
  let m: Harness;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    m = await startLaminar({ hostMemoryMb: 256, environmentIdleTimeoutSeconds: 600 }, { clock });
  });
  afterAll(async () => m.close());

  it('outlive the keep-alive and are never evicted for host capacity; on-demand ones are', async () => {
    const fn = await deployFixture(m.client, 'echo');
    await m.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await m.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await m.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live', ProvisionedConcurrentExecutions: 1 }));
    expect(await waitReady(m.client, fn, 'live')).toBe('READY');
    const invoke = (name: string, q = '') => fetch(`${m.url}/2015-03-31/functions/${name}/invocations${q}`, { method: 'POST', body: '{}' });
    await (await invoke(fn, '?Qualifier=live')).arrayBuffer();

    // The host (2 × 128 MB) holds the provisioned environment and one on-demand environment.
    const other = await deployFixture(m.client, 'echo');
    await (await invoke(other)).arrayBuffer();
    const third = await deployFixture(m.client, 'echo');
    expect((await invoke(third)).status).toBe(200);
    let metrics = await scrape(m.url);
    expect(sample(metrics, 'laminar_environment_evictions_total', { function: other, reason: 'capacity' })).toBe(1);
    expect(sample(metrics, 'laminar_environments', { function: fn, kind: 'provisioned' })).toBe(1);

    clock.advance(601_000);
    metrics = await scrape(m.url);
    expect(sample(metrics, 'laminar_environment_evictions_total', { function: third, reason: 'idle-timeout' })).toBe(1);
    expect(sample(metrics, 'laminar_environments', { function: fn, kind: 'provisioned', state: 'idle' })).toBe(1);
    expect(sample(metrics, 'laminar_environment_evictions_total', { function: fn })).toBe(0);
    expect((await invoke(fn, '?Qualifier=live')).headers.get('x-laminar-cold-start')).toBe('false');
  });
});
