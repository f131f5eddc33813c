/**
 * The cluster registry when things go wrong: Redis stopped (before a write, and while one runs),
 * flushed, or holding another cluster; the registry lock held by a slow node, by a dead one, or
 * for longer than its expiry; and the writes a registry starts by itself (settling after an
 * activation delay, and at start) reaching the other nodes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryBusyError, RegistryUnavailableError } from '../../../src/cluster/registry-replica.js';
import { caught, fnInput, makeZip } from '../registry/helpers.js';
import { applied, contentOf, eventually, redisCommand, useTestCluster } from './two-nodes.js';

const ctx = useTestCluster();

const UNAVAILABLE = /^The cluster registry on Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unavailable: /;
const codeFolder = (dataDir: string) => readdirSync(path.join(dataDir, 'code')).sort();

describe('Redis unavailable', () => {
  it('refuses writes while Redis is stopped, changing nothing, and takes them again once it is back', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    await a.registry.createFunction(await fnInput('f'));
    await applied(b, a.replica.applied);
    const before = { content: contentOf(a.registry), seq: a.replica.applied, code: codeFolder(a.dataDir) };
    await ctx.redis.stop();
    const update = await caught(() => a.registry.updateFunctionConfiguration('f', { Timeout: 9 }));
    expect(update).toBeInstanceOf(RegistryUnavailableError);
    expect(update.message).toMatch(UNAVAILABLE);
    const create = await caught(async () => a.registry.createFunction(await fnInput('g', { Code: { ZipFile: await makeZip([{ name: 'index.js', content: 'g' }]) } })));
    expect(create).toBeInstanceOf(RegistryUnavailableError);
    expect({ content: contentOf(a.registry), seq: a.replica.applied, code: codeFolder(a.dataDir) }).toEqual(before);
    // Reads go on from the replica.
    expect(a.registry.resolve('f', undefined).functionName).toBe('f');

    await ctx.redis.start();
    await a.replica.whenAvailable();
    await a.registry.updateFunctionConfiguration('f', { Timeout: 9 });
    await applied(b, a.replica.applied);
    expect(b.registry.getFunctionConfiguration('f').Timeout).toBe(9);
  });

  it('undoes a write whose entry cannot be logged because Redis went away while it ran', async () => {
    // A short lock expiry: the lock the failed write could not release must not hold up the next one long.
    const a = await ctx.cluster.node({ lockTtlMs: 600 });
    await a.registry.createFunction(await fnInput('f'));
    const before = { content: contentOf(a.registry), seq: a.replica.applied, code: codeFolder(a.dataDir) };
    const err = await caught(() =>
      a.replica.write(async () => {
        await a.replica.registry.createFunction(await fnInput('g', { Code: { ZipFile: await makeZip([{ name: 'index.js', content: 'g' }]) } }));
        a.replica.registry.updateFunctionConfiguration('f', { Timeout: 9 });
        // The write reads its own rows...
        expect(a.replica.registry.getFunctionConfiguration('g').FunctionName).toBe('g');
        await ctx.redis.stop();
      }),
    );
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    // ...and once refused, nothing of it is left: rows, position, the code it extracted, events.
    expect({ content: contentOf(a.registry), seq: a.replica.applied, code: codeFolder(a.dataDir) }).toEqual(before);
    expect(a.events).toEqual([]);

    await ctx.redis.start();
    await a.replica.whenAvailable();
    await a.registry.updateFunctionConfiguration('f', { Timeout: 9 });
    expect(a.registry.getFunctionConfiguration('f').Timeout).toBe(9);
    expect(a.events).toEqual(['updated:f:$LATEST']);
  });
});

describe('Redis losing the cluster', () => {
  it('is re-seeded from a node after a FLUSHALL; the other node rebuilds from that and every node keeps serving', async () => {
    const [a, b] = [await ctx.cluster.node({ pollIntervalMs: 100 }), await ctx.cluster.node({ pollIntervalMs: 100 })];
    await a.registry.createFunction(await fnInput('f', { Code: { ZipFile: await makeZip([{ name: 'index.js', content: 'kept' }]) } }));
    await a.registry.publishVersion('f', {});
    await applied(b, a.replica.applied);
    const old = a.replica.clusterId;
    const content = contentOf(a.registry);
    await redisCommand(ctx.redis.url, ['FLUSHALL']);
    await eventually(() => a.replica.clusterId !== old && b.replica.clusterId === a.replica.clusterId);
    expect(await redisCommand(ctx.redis.url, ['GET', `${ctx.cluster.prefix}cluster`])).toBe(a.replica.clusterId);
    for (const n of [a, b]) {
      expect(contentOf(n.registry)).toEqual(content);
      expect(readFileSync(path.join(n.registry.resolve('f', '1').codeDir, 'index.js'), 'utf8')).toBe('kept');
    }
    // The new log carries on, with the archives it needs back in Redis.
    await b.registry.updateFunctionConfiguration('f', { Timeout: 7 });
    await applied(a, b.replica.applied);
    expect(a.registry.getFunctionConfiguration('f').Timeout).toBe(7);
    const hash = path.basename(a.registry.resolve('f', '1').codeDir);
    expect(await redisCommand(ctx.redis.url, ['EXISTS', `${ctx.cluster.prefix}archive:${hash}`])).toBe(1);
  });

  it('empties a replica that follows another cluster and rebuilds it from the log Redis holds', async () => {
    const a = await ctx.cluster.node();
    await a.registry.createFunction(await fnInput('mine', { Code: { ZipFile: await makeZip([{ name: 'index.js', content: 'mine' }]) } }));
    const mineDir = a.registry.resolve('mine', undefined).codeDir;
    await a.replica.close();
    await redisCommand(ctx.redis.url, ['FLUSHALL']);
    const c = await ctx.cluster.node();
    await c.registry.createFunction(await fnInput('theirs'));
    const back = await ctx.cluster.node({ dataDir: a.dataDir });
    expect(back.replica.clusterId).toBe(c.replica.clusterId);
    expect(back.replica.applied).toBe(c.replica.applied);
    expect(contentOf(back.registry)).toEqual(contentOf(c.registry));
    expect(back.registry.listFunctions({}).items.map((f) => f.FunctionName)).toEqual(['theirs']);
    expect(existsSync(mineDir)).toBe(false);
  });
});

describe('the registry lock', () => {
  it('makes a write give up with RegistryBusyError past its wait; the next write, once the lock is free, runs after the holder', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node({ lockWaitMs: 300 })];
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let entered = (): void => undefined;
    const inside = new Promise<void>((r) => (entered = r));
    const slow = a.replica.write(async () => {
      entered();
      await gate;
      return a.replica.registry.createFunction(await fnInput('taken'));
    });
    await inside;
    const busy = await caught(async () => b.registry.createFunction(await fnInput('taken')));
    expect(busy).toBeInstanceOf(RegistryBusyError);
    expect(busy.message).toMatch(UNAVAILABLE);
    expect(busy.message).toContain('another node held the registry lock for more than 300 ms');
    release();
    await slow;
    // B catches up under the lock before it writes: the name is taken.
    const taken = await caught(async () => b.registry.createFunction(await fnInput('taken')));
    expect(taken.message).toBe('Function already exist: taken');
  });

  it('is renewed while its holder works longer than its expiry, and frees itself when a holder dies', async () => {
    const [a, b] = [await ctx.cluster.node({ lockTtlMs: 300 }), await ctx.cluster.node()];
    const lockKey = `${ctx.cluster.prefix}lock`;
    let bDone = false;
    let bWrite: Promise<unknown> = Promise.resolve();
    const slow = a.replica.write(async () => {
      const token = await redisCommand(ctx.redis.url, ['GET', lockKey]);
      bWrite = b.registry.createFunction(await fnInput('second')).then(() => (bDone = true));
      // Three renewals at a third of the expiry each: the holder outlived the expiry it started with.
      let renewals = 0;
      let last = Number(await redisCommand(ctx.redis.url, ['PTTL', lockKey]));
      await eventually(async () => {
        const now = Number(await redisCommand(ctx.redis.url, ['PTTL', lockKey]));
        if (now > last) renewals++;
        last = now;
        return renewals >= 3;
      });
      expect(await redisCommand(ctx.redis.url, ['GET', lockKey])).toBe(token);
      expect(bDone).toBe(false);
      await a.replica.registry.createFunction(await fnInput('first'));
    });
    await slow;
    await bWrite;
    expect(b.registry.listFunctions({}).items.map((f) => f.FunctionName)).toEqual(['first', 'second']);

    // A holder that died never releases: its lock expires and the next writer goes on.
    await redisCommand(ctx.redis.url, ['SET', lockKey, 'a-dead-node', 'PX', '400']);
    await b.registry.createFunction(await fnInput('after'));
    expect(await redisCommand(ctx.redis.url, ['EXISTS', lockKey])).toBe(0);
    await applied(a, b.replica.applied);
    expect(a.registry.listFunctions({}).items.map((f) => f.FunctionName)).toEqual(['after', 'first', 'second']);
  });
});

describe('a writer that lost the lock', () => {
  it('cannot log its write once another node wrote meanwhile; it changes nothing and catches up instead', async () => {
    const [a, b] = [await ctx.cluster.node(), await ctx.cluster.node()];
    await a.registry.createFunction(await fnInput('f'));
    await applied(b, a.replica.applied);
    const err = await caught(() =>
      a.replica.write(async () => {
        a.replica.registry.updateFunctionConfiguration('f', { Timeout: 5 });
        // As if A stalled past its lock's expiry: the lock goes, B takes it and writes.
        await redisCommand(ctx.redis.url, ['DEL', `${ctx.cluster.prefix}lock`]);
        await b.registry.updateFunctionConfiguration('f', { Timeout: 6 });
      }),
    );
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    expect(err.message).toContain('the registry lock expired before the write was logged');
    await applied(a, b.replica.applied);
    expect(a.registry.getFunctionConfiguration('f')).toEqual(b.registry.getFunctionConfiguration('f'));
    expect(a.registry.getFunctionConfiguration('f').Timeout).toBe(6);
  });
});

describe('writes the registry starts by itself', () => {
  it('settles after an activation delay on the node that created, and every node sees it; a restart settles what is left', async () => {
    const delay = { registry: { activationDelayMs: 1000 } };
    const [a, b] = [await ctx.cluster.node(delay), await ctx.cluster.node(delay)];
    await a.registry.createFunction(await fnInput('f'));
    await applied(b, a.replica.applied);
    expect(b.registry.getFunctionConfiguration('f').State).toBe('Pending');
    ctx.cluster.clock.advance(1000);
    await a.replica.idle();
    await applied(b, a.replica.applied);
    expect(b.registry.getFunctionConfiguration('f')).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(b.registry.getFunctionConfiguration('f')).toEqual(a.registry.getFunctionConfiguration('f'));

    // An update whose node stops before the delay ends: the node settles it when it starts again.
    await b.registry.updateFunctionConfiguration('f', { Timeout: 8 });
    await b.replica.close();
    const back = await ctx.cluster.node({ dataDir: b.dataDir, ...delay });
    await back.replica.idle();
    await applied(a, back.replica.applied);
    expect(a.registry.getFunctionConfiguration('f')).toMatchObject({ LastUpdateStatus: 'Successful', Timeout: 8 });
    expect(a.events).toEqual(['updated:f:$LATEST']);

    // A create whose node stops before the delay ends: the other node's own timer settles it.
    await a.registry.createFunction(await fnInput('g'));
    await applied(back, a.replica.applied);
    await a.replica.close();
    const before = back.replica.applied;
    ctx.cluster.clock.advance(1000);
    await back.replica.idle();
    expect(back.replica.applied).toBe(before + 1);
    expect(back.registry.getFunctionConfiguration('g')).toMatchObject({ State: 'Active', LastUpdateStatus: 'Successful' });
  });
});
