/**
 * The provisioned spread of cluster nodes against a real redis-server and real memberships, each
 * node on its own manual clock: the live nodes and this node's share follow joins and departures,
 * each node's usage is published with the lease as its expiry, and only live nodes' usage counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClusterConnection, type ClusterConnection } from '../../../src/cluster/connection.js';
import { Membership } from '../../../src/cluster/membership.js';
import { configKey, shareOf } from '../../../src/cluster/provisioned-share.js';
import { ProvisionedSpread } from '../../../src/cluster/provisioned-spread.js';
import type { LocalConfigUsage } from '../../../src/cluster/provisioned-usage.js';
import { ManualClock } from '../../../src/core/clock.js';
import { startRedis, type RedisHandle } from '../../helpers/redis.js';

const LEASE = 60_000;

let redis: RedisHandle;
let conn: ClusterConnection;

beforeAll(async () => {
  redis = await startRedis();
  conn = await openClusterConnection({ url: redis.url, clock: new ManualClock() });
});

afterAll(async () => {
  await conn?.close();
  await redis?.dispose();
});

let round = 0;

function node(prefix: string, id: string, joined = true) {
  const clock = new ManualClock();
  const membership = new Membership({ client: conn.client, clock, leaseMs: LEASE, keyPrefix: prefix });
  let local: LocalConfigUsage[] = [];
  const changes: string[][] = [];
  const spread = new ProvisionedSpread({
    client: conn.client,
    liveIds: () => membership.liveIds(),
    clock,
    leaseMs: LEASE,
    local: () => local,
    onNodesChanged: (ids) => changes.push([...ids]),
    keyPrefix: prefix,
  });
  return {
    id,
    clock,
    membership,
    spread,
    changes,
    setLocal: (l: LocalConfigUsage[]) => (local = l),
    async join() {
      if (joined) await membership.join({ id, instance: `${id}-1`, address: '127.0.0.1:1', version: 'test', startedAt: new Date(0).toISOString() });
    },
  };
}

async function cluster(...ids: string[]) {
  const prefix = `spread${++round}:`;
  const nodes = ids.map((id) => node(prefix, id));
  for (const n of nodes) await n.join();
  return { prefix, nodes };
}

describe('ProvisionedSpread', () => {
  it('keeps no share before it runs, then its share of the live nodes', async () => {
    const { nodes } = await cluster('n1', 'n2', 'n3');
    const [a] = nodes;
    expect(a!.spread.share('f', 'live', 5)).toBe(0);
    await a!.spread.start('n1');
    expect(a!.spread.nodes).toEqual(['n1', 'n2', 'n3']);
    expect(a!.changes).toEqual([['n1', 'n2', 'n3']]);
    expect(a!.spread.share('f', 'live', 5)).toBe(shareOf(['n1', 'n2', 'n3'], 'n1', 5, configKey('f', 'live')));
    for (const n of nodes.slice(1)) await n.spread.start(n.id);
    const total = nodes.reduce((sum, n) => sum + n.spread.share('f', 'live', 5), 0);
    expect(total).toBe(5);
    for (const n of nodes) await n.spread.stop();
  });

  it('publishes its usage with the lease as expiry, and sums the other live nodes', async () => {
    const { prefix, nodes } = await cluster('n1', 'n2', 'n3');
    const [a, b, c] = nodes as [ReturnType<typeof node>, ReturnType<typeof node>, ReturnType<typeof node>];
    a.setLocal([{ functionName: 'f', qualifier: 'live', allocated: 2, inUse: 1, invocations: 10 }]);
    b.setLocal([{ functionName: 'f', qualifier: 'live', allocated: 2, inUse: 2, invocations: 4 }]);
    c.setLocal([
      { functionName: 'f', qualifier: 'live', allocated: 1, inUse: 0, invocations: 1 },
      { functionName: 'g', qualifier: '1', allocated: 3, inUse: 3, invocations: 9 },
    ]);
    for (const n of [b, c, a]) await n.spread.start(n.id);
    expect(await conn.client.hGetAll(`${prefix}provisioned-usage:n2`)).toEqual({ 'f:live': '2 2 4' });
    const ttl = await conn.client.pTTL(`${prefix}provisioned-usage:n2`);
    expect(ttl).toBeGreaterThan(LEASE - 5_000);
    expect(ttl).toBeLessThanOrEqual(LEASE);
    // a read after b and c published: its own usage is not among the others'.
    expect(a.spread.othersUsage('f', 'live')).toEqual({ allocated: 3, inUse: 2, invocations: 5 });
    expect(a.spread.othersUsage('g', '1')).toEqual({ allocated: 3, inUse: 3, invocations: 9 });
    expect(a.spread.othersUsage('h', '1')).toEqual({ allocated: 0, inUse: 0, invocations: 0 });

    // Rounds run on the clock: b's change reaches a after both had a round.
    b.setLocal([]);
    b.clock.advance(1000);
    await b.spread.round();
    expect(await conn.client.exists(`${prefix}provisioned-usage:n2`)).toBe(0);
    a.clock.advance(1000);
    await a.spread.round();
    expect(a.spread.othersUsage('f', 'live')).toEqual({ allocated: 1, inUse: 0, invocations: 1 });
    for (const n of nodes) await n.spread.stop();
  });

  it('a node that left stops counting: its share moves to the others and its usage is ignored', async () => {
    const { prefix, nodes } = await cluster('n1', 'n2');
    const [a, b] = nodes as [ReturnType<typeof node>, ReturnType<typeof node>];
    b.setLocal([{ functionName: 'f', qualifier: 'live', allocated: 2, inUse: 1, invocations: 3 }]);
    await b.spread.start('n2');
    await a.spread.start('n1');
    expect(a.spread.share('f', 'live', 4)).toBe(2);
    expect(a.spread.othersUsage('f', 'live').allocated).toBe(2);
    // b's heartbeat entry goes (its lease ran out, or it left); its usage hash is still there.
    await b.membership.leave();
    await a.spread.round();
    expect(a.changes).toEqual([['n1', 'n2'], ['n1']]);
    expect(a.spread.share('f', 'live', 4)).toBe(4);
    expect(await conn.client.exists(`${prefix}provisioned-usage:n2`)).toBe(1);
    expect(a.spread.othersUsage('f', 'live')).toEqual({ allocated: 0, inUse: 0, invocations: 0 });
    // b stops: it withdraws its usage at once.
    await b.spread.stop();
    expect(await conn.client.exists(`${prefix}provisioned-usage:n2`)).toBe(0);
    await a.spread.stop();
  });

  it('counts itself live while Redis lost its own entry, and reports no change when nothing changed', async () => {
    const { nodes } = await cluster('n1');
    const [a] = nodes as [ReturnType<typeof node>];
    await a.spread.start('n1');
    await a.membership.leave();
    await a.spread.round();
    await a.spread.round();
    expect(a.spread.nodes).toEqual(['n1']);
    expect(a.changes).toEqual([['n1']]);
    expect(a.spread.share('f', 'live', 3)).toBe(3);
    await a.spread.stop();
  });
});
