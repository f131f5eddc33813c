import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExecutionEnvironment } from '../../../src/environments/environment.js';
import { FunctionPool, type EnvironmentKind, type PooledEnvironment } from '../../../src/scheduler/function-pool.js';
import { mostRecentlyUsed } from '../../../src/scheduler/placement.js';

const env = (id: string) => ({ id }) as unknown as ExecutionEnvironment;

describe('FunctionPool placement', () => {
  it('takes the most recently used idle environment of the kind asked, never a busy or retiring one', () => {
    const pool = new FunctionPool('f', '$LATEST', 's');
    const old = pool.add(env('old'), 'on-demand', 0);
    const recent = pool.add(env('recent'), 'on-demand', 0);
    const busy = pool.add(env('busy'), 'on-demand', 0);
    const pinned = pool.add(env('pinned'), 'provisioned', 0);
    const leaving = pool.add(env('leaving'), 'on-demand', 0);
    pool.markIdle(recent, 30);
    pool.markIdle(old, 10);
    pool.markIdle(busy, 40);
    pool.markBusy(busy);
    pool.markIdle(pinned, 5);
    pool.markIdle(leaving, 50);
    pool.markRetiring(leaving);

    expect(pool.takeIdle('provisioned')?.env.id).toBe('pinned');
    expect(pool.takeIdle('on-demand')?.env.id).toBe('recent');
    expect(recent.state).toBe('busy');
    expect(pool.takeIdle('on-demand')?.env.id).toBe('old');
    expect(pool.takeIdle('on-demand')).toBeUndefined();
    expect(pool.count('busy')).toBe(4);
  });

  it('among environments idle since the same instant, takes the first added', () => {
    const pool = new FunctionPool('f', '$LATEST', 's');
    const [a, b, c] = ['a', 'b', 'c'].map((id) => pool.add(env(id), 'on-demand', 0)) as [PooledEnvironment, PooledEnvironment, PooledEnvironment];
    pool.markIdle(c, 7);
    pool.markIdle(a, 7);
    pool.markIdle(b, 7);
    expect([pool.takeIdle('on-demand'), pool.takeIdle('on-demand'), pool.takeIdle('on-demand')].map((m) => m?.env.id)).toEqual(['a', 'b', 'c']);
  });

  // The pool keeps its idle members filed as they change instead of walking them per placement:
  // after any sequence of changes it must answer what the pure rule answers over all members.
  it('always answers what mostRecentlyUsed answers over its members', () => {
    type Op =
      | { op: 'add'; kind: EnvironmentKind }
      | { op: 'idle' | 'busy' | 'retire' | 'remove'; pick: number; dt: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), kind: fc.constantFrom<EnvironmentKind>('on-demand', 'provisioned') }),
      fc.record({ op: fc.constantFrom('idle' as const, 'busy' as const, 'retire' as const, 'remove' as const), pick: fc.nat(20), dt: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const pool = new FunctionPool('f', '$LATEST', 's');
        const live: PooledEnvironment[] = [];
        let now = 0;
        for (const [i, o] of ops.entries()) {
          if (o.op === 'add') {
            live.push(pool.add(env(`e${i}`), o.kind, now));
          } else if (live.length > 0) {
            // Time stands still or moves on: ties are as common as in a burst.
            now += o.dt;
            const m = live[o.pick % live.length] as PooledEnvironment;
            if (o.op === 'idle') pool.markIdle(m, now);
            else if (o.op === 'busy') pool.markBusy(m);
            else if (o.op === 'retire') pool.markRetiring(m);
            else {
              pool.remove(m);
              live.splice(live.indexOf(m), 1);
            }
          }
          for (const kind of ['on-demand', 'provisioned'] as const) expect(pool.idle(kind)).toBe(mostRecentlyUsed(pool.members, kind));
        }
      }),
      { numRuns: 300 },
    );
  });
});
