/** Table tests for how a cluster spreads a provisioned config over its live nodes. */
import { describe, expect, it } from 'vitest';
import { configKey, hash32, shareOf } from '../../../src/cluster/provisioned-share.js';

const shares = (nodes: string[], n: number, key: string) => nodes.map((id) => shareOf(nodes, id, n, key));

describe('shareOf', () => {
  const three = ['node-a', 'node-b', 'node-c'];
  const cases: { name: string; nodes: string[]; requested: number; counts: number[] }[] = [
    { name: 'one node keeps everything', nodes: ['solo'], requested: 7, counts: [7] },
    { name: '6 over 3 nodes is 2 each', nodes: three, requested: 6, counts: [2, 2, 2] },
    { name: '5 over 3 nodes is 2/2/1', nodes: three, requested: 5, counts: [1, 2, 2] },
    { name: '1 over 3 nodes lands on one of them', nodes: three, requested: 1, counts: [0, 0, 1] },
    { name: '2 over 3 nodes lands on two of them', nodes: three, requested: 2, counts: [0, 1, 1] },
    { name: '3 over 2 nodes is 2/1', nodes: ['x', 'y'], requested: 3, counts: [1, 2] },
    { name: '1000 over 7 nodes differ by at most one', nodes: ['1', '2', '3', '4', '5', '6', '7'], requested: 1000, counts: [142, 143, 143, 143, 143, 143, 143] },
    { name: 'nothing requested, nothing kept', nodes: three, requested: 0, counts: [0, 0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = shares(c.nodes, c.requested, configKey('fn', 'live'));
      expect([...got].sort((a, b) => a - b)).toEqual(c.counts);
      expect(got.reduce((a, b) => a + b, 0)).toBe(c.requested);
    });
  }

  it('a node that is not live keeps nothing', () => {
    expect(shareOf(three, 'node-d', 5, configKey('fn', '1'))).toBe(0);
    expect(shareOf([], 'node-a', 5, configKey('fn', '1'))).toBe(0);
  });

  it('every node computes the same split, whatever the config and cluster size', () => {
    for (let k = 1; k <= 6; k++) {
      const nodes = Array.from({ length: k }, (_, i) => `n${i}`);
      for (let n = 0; n <= 20; n++) {
        for (const key of ['a:1', 'b:live', 'c:2']) {
          const got = shares(nodes, n, key);
          expect(got.reduce((a, b) => a + b, 0)).toBe(n);
          expect(Math.max(...got) - Math.min(...got)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('the remainders of different configs start at different nodes', () => {
    // Configs of 1 over three nodes: with the offset hashed from the config, they do not all
    // land on the first node.
    const holders = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const key = configKey(`fn-${i}`, 'live');
      const holder = three.find((id) => shareOf(three, id, 1, key) === 1);
      expect(holder).toBeDefined();
      holders.add(holder as string);
    }
    expect(holders).toEqual(new Set(three));
  });

  it('the offset depends only on the config key (FNV-1a)', () => {
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
    expect(hash32('foobar')).toBe(0xbf9cf968);
    expect(configKey('fn', '3')).toBe('fn:3');
  });
});
