import { describe, expect, it } from 'vitest';
import { planCapacity, type CapacityCandidate } from '../../../src/scheduler/placement.js';

const env = (id: string, memoryMb: number, lastUsedAt: number, evictable = true): CapacityCandidate => ({ id, memoryMb, lastUsedAt, evictable });

describe('planCapacity', () => {
  it('fits without evicting when there is room', () => {
    expect(planCapacity([env('a', 128, 1)], 512, 256)).toEqual({ ok: true, evict: [] });
  });

  it('evicts idle environments least recently used first, only as many as needed', () => {
    const envs = [env('new', 128, 30), env('old', 128, 10), env('mid', 128, 20), env('busy', 128, 0, false)];
    expect(planCapacity(envs, 512, 256)).toEqual({ ok: true, evict: ['old', 'mid'] });
  });

  it('refuses when evicting every idle environment would not make room', () => {
    expect(planCapacity([env('busy1', 384, 0, false), env('idle', 128, 0)], 512, 256)).toEqual({ ok: false });
  });
});
