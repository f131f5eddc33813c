/**
 * The leader lock against a real redis-server, each holder on its own manual clock (the clock
 * drives its attempts; Redis keeps the expiry). One holder at a time; renewals; release on stop;
 * takeover of an expired lock and the old holder stepping down; a holder that cannot reach Redis
 * or waits on it steps down when its lock may have expired, and not before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClusterConnection, type ClusterConnection } from '../../../src/cluster/connection.js';
import { LeaderLock } from '../../../src/cluster/leader-lock.js';
import { ManualClock } from '../../../src/core/clock.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';

const TTL = 30_000;
const RENEW = 10_000;

let redis: RedisHandle;
let a: ClusterConnection;
let b: ClusterConnection;
let admin: ClusterConnection;

beforeAll(async () => {
  redis = await startRedis();
  const open = () => openClusterConnection({ url: redis.url, clock: new ManualClock() });
  a = await open();
  b = await open();
  admin = await open();
});

afterAll(async () => {
  for (const c of [a, b, admin]) await c?.close();
  await redis?.dispose();
});

let n = 0;

function holder(connection: ClusterConnection, key: string, token: string) {
  const clock = new ManualClock();
  const events: string[] = [];
  const errors: Error[] = [];
  const lock = new LeaderLock({
    client: connection.client,
    clock,
    key,
    token,
    ttlMs: TTL,
    renewMs: RENEW,
    onAcquired: () => events.push('acquired'),
    onLost: () => events.push('lost'),
    onError: (err) => errors.push(err),
  });
  /** Moves this holder's clock and waits for the attempt it started. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await lock.idle();
  };
  return { lock, clock, events, errors, advance };
}

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('LeaderLock', () => {
  it('the first node takes the free lock with its token and expiry; the second does not', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    const y = holder(b, key, 'y');
    await x.lock.start();
    await y.lock.start();
    expect([x.lock.held, y.lock.held]).toEqual([true, false]);
    expect([x.events, y.events]).toEqual([['acquired'], []]);
    expect(await admin.client.get(key)).toBe('x');
    const ttl = await admin.client.pTTL(key);
    expect(ttl).toBeGreaterThan(TTL - 5_000);
    expect(ttl).toBeLessThanOrEqual(TTL);
    await x.lock.stop();
    await y.lock.stop();
  });

  it('the holder renews every renewMs, and the other keeps waiting', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    const y = holder(b, key, 'y');
    await x.lock.start();
    await y.lock.start();
    await admin.client.pExpire(key, 12_000);
    await x.advance(RENEW - 1);
    expect(await admin.client.pTTL(key)).toBeLessThanOrEqual(12_000);
    await x.advance(1);
    expect(await admin.client.pTTL(key)).toBeGreaterThan(TTL - 5_000);
    await y.advance(RENEW);
    expect([x.lock.held, y.lock.held]).toEqual([true, false]);
    expect(x.events).toEqual(['acquired']);
    await x.lock.stop();
    await y.lock.stop();
  });

  it('a holder that stops gives the lock up at once, and another takes it at its next attempt', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    const y = holder(b, key, 'y');
    await x.lock.start();
    await y.lock.start();
    await x.lock.stop();
    expect(await admin.client.get(key)).toBeNull();
    expect(x.events).toEqual(['acquired']);
    expect(x.lock.held).toBe(false);
    await y.advance(RENEW);
    expect(y.lock.held).toBe(true);
    expect(await admin.client.get(key)).toBe('y');
    await y.lock.stop();
  });

  it('a lock that expired (its holder stopped renewing) is taken by the next attempt, and the old holder steps down', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    const y = holder(b, key, 'y');
    await x.lock.start();
    await y.lock.start();
    // x's renewals stop reaching Redis in time: its lock expires there.
    await admin.client.pExpire(key, 1);
    await until('the lock expired in Redis', async () => (await admin.client.exists(key)) === 0);
    await y.advance(RENEW);
    expect(y.lock.held).toBe(true);
    expect(y.events).toEqual(['acquired']);
    await x.advance(RENEW);
    expect(x.lock.held).toBe(false);
    expect(x.events).toEqual(['acquired', 'lost']);
    // And it does not take the lock back while y renews it.
    await x.advance(RENEW);
    await y.advance(RENEW);
    expect([x.lock.held, y.lock.held]).toEqual([false, true]);
    expect(await admin.client.get(key)).toBe('y');
    await x.lock.stop();
    await y.lock.stop();
  });

  it('a holder whose attempt hangs on Redis steps down when its lock may have expired', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    await x.lock.start();
    // Redis accepts no write for a while: x's renewal waits for an answer.
    await admin.client.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE']);
    try {
      x.clock.advance(RENEW);
      x.clock.advance(TTL - RENEW - 1);
      expect(x.lock.held).toBe(true);
      x.clock.advance(1);
      expect(x.lock.held).toBe(false);
      expect(x.events).toEqual(['acquired', 'lost']);
    } finally {
      await admin.client.sendCommand(['CLIENT', 'UNPAUSE']);
    }
    // The renewal sent before that now runs: Redis set the lock anew, at least a whole TTL from
    // when it was sent, and nobody else could have taken it meanwhile. x leads again.
    await x.lock.idle();
    expect(await admin.client.get(key)).toBe('x');
    expect(x.lock.held).toBe(true);
    expect(x.events).toEqual(['acquired', 'lost', 'acquired']);
    await x.lock.stop();
  });

  it('an answer that comes later than a whole lock time after its attempt does not make a leader', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    await x.lock.start();
    await admin.client.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE']);
    try {
      x.clock.advance(RENEW);
      x.clock.advance(TTL);
      expect(x.events).toEqual(['acquired', 'lost']);
    } finally {
      await admin.client.sendCommand(['CLIENT', 'UNPAUSE']);
    }
    await x.lock.idle();
    expect(x.lock.held).toBe(false);
    expect(x.events).toEqual(['acquired', 'lost']);
    // Its next attempt, answered in time, leads again.
    await x.advance(RENEW);
    expect(x.lock.held).toBe(true);
    await x.lock.stop();
  });
});

describe('LeaderLock without Redis', () => {
  it('keeps leading while its last renewal holds, steps down at its end, and leads again once Redis is back', async () => {
    const key = `lock-${++n}`;
    const x = holder(a, key, 'x');
    await x.lock.start();
    await redis.stop();
    await until('the connection noticed', () => !a.reachable);
    await x.advance(RENEW);
    expect(x.errors).toHaveLength(1);
    await x.advance(RENEW);
    expect(x.lock.held).toBe(true);
    expect(x.errors).toHaveLength(1); // once per run of failures
    await x.advance(RENEW - 1);
    expect(x.lock.held).toBe(true);
    await x.advance(1);
    expect(x.lock.held).toBe(false);
    expect(x.events).toEqual(['acquired', 'lost']);

    await redis.start();
    await until('the connection is back', () => a.reachable);
    await x.advance(RENEW);
    expect(x.lock.held).toBe(true);
    expect(x.events).toEqual(['acquired', 'lost', 'acquired']);
    await x.lock.stop();
    expect(await a.client.get(key)).toBeNull();
  });
});
