/**
 * Two nodes of one cluster, each a registry on its own data dir behind a replica, sharing a real
 * redis-server: what one writes the other serves (code included), conflicting writes from both
 * resolve as on one node, and a node that was down catches up.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stopwatch } from '../../../src/core/clock.js';
import { UnloggedRegistryWriteError } from '../../../src/cluster/registry-replica.js';
import { ARN, caught, fnInput, makeZip, setup } from '../registry/helpers.js';
import { applied, contentOf, redisCommand, useTestCluster } from './two-nodes.js';

const ctx = useTestCluster();

const code = (body: string) => makeZip([{ name: 'index.js', content: body }, { name: 'lib/data.json', content: '{"n":1}' }]);

describe('a write on one node', () => {
  it('is served by the other within a second, with its code shipped through Redis', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    const zip = await code('exports.handler = async () => "from a";');
    await a.registry.createFunction(await fnInput('hello', { Code: { ZipFile: zip } }));
    const elapsed = stopwatch();
    await applied(b, a.replica.applied);
    expect(elapsed()).toBeLessThan(1000);
    const target = b.registry.resolve('hello', undefined);
    expect(target.codeDir.startsWith(b.dataDir)).toBe(true);
    expect(readFileSync(path.join(target.codeDir, 'index.js'), 'utf8')).toBe('exports.handler = async () => "from a";');
    expect(readFileSync(path.join(target.codeDir, 'lib/data.json'), 'utf8')).toBe('{"n":1}');
    // The zip too, for GetFunction's download on B.
    expect(b.registry.codeArchive(path.basename(target.codeDir))).toBe(path.join(b.dataDir, 'code', `${path.basename(target.codeDir)}.zip`));
    expect(b.registry.getFunctionConfiguration('hello')).toEqual(a.registry.getFunctionConfiguration('hello'));
  });

  it('goes the other way too: an UpdateFunctionConfiguration on B is what A resolves', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    await a.registry.createFunction(await fnInput('f', { Timeout: 3 }));
    await applied(b, a.replica.applied);
    const updated = await b.registry.updateFunctionConfiguration('f', { Timeout: 9, Environment: { Variables: { MODE: 'b' } } });
    await applied(a, b.replica.applied);
    expect(a.registry.resolve('f', undefined).configuration).toMatchObject({ Timeout: 9, Environment: { Variables: { MODE: 'b' } } });
    expect(a.registry.getFunctionConfiguration('f')).toEqual(b.registry.getFunctionConfiguration('f'));
    expect(updated.LastUpdateStatus).toBe('InProgress');
  });

  it('reaches a node whose subscription is down, by the poll of the log', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node({ pollIntervalMs: 250 })];
    // No node may subscribe any more, and the ones subscribed are cut off: only the poll is left.
    await redisCommand(ctx.redis.url, ['ACL', 'SETUSER', 'default', '-subscribe']);
    try {
      await redisCommand(ctx.redis.url, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await a.registry.createFunction(await fnInput('polled'));
      const elapsed = stopwatch();
      await applied(b, a.replica.applied);
      expect(elapsed()).toBeLessThan(1000);
      expect(b.registry.resolve('polled', undefined).functionName).toBe('polled');
    } finally {
      await redisCommand(ctx.redis.url, ['ACL', 'SETUSER', 'default', '+@all']);
    }
  });

  it('replicates aliases, tags, reservations, event invoke configs, URLs, layers, provisioned configs and deletes, with their change events', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    const layerZip = await makeZip([{ name: 'nodejs/node_modules/lib/index.js', content: 'module.exports = 1;' }]);
    const layer = await a.registry.publishLayerVersion('shared', { Content: { ZipFile: layerZip }, CompatibleRuntimes: ['nodejs20.x'] });
    await a.registry.createFunction(await fnInput('f', { Layers: [layer.LayerVersionArn], Tags: { team: 'a' } }));
    await a.registry.publishVersion('f', {});
    await a.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' });
    await a.registry.tagResource('f', { stage: 'prod' });
    await a.registry.setReservedConcurrency('f', 5);
    await a.registry.putEventInvokeConfig('f', 'live', { MaximumRetryAttempts: 1 });
    await a.registry.createFunctionUrlConfig('f', 'live', { AuthType: 'NONE' });
    await a.registry.putProvisionedConfig('f', 'live', 2);
    await applied(b, a.replica.applied);
    expect(contentOf(b.registry)).toEqual(contentOf(a.registry));
    expect(b.registry.resolve('f', 'live').layerDirs.every((d) => existsSync(path.join(d, 'nodejs/node_modules/lib/index.js')))).toBe(true);
    expect(b.registry.functionUrlById(a.registry.getFunctionUrlConfig('f', 'live').urlId)?.functionName).toBe('f');

    // Now B undoes it all, and A follows.
    await b.registry.updateAlias('f', 'live', { Description: 'moved' });
    await b.registry.untagResource('f', ['stage']);
    await b.registry.setReservedConcurrency('f', undefined);
    await b.registry.deleteEventInvokeConfig('f', 'live');
    await b.registry.deleteFunctionUrlConfig('f', 'live');
    await b.registry.deleteProvisionedConfig('f', 'live');
    await b.registry.deleteLayerVersion('shared', 1);
    await b.registry.deleteAlias('f', 'live');
    await b.registry.deleteFunction('f', '1');
    await applied(a, b.replica.applied);
    expect(contentOf(a.registry)).toEqual(contentOf(b.registry));
    expect(a.registry.listTags('f')).toEqual({ team: 'a' });
    await a.registry.deleteFunction('f');
    await applied(b, a.replica.applied);
    expect(contentOf(b.registry)).toEqual(contentOf(a.registry));
    expect(contentOf(b.registry).functions).toEqual([]);
    // Each node told its own listeners what the writer's registry emitted, in the same order.
    expect(b.events).toEqual(a.events);
    expect(a.events).toEqual(['alias-updated:f:live', 'alias-deleted:f:live', 'deleted:f:1', 'deleted:f:$LATEST']);
    // Neither node keeps code nothing uses.
    for (const n of [a, b]) expect(n.replica.registry.usage()).toEqual({ functionCount: 0, totalCodeSize: 0 });
  });

  it('refuses a registry write made outside replica.write, changing nothing', async () => {
    const a = await ctx.cluster.node();
    await a.registry.createFunction(await fnInput('f'));
    const err = await caught(() => a.replica.registry.updateFunctionConfiguration('f', { Timeout: 8 }));
    expect(err).toBeInstanceOf(UnloggedRegistryWriteError);
    expect(a.registry.getFunctionConfiguration('f').Timeout).toBe(3);
  });

  it('joins a write made inside another: one entry for both', async () => {
    const a = await ctx.cluster.node();
    const before = a.replica.applied;
    await a.replica.write(async () => {
      await a.replica.registry.createFunction(await fnInput('outer'));
      await a.replica.write(() => a.replica.registry.createAlias('outer', { Name: 'live', FunctionVersion: '$LATEST' }));
    });
    expect(a.replica.applied).toBe(before + 1);
    expect(a.registry.getAlias('outer', 'live').FunctionVersion).toBe('$LATEST');
  });
});

describe('conflicting writes from two nodes', () => {
  it('let exactly one create of a name win, the other refused as on one node', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    const [ia, ib] = [await fnInput('race', { Description: 'a' }), await fnInput('race', { Description: 'b' })];
    const results = await Promise.allSettled([a.registry.createFunction(ia), b.registry.createFunction(ib)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error & { code?: string };
    const single = await setup();
    try {
      await single.registry.createFunction(await fnInput('race'));
      const expected = await caught(async () => single.registry.createFunction(await fnInput('race')));
      expect({ code: lost.code, message: lost.message }).toEqual({ code: expected.code, message: expected.message });
    } finally {
      await single.cleanup();
    }
    await applied(a, b.replica.applied);
    await applied(b, a.replica.applied);
    expect(a.registry.getFunctionConfiguration('race')).toEqual(b.registry.getFunctionConfiguration('race'));
  });

  it('let exactly one of two updates with the same RevisionId win; the other gets 412', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    await a.registry.createFunction(await fnInput('f'));
    await applied(b, a.replica.applied);
    const rev = a.registry.getFunctionConfiguration('f').RevisionId;
    expect(b.registry.getFunctionConfiguration('f').RevisionId).toBe(rev);
    const results = await Promise.allSettled([
      a.registry.updateFunctionConfiguration('f', { Timeout: 10, RevisionId: rev }),
      b.registry.updateFunctionConfiguration('f', { Timeout: 20, RevisionId: rev }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const lost = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error & { code?: string; statusCode?: number };
    expect(lost).toMatchObject({ code: 'PreconditionFailedException', statusCode: 412 });
    expect(lost.message).toBe(
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
    const won = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ Timeout?: number }>).value.Timeout;
    await applied(a, b.replica.applied);
    await applied(b, a.replica.applied);
    expect(a.registry.getFunctionConfiguration('f').Timeout).toBe(won);
    expect(b.registry.getFunctionConfiguration('f')).toEqual(a.registry.getFunctionConfiguration('f'));
  });
});

describe('a node that was down', () => {
  it('catches up on start with what happened meanwhile', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    await a.registry.createFunction(await fnInput('kept'));
    await a.registry.createFunction(await fnInput('gone'));
    await applied(b, a.replica.applied);
    const goneDir = b.registry.resolve('gone', undefined).codeDir;
    await b.replica.close();
    await a.registry.updateFunctionCode('kept', { ZipFile: await code('exports.handler = async () => 2;'), Publish: true });
    await a.registry.createAlias('kept', { Name: 'live', FunctionVersion: '1' });
    await a.registry.deleteFunction('gone');
    const back = await ctx.cluster.node({ dataDir: b.dataDir });
    expect(back.replica.applied).toBe(a.replica.applied);
    expect(contentOf(back.registry)).toEqual(contentOf(a.registry));
    expect(readFileSync(path.join(back.registry.resolve('kept', 'live').codeDir, 'index.js'), 'utf8')).toBe('exports.handler = async () => 2;');
    expect(existsSync(goneDir)).toBe(false);
    expect((await caught(() => back.registry.resolve('gone', undefined))).message).toBe(`Function not found: ${ARN('gone', '$LATEST')}`);
  });
});
