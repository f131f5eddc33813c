/**
 * Put / Get / Update / Delete / List FunctionEventInvokeConfig through the AWS SDK against a real
 * server: the shapes AWS returns, its validation in its words (as recorded in LocalStack's
 * snapshots of real AWS), and configs that go with the version or alias they belong to.
 */
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0, 250);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const noConfig = (fn: string, q: string) => `The function ${ARN}:${fn}:${q} doesn't have an EventInvokeConfig`;

let h: Harness;
let clock: ManualClock;
let client: LambdaClient;
beforeAll(async () => {
  clock = new ManualClock(T0);
  h = await startLaminar({}, { clock });
  client = h.client;
});
afterAll(async () => h?.close());

/** A function with version 1 and an alias `live` on it. */
async function versioned(): Promise<string> {
  const fn = await deployFixture(client, 'echo');
  await client.send(new PublishVersionCommand({ FunctionName: fn }));
  await client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
  return fn;
}

const refusal = (name: string, message: string, status: number) => ({ name, message, $metadata: expect.objectContaining({ httpStatusCode: status }) });

describe('event invoke config: lifecycle', () => {
  it('Put returns what was set, qualified $LATEST, with LastModified; settings left out stay absent', async () => {
    const fn = await deployFixture(client, 'echo');
    const out = await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 0 }));
    expect(out.FunctionArn).toBe(`${ARN}:${fn}:$LATEST`);
    expect(out.MaximumRetryAttempts).toBe(0);
    expect(out.MaximumEventAgeInSeconds).toBeUndefined();
    expect(out.DestinationConfig).toEqual({ OnSuccess: {}, OnFailure: {} });
    expect(out.LastModified).toEqual(new Date(T0));

    // The wire form: LastModified in epoch seconds, as AWS sends timestamps in JSON.
    const raw = await (await fetch(`${h.url}/2019-09-25/functions/${fn}/event-invoke-config`)).json();
    expect(raw).toEqual({ FunctionArn: `${ARN}:${fn}:$LATEST`, LastModified: T0 / 1000, MaximumRetryAttempts: 0, DestinationConfig: { OnSuccess: {}, OnFailure: {} } });
  });

  it('Put replaces the whole config; Update changes only what it is given', async () => {
    const fn = await deployFixture(client, 'echo');
    const other = await deployFixture(client, 'echo');
    await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }));
    const put = await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 0 }));
    expect(put.MaximumEventAgeInSeconds).toBeUndefined();

    await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 }));
    clock.advance(5000);
    const updated = await client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 0 }));
    expect(updated).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    expect(updated.LastModified!.getTime()).toBe(clock.now());

    // Destinations: each side is a setting of its own.
    await client.send(
      new UpdateFunctionEventInvokeConfigCommand({
        FunctionName: fn,
        DestinationConfig: { OnSuccess: { Destination: `${ARN}:${other}` }, OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:dlq' } },
      }),
    );
    const onlyFailure = await client.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: fn, DestinationConfig: { OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:t' } } }),
    );
    expect(onlyFailure.DestinationConfig).toEqual({
      OnSuccess: { Destination: `${ARN}:${other}` },
      OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:t' },
    });
    const got = await client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fn }));
    expect(got).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, DestinationConfig: onlyFailure.DestinationConfig });
  });

  it('per $LATEST, version and alias, by name, qualifier, name:qualifier or ARN; listed and paged; deleted each', async () => {
    const fn = await versioned();
    const put = (input: { FunctionName: string; Qualifier?: string }) =>
      client.send(new PutFunctionEventInvokeConfigCommand({ ...input, MaximumRetryAttempts: 1 })).then((o) => o.FunctionArn);
    expect(await put({ FunctionName: fn, Qualifier: '$LATEST' })).toBe(`${ARN}:${fn}:$LATEST`);
    expect(await put({ FunctionName: fn, Qualifier: '1' })).toBe(`${ARN}:${fn}:1`);
    expect(await put({ FunctionName: `${fn}:live` })).toBe(`${ARN}:${fn}:live`);
    expect(await put({ FunctionName: `${ARN}:${fn}:live`, Qualifier: 'live' })).toBe(`${ARN}:${fn}:live`);

    const list = await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn }));
    expect(list.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([`${ARN}:${fn}:$LATEST`, `${ARN}:${fn}:1`, `${ARN}:${fn}:live`]);
    expect(list.NextMarker).toBeUndefined();
    const first = await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn, MaxItems: 2 }));
    expect(first.FunctionEventInvokeConfigs).toHaveLength(2);
    const rest = await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn, MaxItems: 2, Marker: first.NextMarker }));
    expect(rest.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([`${ARN}:${fn}:live`]);
    expect(rest.NextMarker).toBeUndefined();

    for (const Qualifier of ['$LATEST', '1', 'live']) {
      const out = await client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: fn, Qualifier }));
      expect(out.$metadata.httpStatusCode).toBe(204);
    }
    expect((await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn }))).FunctionEventInvokeConfigs).toEqual([]);
    await expect(client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: fn }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, '$LATEST'), 404),
    );
  });

  it('goes with its version or alias, and with the function; a version published later has none', async () => {
    const fn = await versioned();
    for (const Qualifier of ['$LATEST', '1', 'live']) {
      await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, Qualifier, MaximumEventAgeInSeconds: 120 }));
    }
    await client.send(new DeleteAliasCommand({ FunctionName: fn, Name: 'live' }));
    await client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await expect(client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fn, Qualifier: 'live' }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, 'live'), 404),
    );
    await client.send(new DeleteAliasCommand({ FunctionName: fn, Name: 'live' }));
    await client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '1' }));
    const left = await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn }));
    expect(left.FunctionEventInvokeConfigs?.map((c) => c.FunctionArn)).toEqual([`${ARN}:${fn}:$LATEST`]);

    await client.send(new DeleteFunctionCommand({ FunctionName: fn }));
    await expect(client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', "The function doesn't exist.", 404),
    );
    // A new function of the same name starts without the old one's config.
    await deployFixture(client, 'echo', { FunctionName: fn });
    await expect(client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fn }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, '$LATEST'), 404),
    );
  });

  it('survives a restart on the same data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-eic-'));
    const first = await startLaminar({}, { clock: new ManualClock(T0) }, dataDir);
    const fn = await deployFixture(first.client, 'echo');
    await first.client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300 }));
    await first.close();
    const second = await startLaminar({}, { clock: new ManualClock(T0) }, dataDir);
    try {
      const got = await second.client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fn }));
      expect(got).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300, LastModified: new Date(T0) });
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('event invoke config: refusals in AWS words', () => {
  let fn = '';
  let other = '';
  beforeAll(async () => {
    fn = await versioned();
    other = await deployFixture(client, 'echo');
  });

  it('nothing to set, even for a function that does not exist', async () => {
    const msg = 'You must specify at least one of error handling or destination setting.';
    await expect(client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))).rejects.toMatchObject(
      refusal('InvalidParameterValueException', msg, 400),
    );
    await expect(client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: fn }))).rejects.toMatchObject(
      refusal('InvalidParameterValueException', msg, 400),
    );
  });

  it('an unknown function, version or alias: the function doesn’t exist', async () => {
    const missing = "The function doesn't exist.";
    for (const input of [
      { FunctionName: 'doesnotexist' },
      { FunctionName: `${ARN}:doesnotexist` },
      { FunctionName: fn, Qualifier: 'livedoesnotexist' },
      { FunctionName: fn, Qualifier: '7' },
    ]) {
      await expect(client.send(new PutFunctionEventInvokeConfigCommand({ ...input, MaximumRetryAttempts: 1 }))).rejects.toMatchObject(
        refusal('ResourceNotFoundException', missing, 404),
      );
    }
    await expect(client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist', MaximumRetryAttempts: 0 }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', missing, 404),
    );
  });

  it('Get, Delete and Update of a config that is not there name the qualified ARN', async () => {
    await expect(client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig('doesnotexist', '$LATEST'), 404),
    );
    await expect(client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: fn, Qualifier: '1221' }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, '1221'), 404),
    );
    await expect(client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'doesnotexist' }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig('doesnotexist', '$LATEST'), 404),
    );
    await expect(client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: `${ARN}:${fn}:live`, MaximumRetryAttempts: 0 }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, 'live'), 404),
    );
    await expect(client.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: `${ARN}:${fn}`, MaximumRetryAttempts: 0 }))).rejects.toMatchObject(
      refusal('ResourceNotFoundException', noConfig(fn, '$LATEST'), 404),
    );
  });

  it('a qualifier in the name that disagrees with Qualifier', async () => {
    await expect(
      client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: `${fn}:1`, Qualifier: '$LATEST', MaximumRetryAttempts: 1 })),
    ).rejects.toMatchObject(refusal('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.', 400));
  });

  it('ranges: MaximumRetryAttempts 0–2, MaximumEventAgeInSeconds 60–21600, MaxItems 1–50', async () => {
    await expect(client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 3 }))).rejects.toMatchObject(
      refusal('ValidationException', "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2", 400),
    );
    await expect(
      client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: -1, MaximumEventAgeInSeconds: 59 })),
    ).rejects.toMatchObject(
      refusal(
        'ValidationException',
        "2 validation errors detected: Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0; " +
          "Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
        400,
      ),
    );
    await expect(client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumEventAgeInSeconds: 21601 }))).rejects.toMatchObject(
      refusal('ValidationException', "1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600", 400),
    );
    await expect(client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn, MaxItems: 51 }))).rejects.toMatchObject(
      refusal('ValidationException', "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50", 400),
    );
    // The bounds themselves are accepted.
    const max = await client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 }));
    expect(max).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });
  });

  it('destinations: a function that does not exist, the function itself, another service, a malformed ARN', async () => {
    const put = (DestinationConfig: object) =>
      client.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: fn, DestinationConfig: DestinationConfig as never }));
    await expect(put({ OnSuccess: { Destination: `${ARN}:doesnotexist` } })).rejects.toMatchObject(
      refusal('InvalidParameterValueException', `The destination ARN ${ARN}:doesnotexist is invalid.`, 400),
    );
    await expect(put({ OnSuccess: { Destination: `${ARN}:${fn}` } })).rejects.toMatchObject(
      refusal('InvalidParameterValueException', "You can't specify the function as a destination for itself.", 400),
    );
    const iam = `arn:aws:iam:us-east-1:000000000000:function:${fn}`;
    await expect(put({ OnSuccess: { Destination: iam } })).rejects.toMatchObject(
      refusal('InvalidParameterValueException', `The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=${iam}), onFailure=null) is invalid.`, 400),
    );
    // A bucket takes failures only.
    await expect(put({ OnSuccess: { Destination: 'arn:aws:s3:::bucket' } })).rejects.toMatchObject(
      refusal('InvalidParameterValueException', 'The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:s3:::bucket), onFailure=null) is invalid.', 400),
    );
    const bad = `arn:aws:_-/!lambda:us-east-1:000000000000:function:${fn}`;
    await expect(put({ OnFailure: { Destination: bad } })).rejects.toMatchObject(
      refusal(
        'ValidationException',
        `1 validation error detected: Value '${bad}' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: ` +
          '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)',
        400,
      ),
    );
    // None of the refusals stored anything.
    const listed = await client.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: fn }));
    expect(listed.FunctionEventInvokeConfigs?.some((c) => c.DestinationConfig?.OnSuccess?.Destination !== undefined)).toBe(false);

    // Accepted: another function, a queue, a topic, an event bus, a bucket on failure, empty sides.
    for (const config of [
      { OnSuccess: { Destination: `${ARN}:${other}` } },
      { OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' }, OnFailure: { Destination: 'arn:aws:sns:us-east-1:000000000000:t' } },
      { OnSuccess: { Destination: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }, OnFailure: { Destination: 'arn:aws:s3:::bucket' } },
      { OnSuccess: {} },
    ]) {
      const out = await put(config);
      expect(out.DestinationConfig).toEqual(Object.assign({ OnSuccess: {}, OnFailure: {} }, config));
    }
  });
});
