/**
 * Create/Get/Update/Delete/ListFunctionUrlConfig(s) through the real SDK client, against AWS's
 * recorded answers (LocalStack's snapshots of AWS: TestLambdaUrl in test_lambda_api.py and
 * TestLambdaURL in test_lambda.py).
 */
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  PublishVersionCommand,
  UpdateFunctionUrlConfigCommand,
  type FunctionUrlAuthType,
  type InvokeMode,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

let h: Harness;
let fn: string;
let arn: string;

beforeAll(async () => {
  h = await startLaminar();
  fn = await deployFixture(h.client, 'http');
  arn = `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;
  await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
  await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'urlalias', FunctionVersion: '1' }));
}, 60_000);
afterAll(async () => h?.close());

/** The SDK's exception as the fields a test compares: name, message, HTTP status. */
async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected a refusal');
}

const URL_RE = /^http:\/\/127\.0\.0\.1:\d+\/lambda-url\/[a-z0-9]{32}\/$/;
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('the config lifecycle', () => {
  it('creates, refuses a second, gets, updates and deletes, as AWS answers', async () => {
    const name = await deployFixture(h.client, 'http');
    const fnArn = `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
    const created = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    const { $metadata: _c, ...createdBody } = created;
    expect(createdBody).toEqual({ FunctionUrl: expect.stringMatching(URL_RE), FunctionArn: fnArn, AuthType: 'NONE', CreationTime: expect.stringMatching(ISO_RE) });

    expect(await refusal(h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' })))).toEqual({
      name: 'ResourceConflictException',
      message: `Failed to create function url config for [functionArn = ${fnArn}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      status: 409,
    });

    const got = await h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name }));
    const { $metadata: _g, ...gotBody } = got;
    expect(gotBody).toEqual({ ...createdBody, InvokeMode: 'BUFFERED', LastModifiedTime: expect.stringMatching(ISO_RE) });

    const updated = await h.client.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'AWS_IAM' }));
    const { $metadata: _u, ...updatedBody } = updated;
    // Update shows InvokeMode only once a request set it.
    expect(updatedBody).toEqual({ ...createdBody, AuthType: 'AWS_IAM', LastModifiedTime: expect.stringMatching(ISO_RE) });

    const deleted = await h.client.send(new DeleteFunctionUrlConfigCommand({ FunctionName: name }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    expect(await refusal(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name })))).toEqual({
      name: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
      status: 404,
    });
  });

  it('keeps InvokeMode and Cors that an update leaves out, and replaces what it gives', async () => {
    const name = await deployFixture(h.client, 'http');
    const cors = { AllowOrigins: ['https://a.example'], AllowMethods: ['GET'], MaxAge: 60 };
    const created = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE', InvokeMode: 'BUFFERED', Cors: cors }));
    expect(created).toMatchObject({ InvokeMode: 'BUFFERED', Cors: cors });
    const streamed = await h.client.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, InvokeMode: 'RESPONSE_STREAM' }));
    expect(streamed).toMatchObject({ InvokeMode: 'RESPONSE_STREAM', AuthType: 'NONE', Cors: cors, FunctionUrl: created.FunctionUrl });
    const untouched = await h.client.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name }));
    expect(untouched).toMatchObject({ InvokeMode: 'RESPONSE_STREAM', Cors: cors });
    const newCors = await h.client.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, Cors: { AllowOrigins: ['*'] } }));
    expect(newCors.Cors).toEqual({ AllowOrigins: ['*'] });
    expect((await h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name }))).Cors).toEqual({ AllowOrigins: ['*'] });
    expect(Date.parse(newCors.LastModifiedTime as string)).toBeGreaterThanOrEqual(Date.parse(created.CreationTime as string));
  });

  it('gives an alias a URL of its own; deleting the function’s URL leaves the alias’s', async () => {
    const name = await deployFixture(h.client, 'http');
    await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'test-alias', FunctionVersion: '1' }));
    const own = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    const aliased = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE', Qualifier: 'test-alias' }));
    expect(aliased.FunctionArn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${name}:test-alias`);
    expect(aliased.FunctionUrl).not.toBe(own.FunctionUrl);
    await h.client.send(new DeleteFunctionUrlConfigCommand({ FunctionName: name }));
    await expect(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const still = await h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: 'test-alias' }));
    expect(still.FunctionUrl).toBe(aliased.FunctionUrl);
  });

  it('forgets a function’s URLs when the function is deleted', async () => {
    const name = await deployFixture(h.client, 'http');
    const first = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await deployFixture(h.client, 'http', { FunctionName: name });
    await expect(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const second = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    expect(second.FunctionUrl).not.toBe(first.FunctionUrl);
  });
});

describe('refusals, in AWS’s words', () => {
  const qualifierError = (q: string) => ({
    name: 'ValidationException',
    message: `1 validation error detected: Value '${q}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)`,
    status: 400,
  });
  const notFound = (message: string) => ({ name: 'ResourceNotFoundException', message, status: 404 });
  const mismatch = {
    name: 'InvalidParameterValueException',
    message: 'The derived qualifier from the function name does not match the specified qualifier.',
    status: 400,
  };

  type Op = (input: { FunctionName: string; Qualifier?: string }) => Promise<unknown>;
  const ops: Record<string, { call: Op; missing: string }> = {
    create: { call: (i) => h.client.send(new CreateFunctionUrlConfigCommand({ ...i, AuthType: 'NONE' })), missing: 'Function does not exist' },
    get: { call: (i) => h.client.send(new GetFunctionUrlConfigCommand(i)), missing: 'The resource you requested does not exist.' },
    delete: { call: (i) => h.client.send(new DeleteFunctionUrlConfigCommand(i)), missing: 'The resource you requested does not exist.' },
    update: { call: (i) => h.client.send(new UpdateFunctionUrlConfigCommand({ ...i, AuthType: 'AWS_IAM' })), missing: 'Function does not exist' },
  };

  for (const [op, { call, missing }] of Object.entries(ops)) {
    it(`${op}: unknown function or alias, a version or $LATEST as qualifier, a conflicting qualifier`, async () => {
      expect(await refusal(call({ FunctionName: 'doesnotexist' }))).toEqual(notFound(missing));
      expect(await refusal(call({ FunctionName: arn.replace(fn, 'doesnotexist') }))).toEqual(notFound(missing));
      // The qualifier is checked before the function is looked up.
      expect(await refusal(call({ FunctionName: 'doesnotexist', Qualifier: '1' }))).toEqual(qualifierError('1'));
      expect(await refusal(call({ FunctionName: fn, Qualifier: '1' }))).toEqual(qualifierError('1'));
      expect(await refusal(call({ FunctionName: fn, Qualifier: '2' }))).toEqual(qualifierError('2'));
      expect(await refusal(call({ FunctionName: fn, Qualifier: '$LATEST' }))).toEqual(qualifierError('$LATEST'));
      expect(await refusal(call({ FunctionName: fn, Qualifier: 'v1' }))).toEqual(notFound(missing));
      expect(await refusal(call({ FunctionName: `${fn}:urlalias-doesnotmatch`, Qualifier: 'urlalias' }))).toEqual(mismatch);
    });
  }

  for (const op of ['get', 'delete', 'update'] as const) {
    it(`${op}: a function without a URL config`, async () => {
      expect(await refusal((ops[op] as (typeof ops)[string]).call({ FunctionName: fn }))).toEqual(notFound('The resource you requested does not exist.'));
    });
  }

  it('refuses a version in the function name, and checks AuthType, InvokeMode and Cors against the model', async () => {
    expect(await refusal(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: `${fn}:1` })))).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(await refusal(h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'NONE', InvokeMode: 'UNKNOWN' as InvokeMode })))).toEqual({
      name: 'ValidationException',
      message: "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]",
      status: 400,
    });
    expect(await refusal(h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'OPEN' as FunctionUrlAuthType })))).toMatchObject({
      name: 'ValidationException',
      message: "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]",
    });
    expect(
      await refusal(h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'NONE', Cors: { MaxAge: 86401, AllowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', '*'] } }))),
    ).toEqual({
      name: 'ValidationException',
      message:
        "2 validation errors detected: Value '[GET, PUT, POST, DELETE, PATCH, HEAD, *]' at 'cors.allowMethods' failed to satisfy constraint: Member must have length less than or equal to 6; Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or equal to 86400",
      status: 400,
    });
    // Nothing was created by the refused requests.
    expect(await refusal(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: fn })))).toEqual(notFound('The resource you requested does not exist.'));
  });
});

describe('ListFunctionUrlConfigs', () => {
  it('lists the function’s and its aliases’ configs, a page at a time', async () => {
    const name = await deployFixture(h.client, 'http');
    await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'urlalias', FunctionVersion: '1' }));
    expect((await h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: name }))).FunctionUrlConfigs).toEqual([]);
    const own = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }));
    const aliased = await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: `${name}:urlalias`, Qualifier: 'urlalias', AuthType: 'NONE' }));

    const all = await h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: name }));
    expect(all.NextMarker).toBeUndefined();
    expect(all.FunctionUrlConfigs?.map((c) => [c.FunctionArn, c.FunctionUrl, c.InvokeMode])).toEqual([
      [own.FunctionArn, own.FunctionUrl, 'BUFFERED'],
      [aliased.FunctionArn, aliased.FunctionUrl, 'BUFFERED'],
    ]);
    expect(all.FunctionUrlConfigs?.[0]).toMatchObject({ AuthType: 'NONE', CreationTime: own.CreationTime, LastModifiedTime: expect.stringMatching(ISO_RE) });

    const first = await h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: name, MaxItems: 1 }));
    expect(first.FunctionUrlConfigs).toHaveLength(1);
    expect(first.NextMarker).toBeDefined();
    const second = await h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: name, MaxItems: 1, Marker: first.NextMarker }));
    expect(second.FunctionUrlConfigs?.map((c) => c.FunctionUrl)).toEqual([aliased.FunctionUrl]);
    expect(second.NextMarker).toBeUndefined();
  });

  it('refuses an unknown function and MaxItems over 50', async () => {
    expect(await refusal(h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'doesnotexist' })))).toEqual({
      name: 'ResourceNotFoundException',
      message: 'Function does not exist',
      status: 404,
    });
    expect(await refusal(h.client.send(new ListFunctionUrlConfigsCommand({ FunctionName: fn, MaxItems: 51 })))).toEqual({
      name: 'ValidationException',
      message: "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50",
      status: 400,
    });
  });
});
