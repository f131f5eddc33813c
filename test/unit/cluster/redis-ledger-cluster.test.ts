/**
 * The Redis ledger as a cluster sees it: several nodes (each its own connection) on one real
 * redis-server, leases that expire when a node stops renewing them, and Redis restarted, stopped,
 * hung or absent. Lease time runs on a ManualClock; the only real waits are the connection's own
 * timeouts and reconnections, which the tests await as signals.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHeartbeat } from '../../../src/cluster/heartbeat.js';
import { RedisConnection } from '../../../src/cluster/redis-connection.js';
import { RedisLedger, type HeartbeatResult } from '../../../src/cluster/redis-ledger.js';
import { ClusterUnavailableError } from '../../../src/core/cluster-unavailable.js';
import { ManualClock } from '../../../src/core/clock.js';
import { ServiceException } from '../../../src/core/errors.js';
import { isGrant, type Grant, type Refusal } from '../../../src/scheduler/admission/port.js';
import { ThrottleReason } from '../../../src/scheduler/admission/reasons.js';
import { freePort } from '../../helpers/prometheus.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { caseLimits } from '../scheduler/ledger-cases.js';

const LEASE_MS = 15_000;
let redis: RedisHandle;
const opened: RedisConnection[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await redis?.dispose();
});

async function connect(commandTimeoutMs?: number): Promise<RedisConnection> {
  const c = await RedisConnection.open({ url: redis.url, reconnectMaxDelayMs: 100, ...(commandTimeoutMs ? { commandTimeoutMs } : {}) });
  opened.push(c);
  return c;
}

/** `count` nodes, each on its own connection, sharing one fresh key prefix. */
async function nodes(count: number): Promise<RedisLedger[]> {
  const keyPrefix = `c-${randomBytes(4).toString('hex')}:`;
  const out: RedisLedger[] = [];
  for (let i = 0; i < count; i++) out.push(new RedisLedger({ connection: await connect(), limits: caseLimits, nodeId: `node-${i}`, keyPrefix }));
  return out;
}

/**
 * Lets `ms` pass as it passes in a cluster: the live nodes heartbeat every third of a lease (a
 * silence of more than half a lease is an outage of Redis, which the ledger bridges).
 */
async function passTime(clock: ManualClock, ms: number, live: readonly RedisLedger[]): Promise<void> {
  for (let left = ms; left > 0; ) {
    const step = Math.min(left, LEASE_MS / 3);
    clock.advance(step);
    left -= step;
    for (const n of live) await n.heartbeat(clock.now());
  }
}

function grant(r: Grant | Refusal): Grant {
  if (!isGrant(r)) throw new Error(`expected a grant, got ${r.reason}`);
  return r;
}

/** Retries `body` while Redis is coming back, waiting for the connection's ready signal in between. */
async function onceAvailable<T>(connection: RedisConnection, body: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await body();
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError) || i > 50) throw err;
      await connection.whenReady();
    }
  }
}

describe('RedisLedger across nodes', () => {
  it('two nodes share one reservation exactly, under a concurrent burst from both', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    expect(await a.setReservation('f', 6)).toBeUndefined();
    const burst = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).acquire('f', { kind: 'on-demand', now: clock.now() }));
    const results = await Promise.all(burst);
    const grants = results.filter(isGrant);
    expect(grants).toHaveLength(6);
    expect(results.filter((r) => !isGrant(r)).map((r) => (r as Refusal).reason)).toEqual(Array(34).fill(ThrottleReason.Reserved));
    expect(await b.concurrency('f', clock.now())).toBe(6);
    // A slot released on one node is free on the other.
    const released = grants[0]!;
    const fromA = results.indexOf(released) % 2 === 1;
    const other = fromA ? b : a;
    expect((await a.leases(clock.now())).filter((l) => l.owner === (fromA ? a : b).owner).length).toBeGreaterThan(0);
    await released.release();
    grant(await other.acquire('f', { kind: 'on-demand', now: clock.now() }));
    expect(await other.acquire('f', { kind: 'on-demand', now: clock.now() })).toEqual({ reason: ThrottleReason.Reserved });
  });

  it('a node that stops heartbeating loses its leases after the lease time; the other node’s renewed leases stay', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    const at = () => ({ kind: 'on-demand' as const, now: clock.now() });
    await a.setReservation('f', 5);
    const onA = [grant(await a.acquire('f', at())), grant(await a.acquire('f', at())), grant(await a.acquire('f', at()))];
    grant(await b.acquire('f', at()));
    grant(await b.acquire('f', at()));
    clock.advance(5_000);
    expect(await b.heartbeat(clock.now())).toEqual({ renewed: 2, lost: [] });
    clock.advance(5_000);
    expect(await b.heartbeat(clock.now())).toEqual({ renewed: 2, lost: [] });
    // Node a is gone: no more heartbeats. One millisecond before its leases expire they still count.
    clock.advance(LEASE_MS - 10_000 - 1);
    expect(await b.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
    clock.advance(1);
    expect(await b.concurrency('f', clock.now())).toBe(2);
    for (let i = 0; i < 3; i++) grant(await b.acquire('f', at()));
    expect(await b.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
    expect((await b.leases(clock.now())).every((l) => l.owner === b.owner)).toBe(true);
    // Node a comes back: its heartbeat reports the leases it lost, and its late releases take nothing from b.
    const back = await a.heartbeat(clock.now());
    expect(back.renewed).toBe(0);
    expect(back.lost).toEqual(Array(3).fill({ functionName: 'f', kind: 'on-demand' }));
    await Promise.all(onA.map((g) => g.release()));
    expect(await b.concurrency('f', clock.now())).toBe(5);
    expect(await a.liveNodes(clock.now())).toEqual(expect.arrayContaining([a.owner, b.owner]));
  });

  it('startHeartbeat renews on the node’s clock, so a live node keeps its leases past the lease time', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    const beats: (HeartbeatResult | Error)[] = [];
    let notify: () => void = () => {};
    const nextBeat = () => new Promise<void>((resolve) => (notify = resolve));
    let beat = nextBeat();
    const heartbeat = startHeartbeat(a, clock, {
      onBeat: (outcome) => {
        beats.push(outcome);
        notify();
      },
    });
    await beat;
    expect(await b.liveNodes(clock.now())).toEqual([a.owner]);
    grant(await a.acquire('f', { kind: 'on-demand', now: clock.now() }));
    for (let i = 0; i < 9; i++) {
      beat = nextBeat();
      clock.advance(LEASE_MS / 3);
      await beat;
    }
    expect(beats).toHaveLength(10);
    expect(beats.slice(1)).toEqual(Array(9).fill({ renewed: 1, lost: [] }));
    // 45 s after the grant, three lease times, the lease is still live.
    expect(await b.concurrency('f', clock.now())).toBe(1);
    await heartbeat.stop();
    expect(clock.pending()).toBe(0);
    // Node a stopped renewing; node b, alive, goes on heartbeating.
    await passTime(clock, LEASE_MS, [b]);
    expect(await b.concurrency('f', clock.now())).toBe(0);
    expect(await b.liveNodes(clock.now())).toEqual([b.owner]);
  });
});

describe('RedisLedger when Redis fails', () => {
  it('a Redis restart keeps the state, and no more than the limit is granted afterwards', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    const at = () => ({ kind: 'on-demand' as const, now: clock.now() });
    await a.setReservation('f', 3);
    const held = [grant(await a.acquire('f', at())), grant(await b.acquire('f', at())), grant(await b.acquire('f', at()))];
    await redis.restart();
    // Both nodes reconnect by themselves; the scripts are loaded again (Redis forgot them).
    expect(await onceAvailable(opened[0] as RedisConnection, () => a.acquire('f', at()))).toEqual({ reason: ThrottleReason.Reserved });
    expect(await onceAvailable(opened[1] as RedisConnection, () => b.acquire('f', at()))).toEqual({ reason: ThrottleReason.Reserved });
    const s = await b.snapshot(clock.now());
    expect(s.reserved).toEqual(new Map([['f', 3]]));
    expect(s.inFlight).toEqual(new Map([['f', 3]]));
    expect(await a.heartbeat(clock.now())).toEqual({ renewed: 1, lost: [] });
    await held[0]?.release();
    grant(await b.acquire('f', at()));
    expect(await a.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
  });

  it('Redis stopped: acquire rejects with ClusterUnavailableError and grants nothing; started again, service resumes', async () => {
    const connection = await connect();
    const releaseErrors: unknown[] = [];
    const keyPrefix = `s-${randomBytes(4).toString('hex')}:`;
    const node = new RedisLedger({ connection, limits: caseLimits, nodeId: 'node-0', keyPrefix, onReleaseError: (e) => releaseErrors.push(e) });
    const clock = new ManualClock();
    const at = () => ({ kind: 'on-demand' as const, now: clock.now() });
    const held = grant(await node.acquire('f', at()));
    await redis.stop();
    try {
      const err = await node.acquire('f', at()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ClusterUnavailableError);
      expect(err).toBeInstanceOf(ServiceException);
      expect(err).toMatchObject({ statusCode: 500, code: 'ServiceException', message: expect.stringMatching(/^Laminar could not admit an invocation of f: Redis, which coordinates this cluster, is unreachable \(/) });
      await expect(node.setReservation('f', 1)).rejects.toBeInstanceOf(ClusterUnavailableError);
      await expect(node.heartbeat(clock.now())).rejects.toBeInstanceOf(ClusterUnavailableError);
      // A release never throws: its lease is left to expire.
      await held.release();
      expect(releaseErrors).toHaveLength(1);
      expect(releaseErrors[0]).toBeInstanceOf(ClusterUnavailableError);
    } finally {
      await redis.start();
    }
    await connection.whenReady();
    // The refused acquire took nothing; the unreleased lease counts until it expires.
    expect(await onceAvailable(connection, () => node.concurrency('f', clock.now()))).toBe(1);
    await passTime(clock, LEASE_MS, [node]);
    expect(await node.concurrency('f', clock.now())).toBe(0);
    grant(await node.acquire('f', at()));
    expect(await node.snapshot(clock.now())).toMatchObject({ inFlight: new Map([['f', 1]]) });
  });

  it('a Redis that does not answer in time fails the acquire; if it ran late, its lease is nobody’s and expires', async () => {
    const admin = await connect();
    const connection = await connect(400);
    const keyPrefix = `h-${randomBytes(4).toString('hex')}:`;
    const node = new RedisLedger({ connection, limits: caseLimits, nodeId: 'node-0', keyPrefix });
    const clock = new ManualClock();
    await admin.command(['CLIENT', 'PAUSE', '600', 'ALL'], 'pause Redis');
    await expect(node.acquire('f', { kind: 'on-demand', now: clock.now() })).rejects.toThrow(/did not answer within 400 ms/);
    // Same connection, so this runs after the late acquire, once the pause is over.
    expect(await node.concurrency('f', clock.now())).toBe(1);
    expect(await node.heartbeat(clock.now())).toEqual({ renewed: 0, lost: [] });
    await passTime(clock, LEASE_MS, [node]);
    expect(await node.concurrency('f', clock.now())).toBe(0);
  });

  it('an outage of Redis longer than the lease keeps the leases of invocations still running: no slot is granted twice once it is back', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    const at = () => ({ kind: 'on-demand' as const, now: clock.now() });
    await a.setReservation('f', 2);
    const running = [grant(await a.acquire('f', at())), grant(await b.acquire('f', at()))];
    await passTime(clock, LEASE_MS, [a, b]);
    // Redis away for four lease times: nobody can renew anything.
    await redis.stop();
    clock.advance(4 * LEASE_MS);
    await redis.start();
    // The first script after the outage, from either node, finds both invocations still holding their slots.
    expect(await onceAvailable(opened[1] as RedisConnection, () => b.acquire('f', at()))).toEqual({ reason: ThrottleReason.Reserved });
    expect(await b.concurrency('f', clock.now())).toBe(2);
    // Their holders renew them at their next heartbeats, and they last as long as they run.
    expect(await onceAvailable(opened[0] as RedisConnection, () => a.heartbeat(clock.now()))).toEqual({ renewed: 1, lost: [] });
    expect(await b.heartbeat(clock.now())).toEqual({ renewed: 1, lost: [] });
    await passTime(clock, 2 * LEASE_MS, [a, b]);
    expect(await a.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
    await Promise.all(running.map((g) => g.release()));
    grant(await a.acquire('f', at()));
    grant(await b.acquire('f', at()));
  });

  it('after an outage, the leases of a node that died meanwhile expire one outage later than they would have', async () => {
    const [a, b] = (await nodes(2)) as [RedisLedger, RedisLedger];
    const clock = new ManualClock();
    const at = () => ({ kind: 'on-demand' as const, now: clock.now() });
    await a.setReservation('f', 1);
    grant(await a.acquire('f', at()));
    // Redis away for two lease times; node a dies meanwhile; b is alive throughout.
    clock.advance(2 * LEASE_MS);
    expect(await b.heartbeat(clock.now())).toEqual({ renewed: 0, lost: [] });
    expect(await b.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
    // a's lease had a full lease left when the outage began: it returns one lease after.
    await passTime(clock, LEASE_MS - 1, [b]);
    expect(await b.acquire('f', at())).toEqual({ reason: ThrottleReason.Reserved });
    await passTime(clock, 1, [b]);
    grant(await b.acquire('f', at()));
  });

  it('a node refuses to start when Redis cannot be reached', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(RedisConnection.open({ url, connectAttempts: 2 })).rejects.toThrow(ClusterUnavailableError);
    await expect(RedisLedger.open({ url, connectAttempts: 1 }, { limits: caseLimits, nodeId: 'n' })).rejects.toThrow(/^Laminar could not connect to Redis at start: Redis, which coordinates this cluster, is unreachable/);
  });
});
