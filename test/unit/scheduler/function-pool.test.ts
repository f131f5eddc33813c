import { describe, expect, it } from 'vitest';
import type { ExecutionEnvironment } from '../../../src/environments/environment.js';
import { FunctionPool } from '../../../src/scheduler/function-pool.js';

const env = (id: string) => ({ id }) as unknown as ExecutionEnvironment;

describe('FunctionPool placement', () => {
  it('takes the most recently used idle environment of the kind asked, never a busy or retiring one', () => {
    const pool = new FunctionPool('f', '$LATEST', 's');
    const old = pool.add(env('old'), 'on-demand', 0);
    const recent = pool.add(env('recent'), 'on-demand', 0);
    const busy = pool.add(env('busy'), 'on-demand', 0);
    const pinned = pool.add(env('pinned'), 'provisioned', 0);
    const leaving = pool.add(env('leaving'), 'on-demand', 0);
    Object.assign(old, { state: 'idle', lastUsedAt: 10 });
    Object.assign(recent, { state: 'idle', lastUsedAt: 30 });
    Object.assign(busy, { state: 'busy', lastUsedAt: 40 });
    Object.assign(pinned, { state: 'idle', lastUsedAt: 5 });
    Object.assign(leaving, { state: 'idle', lastUsedAt: 50, retiring: true });

    expect(pool.takeIdle('provisioned')?.env.id).toBe('pinned');
    expect(pool.takeIdle('on-demand')?.env.id).toBe('recent');
    expect(recent.state).toBe('busy');
    expect(pool.takeIdle('on-demand')?.env.id).toBe('old');
    expect(pool.takeIdle('on-demand')).toBeUndefined();
    expect(pool.count('busy')).toBe(4);
  });
});
