/**
 * The Redis event queue as several nodes use it: two queue instances (two nodes) on one
 * redis-server and one prefix, and Redis going away and coming back. Time for leases is a plain
 * number moved by the test, as in the conformance suite.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueUnavailableError, RedisEventQueue } from '../../../src/async/redis-queue.js';
import type { Lease, NewEvent } from '../../../src/async/queue.js';
import { freePort } from '../../helpers/prometheus.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { dropKeys, freshPrefix } from './redis-queue-harness.js';

const T0 = Date.UTC(2026, 0, 1);
const VIS = 30_000;

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

function ev(functionName: string, n: number): NewEvent {
  return { functionName, payload: Buffer.from(JSON.stringify({ n })), requestId: `req-${functionName}-${n}`, acceptedAt: T0 };
}

/** Two nodes' queues on the same Redis and prefix; closes both and removes the keys after `fn`. */
async function withTwoNodes(fn: (a: RedisEventQueue, b: RedisEventQueue) => Promise<void>): Promise<void> {
  const prefix = freshPrefix();
  const a = await RedisEventQueue.connect({ url: redis.url, prefix });
  const b = await RedisEventQueue.connect({ url: redis.url, prefix });
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
    await redis.start();
    await dropKeys(redis.url, prefix);
  }
}

describe('RedisEventQueue across nodes', () => {
  it('two nodes draining a burst of 500 events concurrently never hand out one event twice; each completes exactly once', () =>
    withTwoNodes(async (a, b) => {
      const accepted = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).enqueue(ev(`fn${i % 5}`, i))));
      const leasedBy = new Map<string, string>();
      const completed = new Map<string, number>();
      // Four concurrent workers per node, each leasing and completing until nothing is left.
      const worker = async (q: RedisEventQueue, node: string) => {
        for (let l = await q.lease(T0, VIS); l; l = await q.lease(T0, VIS)) {
          expect(leasedBy.get(l.event.id), `event ${l.event.id} leased by ${leasedBy.get(l.event.id)} and again by ${node}`).toBeUndefined();
          leasedBy.set(l.event.id, node);
          expect(await q.complete(l.event.id, l.token)).toBe(true);
          completed.set(l.event.id, (completed.get(l.event.id) ?? 0) + 1);
        }
      };
      await Promise.all([...Array.from({ length: 4 }, () => worker(a, 'a')), ...Array.from({ length: 4 }, () => worker(b, 'b'))]);
      expect([...completed.keys()].sort()).toEqual(accepted.map((e) => e.id).sort());
      expect([...completed.values()].every((n) => n === 1)).toBe(true);
      const byNode = [...leasedBy.values()];
      expect(byNode.filter((n) => n === 'a').length).toBeGreaterThan(0);
      expect(byNode.filter((n) => n === 'b').length).toBeGreaterThan(0);
      expect([...(await a.depth()).values()].reduce((x, y) => x + y, 0)).toBe(0);
    }));

  it('a per-function cap holds across nodes leasing at the same time', () =>
    withTwoNodes(async (a, b) => {
      for (let i = 0; i < 20; i++) await a.enqueue(ev('reserved', i));
      const caps = new Map([['reserved', 3]]);
      const tries = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).lease(T0, VIS, { caps })));
      const held = tries.filter((l): l is Lease => l !== undefined);
      expect(held).toHaveLength(3);
      expect(new Set(held.map((l) => l.event.id)).size).toBe(3);
      // A slot freed on one node is taken by the other, and only one.
      expect(await a.complete(held[0]!.event.id, held[0]!.token)).toBe(true);
      const next = await Promise.all([b.lease(T0, VIS, { caps }), b.lease(T0, VIS, { caps }), a.lease(T0, VIS, { caps })]);
      expect(next.filter(Boolean)).toHaveLength(1);
    }));

  it('an event leased by a node that dies is leased by the other after the visibility timeout, and only then', () =>
    withTwoNodes(async (a, b) => {
      const e = await a.enqueue(ev('f', 1));
      const first = (await a.lease(T0, VIS))!;
      expect(first.event.id).toBe(e.id);
      // A node that is alive extends its lease; the other cannot take the event at the old expiry.
      expect(await a.extend(e.id, first.token, T0 + 2 * VIS)).toBe(true);
      expect(await b.lease(T0 + VIS, VIS)).toBeUndefined();
      expect(await b.nextDueAt()).toBe(T0 + 2 * VIS);
      // Then node a dies: it stops extending and its connection goes.
      await a.close();
      expect(await b.lease(T0 + 2 * VIS - 1, VIS)).toBeUndefined();
      const second = (await b.lease(T0 + 2 * VIS, VIS))!;
      expect(second.event).toMatchObject({ id: e.id, requestId: 'req-f-1', deliveries: 2 });
      // The dead holder's token, presented again (by the node once restarted), is refused.
      const ghost = await RedisEventQueue.connect({ url: redis.url, prefix: a.prefix });
      try {
        expect(await ghost.complete(e.id, first.token)).toBe(false);
        expect(await ghost.extend(e.id, first.token, T0 + 10 * VIS)).toBe(false);
      } finally {
        await ghost.close();
      }
      expect(await b.complete(e.id, second.token)).toBe(true);
      expect(await b.depth('f')).toBe(0);
    }));

  it('a Redis restart in the middle of a stream of enqueues keeps every event that was acknowledged', () =>
    withTwoNodes(async (a, b) => {
      const acked = new Set<string>();
      let stop = false;
      /** Resolved by the producer once this many events are acknowledged. */
      const waiting: { n: number; resolve: () => void }[] = [];
      const acknowledged = (n: number) => new Promise<void>((resolve) => waiting.push({ n, resolve }));
      // Node a accepts events in concurrent groups, as concurrent Event invokes arrive; an enqueue
      // refused while Redis is down must be refused with the queue's error, never acknowledged.
      const producer = (async () => {
        for (let i = 0; !stop; i += 20) {
          const group = await Promise.allSettled(Array.from({ length: 20 }, (_, j) => a.enqueue(ev(`fn${j % 3}`, i + j))));
          for (const r of group) {
            if (r.status === 'fulfilled') acked.add(r.value.requestId);
            else expect(r.reason).toBeInstanceOf(QueueUnavailableError);
          }
          for (const w of waiting.filter((x) => acked.size >= x.n)) w.resolve();
          if (group.some((r) => r.status === 'rejected')) await a.whenAvailable();
        }
      })();
      await acknowledged(300);
      await redis.restart();
      await a.whenAvailable();
      // Enqueues keep being acknowledged after the restart.
      await acknowledged(acked.size + 100);
      stop = true;
      await producer;
      // Node b (which lived through the restart too) finds every acknowledged event.
      await b.whenAvailable();
      const stored = new Set<string>();
      for (let l = await b.lease(T0, VIS); l; l = await b.lease(T0, VIS)) stored.add(l.event.requestId);
      expect([...acked].filter((r) => !stored.has(r))).toEqual([]);
    }), 60_000);

  it('with Redis stopped, operations reject with QueueUnavailableError; once it is back, they work and nothing is lost', () =>
    withTwoNodes(async (a) => {
      const kept = await a.enqueue(ev('f', 1));
      await redis.stop();
      await expect(a.enqueue(ev('f', 2))).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(a.enqueue(ev('f', 3))).rejects.toMatchObject({
        statusCode: 500,
        code: 'ServiceException',
        message: expect.stringMatching(/^Laminar could not reach the event queue at redis:\/\/127\.0\.0\.1:\d+\/?: Redis, which coordinates this cluster, is unreachable \(/),
      });
      await expect(a.lease(T0, VIS)).rejects.toBeInstanceOf(QueueUnavailableError);
      await expect(a.depth()).rejects.toBeInstanceOf(QueueUnavailableError);
      expect(a.available).toBe(false);
      await redis.start();
      await a.whenAvailable();
      expect(a.available).toBe(true);
      const later = await a.enqueue(ev('f', 4));
      const ids = [(await a.lease(T0, VIS))!.event.id, (await a.lease(T0, VIS))!.event.id];
      expect(ids).toEqual([kept.id, later.id]);
    }));

  it('a Redis that does not answer in time turns into QueueUnavailableError, not a wait without end', async () => {
    const prefix = freshPrefix();
    const q = await RedisEventQueue.connect({ url: redis.url, prefix, commandTimeoutMs: 300 });
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      // Redis holds every write (scripts included) until unpaused: it is up but does not answer.
      await admin.sendCommand(['CLIENT', 'PAUSE', '60000', 'WRITE']);
      await expect(q.enqueue(ev('f', 1))).rejects.toThrow(/no answer within 300 ms/);
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      // The enqueue that timed out may still be applied once Redis answers: at least once, never silently lost.
      expect(await q.depth('f')).toBe(1);
    } finally {
      await admin.sendCommand(['CLIENT', 'UNPAUSE']);
      admin.destroy();
      await q.close();
      await dropKeys(redis.url, prefix);
    }
  });

  it('connecting to a Redis that is not there rejects with QueueUnavailableError naming it (a node does not start)', async () => {
    const port = await freePort();
    const err = await RedisEventQueue.connect({ url: `redis://:secret@127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueUnavailableError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain('cannot connect');
    expect((err as Error).message).not.toContain('secret');
  });

  it('a closed queue refuses operations', async () => {
    const prefix = freshPrefix();
    const q = await RedisEventQueue.connect({ url: redis.url, prefix });
    await q.close();
    await expect(q.enqueue(ev('f', 1))).rejects.toThrow(/closed/);
    await expect(q.whenAvailable()).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('the key prefix keeps queues apart on one Redis; the default is laminar:', async () => {
    const [p1, p2] = [freshPrefix(), freshPrefix()];
    const one = await RedisEventQueue.connect({ url: redis.url, prefix: p1 });
    const two = await RedisEventQueue.connect({ url: redis.url, prefix: p2 });
    const dflt = await RedisEventQueue.connect({ url: redis.url });
    try {
      expect(dflt.prefix).toBe('laminar:');
      await one.enqueue(ev('f', 1));
      expect(await one.depth('f')).toBe(1);
      expect(await two.depth('f')).toBe(0);
      expect(await two.lease(T0, VIS)).toBeUndefined();
      expect(await dflt.lease(T0, VIS)).toBeUndefined();
    } finally {
      await Promise.all([one.close(), two.close(), dflt.close()]);
      await Promise.all([dropKeys(redis.url, p1), dropKeys(redis.url, p2)]);
    }
  });
});
