import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

const waiter = () => ({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 });

describe('CreateFunction and reads', () => {
  it('creates a function Pending, then Active, with AWS fields', async () => {
    const zip = await zipFixture('echo');
    const created = await h.client.send(
      new CreateFunctionCommand({
        FunctionName: 'created-fn',
        Runtime: 'nodejs20.x' as Runtime,
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: zip },
        MemorySize: 256,
      }),
    );
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created.State).toBe('Pending');
    expect(created.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(created.CodeSize).toBe(zip.length);
    expect(created.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:created-fn');
    expect(created.Version).toBe('$LATEST');
    expect(created.Timeout).toBe(3);
    expect(created.MemorySize).toBe(256);
    expect(created.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.LastModified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    await new Promise((r) => setTimeout(r, 50));
    const got = await h.client.send(new GetFunctionCommand({ FunctionName: 'created-fn' }));
    expect(got.Configuration?.State).toBe('Active');
    expect(got.Code?.RepositoryType).toBe('S3');
    const download = await fetch(got.Code?.Location as string);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(zip)).toBe(true);
  });

  it('refuses a duplicate name with 409', async () => {
    await expect(
      h.client.send(
        new CreateFunctionCommand({
          FunctionName: 'created-fn',
          Runtime: 'nodejs20.x' as Runtime,
          Role: 'arn:aws:iam::000000000000:role/r',
          Handler: 'index.handler',
          Code: { ZipFile: await zipFixture('echo') },
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceConflictException);
  });

  it('validates limits with AWS messages and creates nothing', async () => {
    const zip = await zipFixture('echo');
    const base = { Runtime: 'nodejs20.x' as Runtime, Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { ZipFile: zip } };
    await expect(h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad-mem', MemorySize: 10241 }))).rejects.toThrow(
      /Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240/,
    );
    await expect(h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad-timeout', Timeout: 901 }))).rejects.toThrow(/timeout/);
    await expect(
      h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad-env', Environment: { Variables: { AWS_REGION: 'x' } } })),
    ).rejects.toThrow(/reserved keys .*AWS_REGION/);
    await expect(
      h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'big-env', Environment: { Variables: { BIG: 'x'.repeat(5000) } } })),
    ).rejects.toThrow(/4KB/);
    await expect(h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad zip', Code: { ZipFile: Buffer.from('nope') } }))).rejects.toThrow();
    await expect(h.client.send(new CreateFunctionCommand({ ...base, FunctionName: 'corrupt', Code: { ZipFile: Buffer.from('nope') } }))).rejects.toBeInstanceOf(
      InvalidParameterValueException,
    );
    for (const name of ['bad-mem', 'bad-timeout', 'bad-env', 'big-env', 'corrupt']) {
      await expect(h.client.send(new GetFunctionConfigurationCommand({ FunctionName: name }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    }
  });

  it('lists functions with paging', async () => {
    for (let i = 0; i < 3; i++) await deployFixture(h.client, 'echo', { FunctionName: `page-${i}` });
    const first = await h.client.send(new ListFunctionsCommand({ MaxItems: 2 }));
    expect(first.Functions).toHaveLength(2);
    expect(first.NextMarker).toBeDefined();
    const names: string[] = (first.Functions ?? []).map((f) => f.FunctionName as string);
    let marker = first.NextMarker;
    while (marker) {
      const page = await h.client.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName as string));
      marker = page.NextMarker;
    }
    expect(names).toEqual(expect.arrayContaining(['page-0', 'page-1', 'page-2']));
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('updates, versions and aliases', () => {
  it('updates code and configuration, with RevisionId as an optimistic lock', async () => {
    const name = await deployFixture(h.client, 'echo');
    const before = await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    await expect(
      h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 10, RevisionId: '00000000-0000-0000-0000-000000000000' })),
    ).rejects.toBeInstanceOf(PreconditionFailedException);
    const updated = await h.client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 10, RevisionId: before.RevisionId, Environment: { Variables: { GREETING: 'new' } } }),
    );
    expect(updated.Timeout).toBe(10);
    expect(updated.RevisionId).not.toBe(before.RevisionId);
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: name });
    const out = await h.client.send(new InvokeCommand({ FunctionName: name }));
    expect((decode(out.Payload) as { env: Record<string, string> }).env.GREETING).toBe('new');

    const code = await h.client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: await zipFixture('throws') }));
    expect(code.CodeSha256).not.toBe(before.CodeSha256);
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: name });
    const after = await h.client.send(new InvokeCommand({ FunctionName: name }));
    expect(after.FunctionError).toBe('Unhandled');
  });

  it('publishes immutable versions and routes aliases by weight', async () => {
    const name = await deployFixture(h.client, 'echo');
    const v1 = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    expect(v1.Version).toBe('1');
    expect(v1.FunctionArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:1`);
    const again = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    expect(again.Version).toBe('1');
    await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: 'second' }));
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: name });
    const v2 = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    expect(v2.Version).toBe('2');
    const versions = await h.client.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);

    const alias = await h.client.send(
      new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }),
    );
    expect(alias.AliasArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:live`);
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const out = await h.client.send(new InvokeCommand({ FunctionName: name, Qualifier: 'live' }));
      seen.add(out.ExecutedVersion as string);
    }
    expect([...seen].sort()).toEqual(['1', '2']);

    await expect(
      h.client.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', RoutingConfig: { AdditionalVersionWeights: { '1': 0.5, '2': 0.2 } } })),
    ).rejects.toThrow();
    const moved = await h.client.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2', RoutingConfig: {} }));
    expect(moved.FunctionVersion).toBe('2');
    const listed = await h.client.send(new ListAliasesCommand({ FunctionName: name }));
    expect(listed.Aliases?.map((a) => a.Name)).toEqual(['live']);
    await h.client.send(new DeleteAliasCommand({ FunctionName: name, Name: 'live' }));
    await expect(h.client.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('deletes a version, then the whole function', async () => {
    const name = await deployFixture(h.client, 'echo');
    await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name, Qualifier: '1' }));
    await expect(h.client.send(new InvokeCommand({ FunctionName: name, Qualifier: '1' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await expect(h.client.send(new InvokeCommand({ FunctionName: name }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('reports account settings', async () => {
    const s = await h.client.send(new GetAccountSettingsCommand({}));
    expect(s.AccountLimit?.ConcurrentExecutions).toBe(1000);
    expect(s.AccountLimit?.CodeSizeZipped).toBe(52_428_800);
    expect(s.AccountUsage?.FunctionCount).toBeGreaterThan(0);
  });
});

describe('persistence', () => {
  it('functions, versions and aliases survive a restart', async () => {
    const first = await startLaminar({}, {}, h.dataDir + '-restart');
    const name = await deployFixture(first.client, 'echo');
    await first.client.send(new PublishVersionCommand({ FunctionName: name }));
    await first.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'prod', FunctionVersion: '1' }));
    await first.close();
    const second = await startLaminar({}, {}, h.dataDir + '-restart');
    try {
      const out = await second.client.send(new InvokeCommand({ FunctionName: name, Qualifier: 'prod' }));
      expect(out.ExecutedVersion).toBe('1');
      expect(out.FunctionError).toBeUndefined();
    } finally {
      await second.close();
    }
  });
});
