/**
 * The Redis ledger against a real redis-server: the shared case tables, the port's conformance
 * suite and the invariant and differential properties, each test on its own key prefix.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../../src/cluster/redis-connection.js';
import { RedisLedger } from '../../../src/cluster/redis-ledger.js';
import type { LedgerLimits } from '../../../src/scheduler/admission/ledger.js';
import { isGrant } from '../../../src/scheduler/admission/port.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';
import { T0, caseLimits, ledgerCasesAgainst } from '../scheduler/ledger-cases.js';
import { ledgerConformance } from './ledger-conformance.js';
import { ledgerProperties } from './ledger-properties.js';

let redis: RedisHandle;
let connection: RedisConnection;

beforeAll(async () => {
  redis = await startRedis();
  connection = await RedisConnection.open({ url: redis.url });
});

afterAll(async () => {
  await connection?.close();
  await redis?.dispose();
});

let n = 0;
const newPrefix = () => `t${++n}-${randomBytes(3).toString('hex')}:`;

/** A ledger on its own prefix (a fresh one by default); leases outlive any test's clock, so only the rules decide. */
function fresh(limits: LedgerLimits, keyPrefix = newPrefix(), nodeId = 'node-1'): RedisLedger {
  return new RedisLedger({ connection, limits, nodeId, leaseMs: 3_600_000, keyPrefix });
}

const make = async (limits: LedgerLimits) => {
  const port = fresh(limits);
  return { port, cleanup: () => port.close() };
};

ledgerCasesAgainst('redis', make);
ledgerConformance('redis', make);
ledgerProperties('redis', make, 30);

describe('RedisLedger specifics', () => {
  it('keeps every key under its prefix, with one hash tag so a Redis Cluster keeps them in one slot', async () => {
    const prefix = newPrefix();
    const ledger = fresh(caseLimits, prefix);
    await ledger.setReservation('a', 2);
    await ledger.setProvisioned('a', 1);
    const g = await ledger.acquire('a', { kind: 'on-demand', scalingToken: true, now: T0 });
    await ledger.acquire('a', { kind: 'provisioned', now: T0 });
    await ledger.heartbeat(T0);
    const keys = (await connection.command(['KEYS', `${prefix}*`], 'list keys')) as string[];
    expect(keys.sort()).toEqual(['buckets', 'clock', 'inflight', 'leases', 'nodes', 'pinflight', 'provisioned', 'reserved'].map((k) => `${prefix}{ledger}:${k}`));
    if (isGrant(g)) await g.release();
    await ledger.close();
  });

  it('lists leases with their owner and expiry, and close gives back what the node still holds', async () => {
    const prefix = newPrefix();
    const ledger = fresh(caseLimits, prefix);
    const other = fresh(caseLimits, prefix, 'node-2');
    await ledger.acquire('a', { kind: 'on-demand', now: T0 });
    await ledger.acquire('b', { kind: 'provisioned', now: T0 });
    expect(ledger.owner).toMatch(/^node-1#[0-9a-f]{12}$/);
    expect(other.owner).toMatch(/^node-2#/);
    const leases = await ledger.leases(T0);
    expect(leases.sort((x, y) => x.functionName.localeCompare(y.functionName))).toEqual([
      { owner: ledger.owner, functionName: 'a', kind: 'on-demand', expiresAt: T0 + 3_600_000 },
      { owner: ledger.owner, functionName: 'b', kind: 'provisioned', expiresAt: T0 + 3_600_000 },
    ]);
    await other.acquire('a', { kind: 'on-demand', now: T0 });
    await ledger.close();
    // Only the other node's lease is left.
    expect(await other.leases(T0)).toEqual([{ owner: other.owner, functionName: 'a', kind: 'on-demand', expiresAt: T0 + 3_600_000 }]);
    const s = await other.snapshot(T0);
    expect(s.inFlight).toEqual(new Map([['a', 1]]));
    expect(s.provisionedInFlight).toEqual(new Map());
    await other.close();
    expect(await other.leases(T0)).toEqual([]);
  });

  it('refuses a node id that cannot be part of a lease, and a lease time below a second', () => {
    expect(() => new RedisLedger({ connection, limits: caseLimits, nodeId: 'a|b' })).toThrow(/nodeId 'a\|b'/);
    expect(() => new RedisLedger({ connection, limits: caseLimits, nodeId: 'a', leaseMs: 10 })).toThrow(/leaseMs = 10/);
  });

  it('refuses reservations and claims that are not whole numbers without touching Redis', async () => {
    const ledger = fresh(caseLimits);
    await expect(ledger.setReservation('a', 1.5)).rejects.toThrow(RangeError);
    await expect(ledger.setProvisioned('a', -1)).rejects.toThrow(RangeError);
    expect((await ledger.snapshot(T0)).reserved).toEqual(new Map());
  });
});
