/**
 * The cluster's Redis connection and membership against a real redis-server: the start bound,
 * reconnection after Redis goes away, registration, heartbeats, liveness and leaving. Heartbeats
 * are driven by a ManualClock; liveness is judged on Redis's clock, so a node goes stale in real
 * (short) lease time, waited for by polling, never by a fixed sleep.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openClusterConnection, RedisUnreachableError, type ClusterConnection } from '../../src/cluster/connection.js';
import { Membership, type NodeInfo } from '../../src/cluster/membership.js';
import { ManualClock } from '../../src/core/clock.js';
import { freePort } from '../helpers/prometheus.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let redis: RedisHandle;
const open: ClusterConnection[] = [];
let prefixSeq = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function connect(clock = new ManualClock()): Promise<ClusterConnection> {
  const c = await openClusterConnection({ url: redis.url, clock });
  open.push(c);
  return c;
}

/** Polls `check` until it holds (the signal), failing after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Redis's clock in milliseconds, the clock heartbeats are stamped and judged by. */
async function redisNow(c: ClusterConnection): Promise<number> {
  const [seconds, micros] = await c.client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

const info = (id: string, instance = `${id}-i1`): NodeInfo => ({ id, instance, address: `127.0.0.1:${id.length}`, version: '9.9.9', startedAt: '2026-01-01T00:00:00.000Z' });

describe('openClusterConnection', () => {
  it('connects to a live Redis and is reachable', async () => {
    const c = await connect();
    expect(c.reachable).toBe(true);
    expect(c.url).toBe(redis.url);
    expect(await c.client.ping()).toBe('PONG');
  });

  it('refuses once the start bound passes when nothing listens, naming the URL and redisUrl, password masked', async () => {
    const clock = new ManualClock();
    const port = await freePort();
    const opening = openClusterConnection({ url: `redis://admin:hunter2@127.0.0.1:${port}`, clock, startTimeoutMs: 3000 });
    const failed = opening.then(
      () => undefined,
      (err: unknown) => err,
    );
    // It keeps retrying (Redis may be starting alongside) until the bound, on the node's clock.
    clock.advance(2999);
    expect(await Promise.race([failed, new Promise((r) => setTimeout(() => r('pending'), 200))])).toBe('pending');
    clock.advance(1);
    const err = (await failed) as Error;
    expect(err).toBeInstanceOf(RedisUnreachableError);
    expect(err.message).toContain(`Cannot reach Redis at redis://***@127.0.0.1:${port} (config redisUrl) within 3 s`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('hunter2');
  });

  it('goes unreachable when Redis stops, reconnects with backoff, and is reachable again when it is back', async () => {
    const c = await connect();
    const changes: boolean[] = [];
    c.onReachability((r) => changes.push(r));
    await redis.stop();
    await until('unreachable', () => !c.reachable);
    // Commands fail at once while Redis is away rather than waiting in memory.
    await expect(c.client.ping()).rejects.toThrow();
    await redis.start();
    await until('reachable again', () => c.reachable, 15_000);
    expect(await c.client.ping()).toBe('PONG');
    expect(changes).toEqual([false, true]);
  });
});

describe('Membership', () => {
  function member(c: ClusterConnection, leaseMs: number, clock = new ManualClock(), extra: Partial<ConstructorParameters<typeof Membership>[0]> = {}, keyPrefix = `t${++prefixSeq}:`) {
    return { clock, m: new Membership({ client: c.client, clock, leaseMs, keyPrefix, ...extra }), keyPrefix };
  }

  it('registers a node with its info and lists it as live', async () => {
    const c = await connect();
    const { m, keyPrefix } = member(c, 15_000);
    await m.join(info('alpha'));
    const nodes = await m.nodes();
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ id: 'alpha', address: '127.0.0.1:5', version: '9.9.9', startedAt: '2026-01-01T00:00:00.000Z' });
    // lastSeen is Redis's time of the heartbeat.
    const lastSeen = Date.parse(nodes[0]?.lastSeen ?? '');
    expect(lastSeen).toBeLessThanOrEqual(await redisNow(c));
    expect(lastSeen).toBeGreaterThan((await redisNow(c)) - 1000);
    expect(await c.client.hGetAll(`${keyPrefix}node:alpha`)).toMatchObject({ id: 'alpha', instance: 'alpha-i1', address: '127.0.0.1:5' });
    await m.leave();
  });

  it('heartbeats every lease/3 of its clock; a node that stops beating drops out once the lease passes', async () => {
    const c = await connect();
    const leaseMs = 600;
    const a = member(c, leaseMs);
    const b = member(c, leaseMs, new ManualClock(), {}, a.keyPrefix);
    await a.m.join(info('a'));
    await b.m.join(info('b'));
    expect((await a.m.nodes()).map((n) => n.id)).toEqual(['a', 'b']);
    const score = async (id: string) => Number(await c.client.zScore(`${a.keyPrefix}nodes`, id));
    const before = await score('a');
    // Nothing happens before a third of the lease on the node's clock.
    a.clock.advance(199);
    expect(await score('a')).toBe(before);
    // Each third of the lease, a beats; b's clock stands still, so b never beats again.
    let last = before;
    const dropped = await until('b to drop out of a’s view', async () => {
      a.clock.advance(200);
      await until('a’s heartbeat', async () => ((await score('a')) > last ? true : undefined));
      last = await score('a');
      const ids = (await a.m.nodes()).map((n) => n.id);
      return ids.includes('b') ? undefined : ids;
    });
    expect(dropped).toEqual(['a']);
    // b's last heartbeat is more than a lease old on Redis's clock.
    expect((await redisNow(c)) - (await score('b'))).toBeGreaterThan(leaseMs);
    // and a, beating, is not.
    expect((await redisNow(c)) - (await score('a'))).toBeLessThanOrEqual(leaseMs);
    await a.m.leave();
  });

  it('leaving removes the node at once, for every other node', async () => {
    const c = await connect();
    const a = member(c, 60_000);
    const b = member(c, 60_000, new ManualClock(), {}, a.keyPrefix);
    await a.m.join(info('a'));
    await b.m.join(info('b'));
    await b.m.leave();
    expect((await a.m.nodes()).map((n) => n.id)).toEqual(['a']);
    expect(await c.client.exists(`${a.keyPrefix}node:b`)).toBe(0);
    // Its clock no longer beats for it.
    b.clock.advance(60_000);
    expect(b.clock.pending()).toBe(0);
    expect(await c.client.zScore(`${a.keyPrefix}nodes`, 'b')).toBeNull();
    await a.m.leave();
  });

  it('a node that starts again under the same id replaces the old entry; the old one leaving does not remove the new', async () => {
    const c = await connect();
    const conflicts: string[] = [];
    const old = member(c, 60_000);
    const fresh = member(c, 60_000, new ManualClock(), { onConflict: (o) => conflicts.push(o.instance) }, old.keyPrefix);
    await old.m.join(info('x', 'first'));
    await fresh.m.join(info('x', 'second'));
    // The previous instance was still live within the lease: worth a warning (two nodes with one id?).
    expect(conflicts).toEqual(['first']);
    await old.m.leave();
    expect((await fresh.m.nodes()).map((n) => n.id)).toEqual(['x']);
    expect(await c.client.hGet(`${old.keyPrefix}node:x`, 'instance')).toBe('second');
    await fresh.m.leave();
    expect(await fresh.m.nodes()).toEqual([]);
  });

  it('reports failed heartbeats once while Redis is away, and their return', async () => {
    const c = await connect();
    const events: string[] = [];
    const { m, clock } = member(c, 3000, new ManualClock(), {
      onHeartbeatFailed: () => events.push('failed'),
      onHeartbeatRestored: () => events.push('restored'),
    });
    await m.join(info('solo'));
    await redis.stop();
    await until('unreachable', () => !c.reachable);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await until(`beat ${i} attempted`, () => (clock.pending() === 1 ? true : undefined));
    }
    await until('failure reported', () => (events.length > 0 ? true : undefined));
    await redis.start();
    await until('reachable', () => c.reachable, 15_000);
    const restored = await until('restored', async () => {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
      return events.includes('restored') ? events : undefined;
    });
    expect(restored).toEqual(['failed', 'restored']);
    expect((await m.nodes()).map((n) => n.id)).toEqual(['solo']);
    await m.leave();
  });
});
