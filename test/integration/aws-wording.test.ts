/**
 * Answers whose exact wording, error type and status match what AWS Lambda sends (as recorded in
 * LocalStack's AWS-validated snapshots), through the SDK against a real server.
 */
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

interface Failure {
  name: string;
  message: string;
  status: number | undefined;
}

/** The error an SDK call fails with, reduced to what the wire carried. */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the call succeeded');
}

const notFound = (message: string): Failure => ({ name: 'ResourceNotFoundException', message, status: 404 });
const invalid = (message: string): Failure => ({ name: 'InvalidParameterValueException', message, status: 400 });
const validation = (message: string): Failure => ({ name: 'ValidationException', message, status: 400 });
const conflict = (message: string): Failure => ({ name: 'ResourceConflictException', message, status: 409 });

/** A function with versions 1 and 2 (distinct configurations). */
async function twoVersions(client: LambdaClient): Promise<string> {
  const fn = await deployFixture(client, 'echo');
  await client.send(new PublishVersionCommand({ FunctionName: fn }));
  await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Description: 'second' }));
  await waitUntilFunctionUpdatedV2({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: fn });
  await client.send(new PublishVersionCommand({ FunctionName: fn }));
  return fn;
}

describe('not-found messages name the ARN the way each operation does', () => {
  it('Invoke names $LATEST, or the version or alias asked for', async () => {
    const fn = await deployFixture(h.client, 'echo');
    expect(await failure(h.client.send(new InvokeCommand({ FunctionName: 'ghost-fn' })))).toEqual(
      notFound(`Function not found: ${ARN}:ghost-fn:$LATEST`),
    );
    expect(await failure(h.client.send(new InvokeCommand({ FunctionName: fn, Qualifier: '9' })))).toEqual(
      notFound(`Function not found: ${ARN}:${fn}:9`),
    );
    expect(await failure(h.client.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'non-existent-alias' })))).toEqual(
      notFound(`Function not found: ${ARN}:${fn}:non-existent-alias`),
    );
  });

  it('GetFunction and GetFunctionConfiguration name the bare ARN, or the qualifier given', async () => {
    expect(await failure(h.client.send(new GetFunctionCommand({ FunctionName: 'ghost-fn' })))).toEqual(notFound(`Function not found: ${ARN}:ghost-fn`));
    expect(await failure(h.client.send(new GetFunctionConfigurationCommand({ FunctionName: 'ghost-fn' })))).toEqual(
      notFound(`Function not found: ${ARN}:ghost-fn`),
    );
    expect(await failure(h.client.send(new GetFunctionCommand({ FunctionName: `${ARN}:ghost-fn:$LATEST`, Qualifier: '$LATEST' })))).toEqual(
      notFound(`Function not found: ${ARN}:ghost-fn:$LATEST`),
    );
    const fn = await deployFixture(h.client, 'echo');
    expect(await failure(h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: '1221' })))).toEqual(
      notFound(`Function not found: ${ARN}:${fn}:1221`),
    );
  });

  it('an ARN of another region is not found in this one', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const elsewhere = `arn:aws:lambda:eu-central-1:000000000000:function:${fn}`;
    const expected = notFound("Functions from 'eu-central-1' are not reachable in this region ('us-east-1')");
    expect(await failure(h.client.send(new GetFunctionCommand({ FunctionName: elsewhere })))).toEqual(expected);
    expect(await failure(h.client.send(new InvokeCommand({ FunctionName: elsewhere })))).toEqual(expected);
    expect(await failure(h.client.send(new DeleteFunctionCommand({ FunctionName: elsewhere })))).toEqual(expected);
  });

  it('PutFunctionConcurrency names $LATEST; GetFunctionConcurrency the bare ARN', async () => {
    expect(await failure(h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'doesnotexist', ReservedConcurrentExecutions: 1 })))).toEqual(
      notFound(`Function not found: ${ARN}:doesnotexist:$LATEST`),
    );
    expect(await failure(h.client.send(new GetFunctionConcurrencyCommand({ FunctionName: 'doesnotexist' })))).toEqual(
      notFound(`Function not found: ${ARN}:doesnotexist`),
    );
  });

  it('PutFunctionConcurrency refuses a qualified name with AWS’s words', async () => {
    const fn = await deployFixture(h.client, 'echo');
    expect(await failure(h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: `${ARN}:${fn}:$LATEST`, ReservedConcurrentExecutions: 1 })))).toEqual(
      invalid(
        'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      ),
    );
  });

  it('CreateAlias on a missing function names the version the alias would point to', async () => {
    expect(
      await failure(
        h.client.send(
          new CreateAliasCommand({ FunctionName: 'ghost-fn', Name: 'custom', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }),
        ),
      ),
    ).toEqual(notFound(`Function not found: ${ARN}:ghost-fn:1`));
  });
});

describe('DeleteFunction', () => {
  it('succeeds for a version that does not exist, and names the bare ARN for a missing function', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const first = await h.client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '1233' }));
    expect(first.$metadata.httpStatusCode).toBe(204);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '1233' }));
    await h.client.send(new DeleteFunctionCommand({ FunctionName: fn }));
    expect(await failure(h.client.send(new DeleteFunctionCommand({ FunctionName: fn })))).toEqual(notFound(`Function not found: ${ARN}:${fn}`));
    expect(await failure(h.client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '1233' })))).toEqual(
      notFound(`Function not found: ${ARN}:${fn}`),
    );
  });

  it('refuses an alias as qualifier', async () => {
    expect(await failure(h.client.send(new DeleteFunctionCommand({ FunctionName: 'ghost-fn', Qualifier: 'live' })))).toEqual(
      invalid('Deletion of aliases is not currently supported.'),
    );
  });
});

describe('aliases', () => {
  it('GetAlias says "Cannot find alias arn", UpdateAlias "Alias not found"; DeleteAlias of a missing alias succeeds', async () => {
    const fn = await deployFixture(h.client, 'echo');
    expect(await failure(h.client.send(new GetAliasCommand({ FunctionName: fn, Name: 'non-existent' })))).toEqual(
      notFound(`Cannot find alias arn: ${ARN}:${fn}:non-existent`),
    );
    expect(await failure(h.client.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'non-existent', Description: 'x' })))).toEqual(
      notFound(`Alias not found: ${ARN}:${fn}:non-existent`),
    );
    const deleted = await h.client.send(new DeleteAliasCommand({ FunctionName: fn, Name: 'non-existent' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
  });

  it('refuses bad routing configs with AWS’s types and words', async () => {
    const fn = await twoVersions(h.client);
    const create = (FunctionVersion: string, weights: Record<string, number>) =>
      failure(h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'custom', FunctionVersion, RoutingConfig: { AdditionalVersionWeights: weights } })));
    const valueConstraint =
      'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]';
    expect(await create('1', { '1': 0.8, '2': 0.2 })).toEqual(invalid('Number of items in AdditionalVersionWeights cannot be greater than 1'));
    expect(await create('1', { '2': 2 })).toEqual(
      validation(`1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: ${valueConstraint}`),
    );
    expect(await create('1', { '2': -1 })).toEqual(
      validation(`1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: ${valueConstraint}`),
    );
    expect(await create('1', { '1': 0.5 })).toEqual(invalid('Invalid function version 1. Function version 1 is already included in routing configuration.'));
    expect(await create('10', { '2': 0.5 })).toEqual(notFound(`Function not found: ${ARN}:${fn}:10`));
    expect(await create('1', { '10': 0.5 })).toEqual(notFound(`Function not found: ${ARN}:${fn}:10`));
    expect(await create('$LATEST', { '1': 0.5 })).toEqual(invalid('$LATEST is not supported for an alias pointing to more than 1 version'));
    expect(await create('1', { $LATEST: 0.5 })).toEqual(
      validation(
        "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]",
      ),
    );
    // The same checks apply on update.
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'custom', FunctionVersion: '1' }));
    expect(
      await failure(h.client.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'custom', RoutingConfig: { AdditionalVersionWeights: { '2': 2 } } }))),
    ).toEqual(
      validation(`1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: ${valueConstraint}`),
    );
  });
});

describe('Invoke answers', () => {
  it('DryRun and Event carry no X-Amz-Executed-Version and no payload; RequestResponse does', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const dry = await h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    expect(dry.ExecutedVersion).toBeUndefined();
    expect(dry.Payload?.length ?? 0).toBe(0);
    const ev = await h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(ev.StatusCode).toBe(202);
    expect(ev.ExecutedVersion).toBeUndefined();
    expect(ev.Payload?.length ?? 0).toBe(0);
    const sync = await h.client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'RequestResponse' }));
    expect(sync.StatusCode).toBe(200);
    expect(sync.ExecutedVersion).toBe('$LATEST');
  });
});

describe('provisioned concurrency', () => {
  const put = (FunctionName: string, Qualifier: string, n: number) =>
    h.client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier, ProvisionedConcurrentExecutions: n }));

  it('beyond the account: the unreserved concurrency, then the unreserved minimum', async () => {
    const fn = await deployFixture(h.client, 'echo');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    expect(await failure(put(fn, '1', 1001))).toEqual(
      invalid("Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000]."),
    );
    expect(await failure(put(fn, '1', 1000))).toEqual(
      invalid("Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."),
    );
    expect(await failure(put(fn, '1', 0))).toEqual(
      validation(
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
      ),
    );
  });

  it('a missing Qualifier is a null value, written unquoted', async () => {
    const fn = await deployFixture(h.client, 'echo');
    const res = await fetch(`${h.url}/2019-09-30/functions/${fn}/provisioned-concurrency`);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(((await res.json()) as { message: string }).message).toBe(
      "1 validation error detected: Value null at 'qualifier' failed to satisfy constraint: Member must not be null",
    );
  });

  it('$LATEST is refused by Put, Get and Delete', async () => {
    const fn = await deployFixture(h.client, 'echo');
    expect(await failure(put(fn, '$LATEST', 1))).toEqual(invalid('Provisioned Concurrency Configs cannot be applied to unpublished function versions.'));
    const resource = invalid('The function resource provided must be an alias or a published version.');
    expect(await failure(h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '$LATEST' })))).toEqual(resource);
    expect(await failure(h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '$LATEST' })))).toEqual(resource);
  });

  it('names a missing alias "Cannot find alias arn" and a missing version "Function not found"', async () => {
    const fn = await deployFixture(h.client, 'echo');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    const get = (FunctionName: string, Qualifier: string) => failure(h.client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier })));
    const del = (FunctionName: string, Qualifier: string) =>
      failure(h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName, Qualifier })));
    for (const call of [get, del, (f: string, q: string) => failure(put(f, q, 1))]) {
      expect(await call('doesnotexist', 'noalias')).toEqual(notFound(`Cannot find alias arn: ${ARN}:doesnotexist:noalias`));
      expect(await call('doesnotexist', '1')).toEqual(notFound(`Function not found: ${ARN}:doesnotexist:1`));
      expect(await call(fn, 'noalias')).toEqual(notFound(`Cannot find alias arn: ${ARN}:${fn}:noalias`));
      expect(await call(fn, '10')).toEqual(notFound(`Function not found: ${ARN}:${fn}:10`));
    }
    expect(await get(fn, '1')).toEqual({
      name: 'ProvisionedConcurrencyConfigNotFoundException',
      message: 'No Provisioned Concurrency Config found for this function',
      status: 404,
    });
    expect(await failure(h.client.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'doesnotexist' })))).toEqual(
      notFound(`Function not found: ${ARN}:doesnotexist`),
    );
    // Deleting a config that does not exist succeeds.
    const deleted = await h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
  });

  it('one config per version: through the version or through an alias, each refused the other way round', async () => {
    const fn = await deployFixture(h.client, 'echo');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await put(fn, '1', 1);
    expect(await failure(put(fn, 'live', 1))).toEqual(
      conflict("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"),
    );
    await h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1' }));
    await put(fn, 'live', 1);
    expect(await failure(put(fn, '1', 1))).toEqual(conflict('Version is pointed by a Provisioned Concurrency alias'));
    await h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
  });

  it('reservation and provisioned concurrency refuse each other in AWS’s words', async () => {
    const fn = await deployFixture(h.client, 'echo');
    await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    await h.client.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 2 }));
    await put(fn, 'live', 2);
    expect(await failure(h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: fn, ReservedConcurrentExecutions: 1 })))).toEqual(
      invalid(" ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2]."),
    );
    expect(await failure(put(fn, 'live', 3))).toEqual(
      invalid('Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function'),
    );
    await h.client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: 'live' }));
  });
});
