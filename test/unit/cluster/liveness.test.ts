import { describe, expect, it } from 'vitest';
import { heartbeatIntervalMs, liveNodes, retentionMs, type Heartbeat } from '../../../src/cluster/liveness.js';
import { advertisedAddress, defaultNodeId } from '../../../src/cluster/node.js';
import { reconnectDelayMs } from '../../../src/cluster/connection.js';

const NOW = 1_800_000_000_000;
const LEASE = 15_000;
const beat = (id: string, ageMs: number): Heartbeat => ({ id, lastSeenMs: NOW - ageMs });

describe('liveNodes', () => {
  const cases: { name: string; beats: Heartbeat[]; live: string[] }[] = [
    { name: 'no nodes', beats: [], live: [] },
    { name: 'a fresh heartbeat is live', beats: [beat('a', 0)], live: ['a'] },
    { name: 'one just inside the lease is live', beats: [beat('a', LEASE - 1)], live: ['a'] },
    { name: 'one exactly at the lease is still live (within the lease time)', beats: [beat('a', LEASE)], live: ['a'] },
    { name: 'one a millisecond past the lease is not', beats: [beat('a', LEASE + 1)], live: [] },
    { name: 'a heartbeat stamped after now counts as age zero', beats: [beat('a', -500)], live: ['a'] },
    { name: 'a score that is not a number is never live', beats: [{ id: 'a', lastSeenMs: Number.NaN }], live: [] },
    {
      name: 'a mix keeps only the live ones, sorted by id',
      beats: [beat('node-c', 100), beat('node-a', LEASE + 5000), beat('node-b', 2000), beat('node-a2', 14_999)],
      live: ['node-a2', 'node-b', 'node-c'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(liveNodes(c.beats, NOW, LEASE).map((n) => n.id)).toEqual(c.live);
    });
  }

  it('keeps each live node its heartbeat time and leaves its input alone', () => {
    const beats = [beat('b', 10), beat('a', 20)];
    const copy = structuredClone(beats);
    expect(liveNodes(beats, NOW, LEASE)).toEqual([
      { id: 'a', lastSeenMs: NOW - 20 },
      { id: 'b', lastSeenMs: NOW - 10 },
    ]);
    expect(beats).toEqual(copy);
  });

  it('judges by the lease it is given: a 1 s lease drops what a 15 s lease keeps', () => {
    const beats = [beat('a', 1500)];
    expect(liveNodes(beats, NOW, 1000)).toEqual([]);
    expect(liveNodes(beats, NOW, 15_000).map((n) => n.id)).toEqual(['a']);
  });
});

describe('heartbeat timing', () => {
  it('beats three times per lease, so one lost beat never drops a node', () => {
    expect(heartbeatIntervalMs(15_000)).toBe(5000);
    expect(heartbeatIntervalMs(1000)).toBe(333);
    expect(3 * heartbeatIntervalMs(1000)).toBeLessThanOrEqual(1000);
  });

  it('keeps dead entries ten leases before removing them', () => {
    expect(retentionMs(15_000)).toBe(150_000);
  });

  it('reconnects after 100 ms, doubling to a 1 s ceiling, with up to 200 ms of jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 40].map((n) => reconnectDelayMs(n, 0))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(reconnectDelayMs(0, 0.999)).toBe(299);
  });
});

describe('node identity', () => {
  it('defaults to hostname:port', () => {
    expect(defaultNodeId('web-1', 9001)).toBe('web-1:9001');
  });

  it('advertises the bound host, or the hostname for a wildcard bind', () => {
    expect(advertisedAddress('127.0.0.1', 9000, 'web-1')).toBe('127.0.0.1:9000');
    expect(advertisedAddress('0.0.0.0', 9000, 'web-1')).toBe('web-1:9000');
    expect(advertisedAddress('::', 9000, 'web-1')).toBe('web-1:9000');
    expect(advertisedAddress('::1', 9000, 'web-1')).toBe('[::1]:9000');
  });
});
