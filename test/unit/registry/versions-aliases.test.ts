import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pickVersion } from '../../../src/registry/routing.js';
import { ARN, caught, fnInput, handlerZip, setup, type Env } from './helpers.js';

let env: Env;
let draws: number[];
beforeEach(async () => {
  draws = [];
  env = await setup({ random: () => draws.shift() ?? 0.5 });
  await env.registry.createFunction(await fnInput('f'));
});
afterEach(() => env.cleanup());

/** Publishes a new version after changing the configuration so that it differs. */
async function publishChanged(timeout: number): Promise<string> {
  await env.registry.updateFunctionConfiguration('f', { Timeout: timeout });
  return (await env.registry.publishVersion('f', {})).Version;
}

describe('publishVersion', () => {
  it('snapshots $LATEST as an immutable, Active, qualified version', async () => {
    const latestRev = env.registry.getFunctionConfiguration('f').RevisionId;
    const v1 = await env.registry.publishVersion('f', { Description: 'first' });
    expect(v1).toMatchObject({ Version: '1', FunctionArn: ARN('f', '1'), State: 'Active', LastUpdateStatus: 'Successful', Description: 'first' });
    // Publishing gives $LATEST a new RevisionId, as Lambda does.
    expect(env.registry.getFunctionConfiguration('f').RevisionId).not.toBe(latestRev);
    await env.registry.updateFunctionConfiguration('f', { Timeout: 30 });
    expect(env.registry.getFunctionConfiguration('f', '1').Timeout).toBe(3);
  });

  it('returns the last version when nothing changed', async () => {
    const v1 = await env.registry.publishVersion('f', {});
    const again = await env.registry.publishVersion('f', { Description: 'ignored' });
    expect(again.Version).toBe('1');
    expect(again.RevisionId).toBe(v1.RevisionId);
    expect(env.registry.listVersionsByFunction('f', {}).items.map((c) => c.Version)).toEqual(['$LATEST', '1']);
  });

  it('never reuses a number, even after deleting versions', async () => {
    expect((await env.registry.publishVersion('f', {})).Version).toBe('1');
    expect(await publishChanged(5)).toBe('2');
    await env.registry.deleteFunction('f', '2');
    expect(await publishChanged(6)).toBe('3');
    await env.registry.deleteFunction('f', '3');
    // The last published version is gone, so even unchanged code gets a new number.
    expect((await env.registry.publishVersion('f', {})).Version).toBe('4');
  });

  it('checks CodeSha256 and RevisionId', async () => {
    const sha = env.registry.getFunctionConfiguration('f').CodeSha256;
    const err = await caught(() => env.registry.publishVersion('f', { CodeSha256: 'abc' }));
    expect(err.code).toBe('InvalidParameterValueException');
    expect(err.message).toBe(
      `CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST (${sha}). Please try again with the CodeSHA256 in $LATEST.`,
    );
    expect((await caught(() => env.registry.publishVersion('f', { RevisionId: 'x' }))).code).toBe('PreconditionFailedException');
    expect((await env.registry.publishVersion('f', { CodeSha256: sha })).Version).toBe('1');
  });

  it('publishes from CreateFunction and UpdateFunctionCode with Publish', async () => {
    const created = await env.registry.createFunction(await fnInput('g', { Publish: true }));
    expect(created.Version).toBe('1');
    expect(created.FunctionArn).toBe(ARN('g'));
    const updated = await env.registry.updateFunctionCode('g', { ZipFile: await handlerZip('exports.handler = () => 3;'), Publish: true });
    expect(updated).toMatchObject({ Version: '2', FunctionArn: ARN('g', '2') });
    expect(env.registry.resolve('g', '2').configuration.CodeSha256).toBe(updated.CodeSha256);
  });

  it('lists $LATEST first, then versions ascending, in pages', async () => {
    await env.registry.publishVersion('f', {});
    await publishChanged(4);
    await publishChanged(5);
    const first = env.registry.listVersionsByFunction('f', { maxItems: 3 });
    expect(first.items.map((c) => c.FunctionArn)).toEqual([ARN('f', '$LATEST'), ARN('f', '1'), ARN('f', '2')]);
    const rest = env.registry.listVersionsByFunction('f', { marker: first.nextMarker as string });
    expect(rest.items.map((c) => c.Version)).toEqual(['3']);
    expect(rest.nextMarker).toBeUndefined();
  });
});

describe('aliases', () => {
  beforeEach(async () => {
    await env.registry.publishVersion('f', {});
    await publishChanged(4);
  });

  it('creates, gets, updates, lists and deletes', async () => {
    const live = await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1', Description: 'prod' });
    expect(live).toEqual({ AliasArn: ARN('f', 'live'), Name: 'live', FunctionVersion: '1', Description: 'prod', RevisionId: live.RevisionId });
    await env.registry.createAlias('f', { Name: 'dev', FunctionVersion: '$LATEST' });
    expect(env.registry.getAlias('f', 'live')).toEqual(live);
    const stale = await caught(() => env.registry.updateAlias('f', 'live', { FunctionVersion: '2', RevisionId: 'old' }));
    expect(stale.code).toBe('PreconditionFailedException');
    const moved = await env.registry.updateAlias('f', 'live', { FunctionVersion: '2', RevisionId: live.RevisionId });
    expect(moved).toMatchObject({ FunctionVersion: '2', Description: 'prod' });
    expect(moved.RevisionId).not.toBe(live.RevisionId);
    expect(env.registry.listAliases('f', {}).items.map((a) => a.Name)).toEqual(['dev', 'live']);
    expect(env.registry.listAliases('f', { functionVersion: '2' }).items.map((a) => a.Name)).toEqual(['live']);
    const page = env.registry.listAliases('f', { maxItems: 1 });
    expect(page.items.map((a) => a.Name)).toEqual(['dev']);
    expect(env.registry.listAliases('f', { marker: page.nextMarker as string }).items.map((a) => a.Name)).toEqual(['live']);
    await env.registry.deleteAlias('f', 'dev');
    const gone = await caught(() => env.registry.getAlias('f', 'dev'));
    expect(gone.code).toBe('ResourceNotFoundException');
    expect(gone.message).toBe(`Cannot find alias arn: ${ARN('f', 'dev')}`);
    const update = await caught(() => env.registry.updateAlias('f', 'dev', { Description: 'x' }));
    expect(update.code).toBe('ResourceNotFoundException');
    expect(update.message).toBe(`Alias not found: ${ARN('f', 'dev')}`);
    // Deleting it again succeeds, as in Lambda.
    await env.registry.deleteAlias('f', 'dev');
  });

  it('refuses duplicates and unknown versions (names are checked by the request shape)', async () => {
    const digits = await caught(() => env.registry.getAlias('f', '123'));
    expect(digits.message).toBe(
      "1 validation error detected: Value '123' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    );
    await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
    const dup = await caught(() => env.registry.createAlias('f', { Name: 'live', FunctionVersion: '2' }));
    expect(dup.code).toBe('ResourceConflictException');
    expect(dup.message).toBe(`Alias already exists: ${ARN('f', 'live')}`);
    const missing = await caught(() => env.registry.createAlias('f', { Name: 'x', FunctionVersion: '9' }));
    expect(missing.code).toBe('ResourceNotFoundException');
    expect(missing.message).toBe(`Function not found: ${ARN('f', '9')}`);
  });

  it.each([
    [{ '1': 0.1, '2': 0.2 }, '2', 'InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1'],
    [{ '2': 1.5 }, '1', 'ValidationException', "Value '{2=1.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy"],
    [{ '2': 2 }, '1', 'ValidationException', "Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy"],
    [{ '1': 0.5 }, '1', 'InvalidParameterValueException', 'Invalid function version 1. Function version 1 is already included in routing configuration.'],
    [{ '1': 0.5 }, '$LATEST', 'InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version'],
    [{ $LATEST: 0.5 }, '1', 'ValidationException', 'Member must satisfy regular expression pattern: [0-9]+'],
    [{ '7': 0.5 }, '1', 'ResourceNotFoundException', `Function not found: ${ARN('f', '7')}`],
  ])('refuses routing %j on %s', async (weights, primary, code, text) => {
    const err = await caught(() =>
      env.registry.createAlias('f', { Name: 'r', FunctionVersion: primary, RoutingConfig: { AdditionalVersionWeights: weights } }),
    );
    expect(err.code).toBe(code);
    expect(err.message).toContain(text);
  });

  it('routes by weight with one draw per invoke', async () => {
    const alias = await env.registry.createAlias('f', { Name: 'canary', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } } });
    expect(alias.RoutingConfig).toEqual({ AdditionalVersionWeights: { '2': 0.25 } });
    draws = [0.1, 0.25, 0.9];
    const picked = [1, 2, 3].map(() => env.registry.resolve('f', 'canary'));
    expect(picked.map((t) => t.version)).toEqual(['2', '1', '1']);
    expect(draws).toEqual([]);
    expect(picked[0]).toMatchObject({ alias: 'canary', qualifier: 'canary', invokedFunctionArn: ARN('f', 'canary') });
    expect(picked[0]?.configuration.Timeout).toBe(4);
    expect(picked[1]?.configuration.Timeout).toBe(3);
    // Removing the routing config sends everything to the primary.
    await env.registry.updateAlias('f', 'canary', { RoutingConfig: {} });
    draws = [0];
    expect(env.registry.resolve('f', 'canary').version).toBe('1');
    expect(pickVersion('1', { AdditionalVersionWeights: { '2': 1 } }, () => 0.999)).toBe('2');
    expect(pickVersion('1', { AdditionalVersionWeights: { '2': 0 } }, () => 0)).toBe('1');
  });

  it('refuses moving the primary onto the routed version', async () => {
    await env.registry.createAlias('f', { Name: 'c', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    const err = await caught(() => env.registry.updateAlias('f', 'c', { FunctionVersion: '2' }));
    expect(err.message).toBe('Invalid function version 2. Function version 2 is already included in routing configuration.');
    const ref = await caught(() => env.registry.deleteFunction('f', '2'));
    expect(ref.message).toBe('Unable to delete version because the following aliases reference it: [c]');
  });
});

describe('resolve', () => {
  it('resolves $LATEST, versions and aliases, with ARNs as invoked', async () => {
    await env.registry.publishVersion('f', {});
    await env.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
    const plain = env.registry.resolve('f', undefined);
    expect(plain).toMatchObject({ functionName: 'f', version: '$LATEST', invokedFunctionArn: ARN('f') });
    expect(plain.qualifier).toBeUndefined();
    expect(env.registry.resolve('f', '$LATEST').invokedFunctionArn).toBe(ARN('f', '$LATEST'));
    const v1 = env.registry.resolve('f', '1');
    expect(v1).toMatchObject({ version: '1', qualifier: '1', invokedFunctionArn: ARN('f', '1') });
    expect(v1.configuration.FunctionArn).toBe(ARN('f', '1'));
    expect(env.registry.resolve('f', 'live')).toMatchObject({ version: '1', alias: 'live' });
    expect(env.registry.getFunctionConfiguration('f', 'live')).toMatchObject({ Version: '1', FunctionArn: ARN('f', 'live') });
  });

  it('reports unknown versions and aliases with the qualified ARN', async () => {
    for (const q of ['5', 'nope']) {
      const err = await caught(() => env.registry.resolve('f', q));
      expect(err.code).toBe('ResourceNotFoundException');
      expect(err.message).toBe(`Function not found: ${ARN('f', q)}`);
    }
    expect((await caught(() => env.registry.resolve('g', undefined))).message).toBe(`Function not found: ${ARN('g', '$LATEST')}`);
    // A qualifier that cannot exist is not found (the API checks AWS's pattern before the registry).
    expect((await caught(() => env.registry.resolve('f', '$latest'))).message).toBe(`Function not found: ${ARN('f', '$latest')}`);
  });
});
