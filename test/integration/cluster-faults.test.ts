/**
 * A cluster through Redis faults: three `laminar serve` nodes on one real redis-server that is
 * restarted under load, stopped for a while and started again. Concurrency is observed inside the
 * handlers (the probe), so an unchecked grant would show as a peak above the reservation, not only
 * as a missing 429. Slots held through a restart stay held (each node renews its leases once
 * Redis is back). While Redis is away every invoke is refused with a 5xx ServiceException that
 * names Redis, Event invokes too (nothing is answered 202 that was not stored); once it is back,
 * every node serves again without a restart, events accepted before the outage all run, and the
 * slots whose release could not reach Redis come back when their leases expire.
 */
import { LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deployShared } from '../helpers/cluster.js';
import { startProbe, type Probe } from '../helpers/probe.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';

const LEASE_SECONDS = 2;
/** The ledger's sorted set of leases (cluster/redis-ledger.ts), read to see leases outlive a failed release. */
const LEASES_KEY = 'laminar:{ledger}:leases';
/** What every refusal for an unreachable Redis says, whichever part of the node met it. */
const REDIS_UNREACHABLE = /Redis, which coordinates this cluster, is unreachable/;

let dir: string;
let redis: RedisHandle;
let probe: Probe;
const nodes: ServeProcess[] = [];

function client(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

interface Outcome {
  status: number;
  /** `x-amzn-ErrorType` of an error answer. */
  type?: string;
  message?: string;
  reason?: string;
  /** When the request was sent and answered (Date.now()). */
  sentAt: number;
  answeredAt: number;
}

async function invoke(url: string, fn: string, event: object, invocationType: 'RequestResponse' | 'Event' = 'RequestResponse'): Promise<Outcome> {
  const sentAt = Date.now();
  const res = await fetch(`${url}/2015-03-31/functions/${fn}/invocations`, {
    method: 'POST',
    headers: { 'X-Amz-Invocation-Type': invocationType },
    body: JSON.stringify(event),
  });
  const text = await res.text();
  const out: Outcome = { status: res.status, sentAt, answeredAt: Date.now() };
  if (res.status >= 400) {
    const body = JSON.parse(text) as { message?: string; Reason?: string };
    out.type = res.headers.get('x-amzn-errortype') ?? undefined;
    if (body.message !== undefined) out.message = body.message;
    if (body.Reason !== undefined) out.reason = body.Reason;
  }
  return out;
}

async function clusterHealth(url: string): Promise<{ mode: string; redis: string }> {
  const res = await fetch(`${url}/health`);
  return ((await res.json()) as { cluster: { mode: string; redis: string } }).cluster;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A refusal because Redis is away: Lambda's 500 ServiceException, saying so. */
function expectRedisRefusal(o: Outcome): void {
  expect({ status: o.status, type: o.type }).toEqual({ status: 500, type: 'ServiceException' });
  expect(o.message).toMatch(REDIS_UNREACHABLE);
}

/** Throttled by the reservation or refused for Redis; anything else is wrong. */
function isAllowedRefusal(o: Outcome): boolean {
  if (o.status === 429) return o.type === 'TooManyRequestsException' && o.reason === 'ReservedFunctionConcurrentInvocationLimitExceeded';
  return o.status === 500 && o.type === 'ServiceException' && REDIS_UNREACHABLE.test(o.message ?? '');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'laminar-cluster-faults-'));
  redis = await startRedis();
  probe = await startProbe();
  // Started together: each start waits mostly on its own process.
  nodes.push(
    ...(await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        startServeProcess(join(dir, n), [
          '--redis-url',
          redis.url,
          '--node-id',
          `node-${n}`,
          '--cluster-lease-seconds',
          String(LEASE_SECONDS),
          '--isolation',
          'thread',
          // One event at a time per node, so events accepted before an outage are still queued in it.
          '--async-max-concurrency',
          '1',
        ]),
      ),
    )),
  );
}, 60_000);

afterAll(async () => {
  probe?.release();
  for (const p of nodes) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  await probe?.close();
  await redis?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The leases of `name` in the shared ledger, read from Redis, with their expiry (ms since the epoch) as score. */
async function leasesOf(name: string): Promise<{ value: string; score: number }[]> {
  const redisClient = createClient({ url: redis.url });
  await redisClient.connect();
  try {
    return (await redisClient.zRangeWithScores(LEASES_KEY, 0, -1)).filter((m) => m.value.endsWith(`|${name}`));
  } finally {
    await redisClient.close();
  }
}

/** A function every node serves (deployed through one, shared through the registry), with a reservation. */
async function deployEverywhere(name: string, fixture: string, reservation?: number): Promise<void> {
  await deployShared(nodes.map((n) => n.url), fixture, { FunctionName: name, Timeout: 30 });
  if (reservation !== undefined) {
    await client(nodes[0]!.url).send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: reservation }));
  }
}

describe('a cluster through Redis faults', () => {
  // Each test starts from a running Redis that every node reaches, whatever the last one left.
  beforeEach(async () => {
    await redis.start();
    for (const n of nodes) await until(`${n.url} reaches Redis`, async () => (await clusterHealth(n.url)).redis === 'reachable');
  });

  it('Redis restarted mid-load: the reservation is never exceeded, refusals are 429 or a 500 naming Redis, and service resumes', async () => {
    const name = 'faults-restart';
    const R = 4;
    await deployEverywhere(name, 'sleep', R);
    probe.reset();
    const outcomes: Outcome[] = [];
    let stop = false;
    // Three callers per node, more than the reservation: some always wait for a slot. A refused
    // caller backs off briefly before it asks again, as a client would.
    const callers = nodes.flatMap((n) =>
      [0, 1, 2].map(async () => {
        while (!stop) {
          const o = await invoke(n.url, name, { ms: 300, probe: probe.url });
          outcomes.push(o);
          if (o.status !== 200) await new Promise((r) => setTimeout(r, 20));
        }
      }),
    );
    await until('the load fills the reservation', () => probe.peak === R);
    // Down until a caller has met the outage: a restart quicker than the nodes' next Redis call
    // would go unseen (the callers then hold or wait on 429s), and this test is about one seen.
    await redis.stop();
    await until('a caller is refused for Redis', () => outcomes.some((o) => o.status === 500), 10_000);
    await redis.start();
    const backAt = Date.now();
    await until('invocations sent after the restart succeed', () => outcomes.some((o) => o.status === 200 && o.sentAt >= backAt), 20_000);
    stop = true;
    await Promise.all(callers);

    expect(probe.peak).toBe(R);
    const refusals = outcomes.filter((o) => o.status !== 200);
    expect(refusals.filter((o) => !isAllowedRefusal(o))).toEqual([]);
    // The restart was seen by the callers, and refused rather than granted unchecked.
    const redisRefusals = refusals.filter((o) => o.status === 500);
    expect(redisRefusals.length).toBeGreaterThan(0);
    for (const o of redisRefusals) expectRedisRefusal(o);
  }, 60_000);

  it('slots held through a Redis restart stay held: each node renews its leases once Redis is back, so none is granted twice', async () => {
    const name = 'faults-held';
    const R = 3;
    await deployEverywhere(name, 'sleep', R);
    probe.reset();
    const holders = nodes.map((n) => invoke(n.url, name, { ms: 1, probe: probe.url, hold: true }));
    await until('the reservation is held, one slot on each node', () => probe.current === R);
    try {
      const before = await leasesOf(name);
      expect(before).toHaveLength(R);
      const expiredBy = Math.max(...before.map((m) => m.score));

      await redis.restart();
      const backAt = Date.now();
      // The signal that every node is back: each renewed its lease after the restart.
      await until('every holder renewed its lease after the restart', async () => {
        const now = await leasesOf(name);
        return now.length === R && now.every((m) => m.score >= backAt + LEASE_SECONDS * 1000);
      });
      // Past the time the leases granted before the restart would have expired, the slots are
      // still taken on every node.
      await until('the leases granted before the restart would have expired', () => Date.now() > expiredBy);
      for (const n of nodes) {
        const o = await invoke(n.url, name, { ms: 1 });
        expect({ status: o.status, reason: o.reason }).toEqual({ status: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      }
      probe.release();
      expect((await Promise.all(holders)).map((o) => o.status)).toEqual([200, 200, 200]);
      expect(probe.peak).toBe(R);
    } finally {
      probe.release();
    }
  }, 60_000);

  it('Redis unreachable mid-run: invokes and Event invokes get a 500 naming Redis on every node; service and queued events resume once it is back', async () => {
    const name = 'faults-outage';
    const worker = 'faults-outage-worker';
    await Promise.all([deployEverywhere(name, 'sleep'), deployEverywhere(worker, 'cluster-worker')]);
    probe.reset();
    const records = () => probe.records as { phase: 'start' | 'end'; id: string }[];
    const ended = () => new Set(records().filter((r) => r.phase === 'end').map((r) => r.id));
    const [a] = nodes as [ServeProcess];

    // Events accepted before the outage, more than the nodes run at once.
    const accepted: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = `before-${i}`;
      const o = await invoke(a.url, worker, { id, ms: 300, probe: probe.url }, 'Event');
      expect(o.status).toBe(202);
      accepted.push(id);
    }
    await until('the first events have run', () => ended().size >= 2);

    await redis.stop();
    await until('an invoke is refused', async () => (await invoke(a.url, name, { ms: 1 })).status === 500, 10_000);
    for (const n of nodes) {
      await until(`${n.url} reports Redis unreachable`, async () => (await clusterHealth(n.url)).redis === 'unreachable', 10_000);
      expectRedisRefusal(await invoke(n.url, name, { ms: 1 }));
      const event = await invoke(n.url, worker, { id: `during-${n.url}`, ms: 1, probe: probe.url }, 'Event');
      expectRedisRefusal(event);
      expect((await clusterHealth(n.url)).redis).toBe('unreachable');
    }

    await redis.start();
    // Records arrive in order: those from here on were made after Redis was back.
    const recordsAtBack = records().length;
    for (const n of nodes) {
      await until(`${n.url} serves invokes again`, async () => (await invoke(n.url, name, { ms: 1 })).status === 200, 15_000);
      await until(`${n.url} reports Redis reachable`, async () => (await clusterHealth(n.url)).redis === 'reachable', 15_000);
      // The queue has a connection of its own, back on its own schedule: the first 202 is the signal.
      const id = `after-${n.url}`;
      await until(`${n.url} accepts Event invokes again`, async () => (await invoke(n.url, worker, { id, ms: 1, probe: probe.url }, 'Event')).status === 202, 15_000);
      accepted.push(id);
    }

    // Every accepted event runs to its end (at least once); some of those accepted before the
    // outage waited in the queue through it and started only once Redis was back.
    await until('every accepted event has run', () => accepted.every((id) => ended().has(id)), 30_000);
    const startedAfter = records()
      .slice(recordsAtBack)
      .filter((r) => r.phase === 'start' && r.id.startsWith('before-'));
    expect(startedAfter.length).toBeGreaterThan(0);
  }, 60_000);

  it('slots whose release failed while Redis was away stay taken until their leases expire, then the full reservation is admitted again', async () => {
    const name = 'faults-leases';
    const R = 3;
    await deployEverywhere(name, 'sleep', R);
    probe.reset();
    const hold = { ms: 1, probe: probe.url, hold: true };
    const holders = nodes.map((n) => invoke(n.url, name, hold));
    await until('the reservation is held, one slot on each node', () => probe.current === R);
    const full = await invoke(nodes[0]!.url, name, { ms: 1 });
    expect({ status: full.status, reason: full.reason }).toEqual({ status: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });

    await redis.stop();
    const stoppedAt = Date.now();
    for (const n of nodes) await until(`${n.url} refuses invokes`, async () => (await invoke(n.url, name, { ms: 1 })).status === 500, 10_000);
    // The holders finish while Redis is away: their releases cannot reach it.
    probe.release();
    expect((await Promise.all(holders)).map((o) => o.status)).toEqual([200, 200, 200]);
    await redis.start();

    // The leases are still in Redis (the releases never arrived), expiring at most one lease
    // time after the last heartbeat before the outage.
    try {
      const stale = await leasesOf(name);
      expect(stale).toHaveLength(R);
      for (const m of stale) expect(m.score).toBeLessThanOrEqual(stoppedAt + LEASE_SECONDS * 1000);
      const lastExpiry = Math.max(...stale.map((m) => m.score));

      // Fill the reservation again: callers refused (429 while the stale leases live, a 500
      // while a node reconnects) ask again until R handlers run at once.
      probe.reset();
      const pending: Promise<Outcome>[] = [];
      const refusals: Outcome[] = [];
      let outstanding = 0;
      let next = 0;
      await until(
        'the full reservation is admitted again',
        () => {
          while (outstanding < R) {
            outstanding++;
            const n = nodes[next++ % nodes.length]!;
            pending.push(
              invoke(n.url, name, hold).then((o) => {
                if (o.status !== 200) {
                  outstanding--;
                  refusals.push(o);
                }
                return o;
              }),
            );
          }
          return probe.current === R;
        },
        LEASE_SECONDS * 1000 + 10_000,
      );
      const filledAt = Date.now();
      // Not before the stale leases expired, and not long after.
      expect(filledAt).toBeGreaterThanOrEqual(lastExpiry);
      expect(filledAt - lastExpiry).toBeLessThan(3_000);
      expect(refusals.filter((o) => !isAllowedRefusal(o))).toEqual([]);
      // Exactly R: the expired leases made room for R, not more.
      const over = await invoke(nodes[1]!.url, name, { ms: 1 });
      expect({ status: over.status, reason: over.reason }).toEqual({ status: 429, reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
      probe.release();
      expect((await Promise.all(pending)).filter((o) => o.status === 200)).toHaveLength(R);
      expect(probe.peak).toBe(R);
      // The expired leases are gone from Redis, not renewed by anyone.
      const left = (await leasesOf(name)).map((m) => m.value);
      for (const m of stale) expect(left).not.toContain(m.value);
    } finally {
      probe.release();
    }
  }, 60_000);
});
