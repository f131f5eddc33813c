import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARN, caught, fnInput, handlerZip, makeZip, setup, type Env } from './helpers.js';

let env: Env;
beforeEach(async () => {
  env = await setup();
});
afterEach(() => env.cleanup());

describe('createFunction / get / list', () => {
  it('returns a Pending configuration with Lambda defaults', async () => {
    const zip = await handlerZip();
    const cfg = await env.registry.createFunction({ FunctionName: 'hello', Handler: 'index.handler', Code: { ZipFile: zip } });
    expect(cfg).toMatchObject({
      FunctionName: 'hello',
      FunctionArn: ARN('hello'),
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::123456789012:role/laminar-execution',
      Handler: 'index.handler',
      CodeSize: zip.length,
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
      Description: '',
      Timeout: 3,
      MemorySize: 128,
      LastModified: '2026-01-02T03:04:05.678+0000',
      Version: '$LATEST',
      TracingConfig: { Mode: 'PassThrough' },
      State: 'Pending',
      StateReason: 'The function is being created.',
      StateReasonCode: 'Creating',
      LastUpdateStatus: 'InProgress',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: '/aws/lambda/hello' },
    });
    expect(cfg.Environment).toBeUndefined();
    expect(cfg.RevisionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is Active at once with the default delay of 0, with a new RevisionId', async () => {
    const created = await env.registry.createFunction(await fnInput('f', { Environment: { Variables: { A_B: '1' } } }));
    const got = env.registry.getFunctionConfiguration('f');
    expect(got.State).toBe('Active');
    expect(got.LastUpdateStatus).toBe('Successful');
    expect(got.StateReason).toBeUndefined();
    expect(got.LastUpdateStatusReason).toBeUndefined();
    expect(got.RevisionId).not.toBe(created.RevisionId);
    expect(got.Environment).toEqual({ Variables: { A_B: '1' } });
  });

  it('reports the unqualified ARN without a qualifier and the qualified one with $LATEST', async () => {
    await env.registry.createFunction(await fnInput('f', { Tags: { team: 'a' } }));
    expect(env.registry.getFunctionConfiguration('f').FunctionArn).toBe(ARN('f'));
    expect(env.registry.getFunctionConfiguration('f', '$LATEST').FunctionArn).toBe(ARN('f', '$LATEST'));
    const out = env.registry.getFunction('f');
    expect(out.Configuration.FunctionArn).toBe(ARN('f'));
    expect(out.Code.RepositoryType).toBe('S3');
    expect(out.Code.Location).toMatch(/^file:\/\/.*\.zip$/);
    expect(out.Tags).toEqual({ team: 'a' });
  });

  it('refuses an existing name and reports unknown functions with their ARN', async () => {
    await env.registry.createFunction(await fnInput('f'));
    const dup = await caught(async () => env.registry.createFunction(await fnInput('f')));
    expect(dup.code).toBe('ResourceConflictException');
    expect(dup.message).toBe('Function already exist: f');
    const nf = await caught(() => env.registry.getFunction('nope'));
    expect(nf.code).toBe('ResourceNotFoundException');
    expect(nf.message).toBe(`Function not found: ${ARN('nope')}`);
    expect((await caught(() => env.registry.getFunctionConfiguration('f', '7'))).message).toBe(`Function not found: ${ARN('f', '7')}`);
    expect((await caught(() => env.registry.getFunction('f', 'live'))).message).toBe(`Function not found: ${ARN('f', 'live')}`);
  });

  it('lists functions by name in pages with opaque markers', async () => {
    for (const n of ['e', 'b', 'd', 'a', 'c']) await env.registry.createFunction(await fnInput(n));
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = env.registry.listFunctions({ maxItems: 2, ...(marker ? { marker } : {}) });
      seen.push(...page.items.map((c) => c.FunctionName));
      expect(page.items.every((c) => c.Version === '$LATEST' && c.FunctionArn === ARN(c.FunctionName))).toBe(true);
      marker = page.nextMarker;
      pages++;
    } while (marker);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pages).toBe(3);
    expect(env.registry.listFunctions({}).items).toHaveLength(5);
    expect(env.registry.listFunctions({}).nextMarker).toBeUndefined();
  });

  it('lists every version with FunctionVersion ALL', async () => {
    await env.registry.createFunction(await fnInput('b', { Publish: true }));
    await env.registry.createFunction(await fnInput('a'));
    const all = env.registry.listFunctions({ functionVersion: 'ALL' }).items.map((c) => c.FunctionArn);
    expect(all).toEqual([ARN('a', '$LATEST'), ARN('b', '$LATEST'), ARN('b', '1')]);
    const first = env.registry.listFunctions({ functionVersion: 'ALL', maxItems: 2 });
    const rest = env.registry.listFunctions({ functionVersion: 'ALL', marker: first.nextMarker as string });
    expect(rest.items.map((c) => c.FunctionArn)).toEqual([ARN('b', '1')]);
  });

  it('reports usage', async () => {
    await env.registry.createFunction(await fnInput('a', { Publish: true }));
    const size = env.registry.getFunctionConfiguration('a').CodeSize;
    expect(env.registry.usage()).toEqual({ functionCount: 1, totalCodeSize: size * 2 });
  });
});

describe('state machine', () => {
  beforeEach(async () => {
    env.cleanup();
    env = await setup({ activationDelayMs: 1000 });
  });

  it('goes Pending -> Active after the activation delay and refuses work meanwhile', async () => {
    const created = await env.registry.createFunction(await fnInput('f'));
    const pending = 'The operation cannot be performed at this time. The function is currently in the following state: Pending';
    expect(env.registry.getFunctionConfiguration('f').State).toBe('Pending');
    for (const attempt of [
      () => env.registry.resolve('f', undefined),
      () => env.registry.updateFunctionConfiguration('f', { Timeout: 5 }),
      () => env.registry.publishVersion('f', {}),
      async () => env.registry.updateFunctionCode('f', { ZipFile: await handlerZip('x') }),
    ]) {
      const err = await caught(attempt);
      expect(err.code).toBe('ResourceConflictException');
      expect(err.message).toBe(pending);
    }
    await env.advance(999);
    expect(env.registry.getFunctionConfiguration('f').State).toBe('Pending');
    await env.advance(1);
    const active = env.registry.getFunctionConfiguration('f');
    expect(active).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(active.StateReasonCode).toBeUndefined();
    expect(active.RevisionId).not.toBe(created.RevisionId);
    expect(env.registry.resolve('f', undefined).version).toBe('$LATEST');
  });

  it('serves the previous code and configuration while an update is InProgress', async () => {
    await env.registry.createFunction(await fnInput('f', { Timeout: 3 }));
    await env.advance(1000);
    const events: string[] = [];
    env.registry.onChange((e) => events.push(`${e.kind}:${e.functionName}:${e.version}`));
    const before = env.registry.resolve('f', undefined);
    await env.advance(5000);
    const updated = await env.registry.updateFunctionCode('f', { ZipFile: await handlerZip('exports.handler = () => 2;') });
    expect(updated).toMatchObject({
      LastUpdateStatus: 'InProgress',
      LastUpdateStatusReason: 'The function is being created.',
      LastUpdateStatusReasonCode: 'Creating',
      State: 'Active',
      LastModified: '2026-01-02T03:04:11.678+0000',
    });
    const during = env.registry.resolve('f', undefined);
    expect(during.codeDir).toBe(before.codeDir);
    expect(during.configuration.CodeSha256).toBe(before.configuration.CodeSha256);
    const second = await caught(() => env.registry.updateFunctionConfiguration('f', { Timeout: 9 }));
    expect(second.code).toBe('ResourceConflictException');
    expect(second.message).toBe(`The operation cannot be performed at this time. An update is in progress for resource: ${ARN('f')}`);
    expect(events).toEqual([]);
    await env.advance(1000);
    const after = env.registry.resolve('f', undefined);
    expect(after.codeDir).not.toBe(before.codeDir);
    expect(after.configuration.CodeSha256).toBe(updated.CodeSha256);
    expect(events).toEqual(['updated:f:$LATEST']);
    // Nothing uses the old code any more.
    expect(existsSync(before.codeDir)).toBe(false);
  });

  it('settles interrupted creates and updates on restart', async () => {
    await env.registry.createFunction(await fnInput('f'));
    await env.reopen();
    expect(env.registry.getFunctionConfiguration('f')).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    await env.registry.updateFunctionConfiguration('f', { MemorySize: 256 });
    await env.reopen();
    const cfg = env.registry.getFunctionConfiguration('f');
    expect(cfg).toMatchObject({ LastUpdateStatus: 'Successful', MemorySize: 256 });
    expect(env.registry.resolve('f', undefined).configuration.MemorySize).toBe(256);
  });
});

describe('updates', () => {
  it('applies configuration changes and refuses a stale RevisionId with 412', async () => {
    await env.registry.createFunction(await fnInput('f'));
    const rev = env.registry.getFunctionConfiguration('f').RevisionId;
    const stale = await caught(() => env.registry.updateFunctionConfiguration('f', { Timeout: 10, RevisionId: 'nope' }));
    expect(stale.code).toBe('PreconditionFailedException');
    expect(stale.statusCode).toBe(412);
    expect(stale.message).toBe(
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
    const out = await env.registry.updateFunctionConfiguration('f', {
      Timeout: 10,
      RevisionId: rev,
      Environment: { Variables: { KEY: 'v' } },
      LoggingConfig: { LogFormat: 'JSON' },
    });
    expect(out).toMatchObject({ Timeout: 10, Environment: { Variables: { KEY: 'v' } } });
    expect(out.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: '/aws/lambda/f', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' });
    const codeStale = await caught(async () => env.registry.updateFunctionCode('f', { ZipFile: await handlerZip('y'), RevisionId: rev }));
    expect(codeStale.code).toBe('PreconditionFailedException');
  });

  it('DryRun changes nothing', async () => {
    await env.registry.createFunction(await fnInput('f'));
    const before = env.registry.getFunctionConfiguration('f');
    const zip = await handlerZip('dry');
    const dry = await env.registry.updateFunctionCode('f', { ZipFile: zip, DryRun: true });
    expect(dry.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(env.registry.getFunctionConfiguration('f')).toEqual(before);
  });

  it('deletes functions and versions, with Lambda refusals', async () => {
    const events: string[] = [];
    env.registry.onChange((e) => events.push(`${e.kind}:${e.version}`));
    await env.registry.createFunction(await fnInput('f', { Publish: true }));
    const codeDir = env.registry.resolve('f', '1').codeDir;
    const latest = await caught(() => env.registry.deleteFunction('f', '$LATEST'));
    expect(latest.code).toBe('InvalidParameterValueException');
    expect(latest.message).toBe('$LATEST version cannot be deleted without deleting the function.');
    // A version that does not exist is deleted without complaint; an alias cannot be deleted here.
    await env.registry.deleteFunction('f', '9');
    expect((await caught(() => env.registry.deleteFunction('f', 'live'))).message).toBe('Deletion of aliases is not currently supported.');
    await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
    const ref = await caught(() => env.registry.deleteFunction('f', '1'));
    expect(ref.code).toBe('ResourceConflictException');
    expect(ref.message).toBe('Unable to delete version because the following aliases reference it: [live]');
    await env.registry.deleteAlias('f', 'live');
    await env.registry.deleteFunction('f', '1');
    expect(events).toEqual(['alias-deleted:live', 'deleted:1']);
    await env.registry.deleteFunction('f');
    expect(events).toEqual(['alias-deleted:live', 'deleted:1', 'deleted:$LATEST']);
    expect((await caught(() => env.registry.getFunction('f'))).code).toBe('ResourceNotFoundException');
    expect(existsSync(codeDir)).toBe(false);
    expect(env.registry.usage()).toEqual({ functionCount: 0, totalCodeSize: 0 });
  });
});

describe('persistence', () => {
  it('keeps functions, versions, aliases and code across close() and open()', async () => {
    await env.registry.createFunction(await fnInput('f', { Description: 'kept' }));
    await env.registry.publishVersion('f', {});
    await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
    const before = env.registry.getFunction('f', '1');
    const r = await env.reopen();
    expect(r.getFunction('f', '1')).toEqual(before);
    expect(r.getFunctionConfiguration('f').Description).toBe('kept');
    expect(r.getAlias('f', 'live').FunctionVersion).toBe('1');
    const target = r.resolve('f', 'live');
    expect(existsSync(`${target.codeDir}/index.js`)).toBe(true);
    // Version numbers continue after a restart.
    await r.updateFunctionConfiguration('f', { Timeout: 7 });
    expect((await r.publishVersion('f', {})).Version).toBe('2');
  });

  it('stores identical code once', async () => {
    const zip = await makeZip([{ name: 'index.js', content: 'same' }]);
    await env.registry.createFunction(await fnInput('a', { Code: { ZipFile: zip } }));
    await env.registry.createFunction(await fnInput('b', { Code: { ZipFile: zip } }));
    expect(env.registry.resolve('a', undefined).codeDir).toBe(env.registry.resolve('b', undefined).codeDir);
    await env.registry.deleteFunction('a');
    expect(existsSync(env.registry.resolve('b', undefined).codeDir)).toBe(true);
  });

  it('cleans up interrupted extractions and unreferenced code on open', async () => {
    await env.registry.createFunction(await fnInput('f'));
    const code = path.join(env.dataDir, 'code');
    const kept = readdirSync(code).sort();
    mkdirSync(path.join(code, '.tmp-0123-abcd'));
    mkdirSync(path.join(code, 'f'.repeat(64)));
    writeFileSync(path.join(code, `${'f'.repeat(64)}.zip`), 'x');
    await env.reopen();
    expect(readdirSync(code).sort()).toEqual(kept);
  });

  it('lets exactly one of two concurrent creates of the same name win', async () => {
    const results = await Promise.allSettled([
      env.registry.createFunction(await fnInput('race')),
      env.registry.createFunction(await fnInput('race')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as Error).message).toBe('Function already exist: race');
    expect(existsSync(env.registry.resolve('race', undefined).codeDir)).toBe(true);
  });
});
