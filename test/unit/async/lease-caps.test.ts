import { describe, expect, it } from 'vitest';
import { leaseCaps, type CapInputs } from '../../../src/async/lease-caps.js';

function inputs(over: Partial<CapInputs> & { inFlight?: Record<string, number> } = {}): CapInputs {
  const inFlight = new Map(Object.entries(over.inFlight ?? {}));
  return {
    reserved: new Map(),
    concurrency: (fn) => inFlight.get(fn) ?? 0,
    running: new Map(),
    unreservedPool: 100,
    unreservedUsed: 0,
    runningUnreserved: 0,
    ...over,
  };
}

describe('leaseCaps', () => {
  // [name, inputs, caps expected for named functions, defaultCap expected]
  const table: [string, Partial<CapInputs> & { inFlight?: Record<string, number> }, Record<string, number>, number | undefined][] = [
    ['nothing reserved, pool free: no caps at all', {}, {}, undefined],
    ['a reservation is the cap when nothing else runs', { reserved: new Map([['a', 10]]) }, { a: 10 }, undefined],
    ['our own attempts do not lower the cap (the queue counts them as leases)', { reserved: new Map([['a', 10]]), inFlight: { a: 4 }, running: new Map([['a', 4]]) }, { a: 10 }, undefined],
    ['synchronous invokes of the function lower it', { reserved: new Map([['a', 10]]), inFlight: { a: 7 }, running: new Map([['a', 4]]) }, { a: 7 }, undefined],
    ['synchronous invokes filling the reservation: 0', { reserved: new Map([['a', 3]]), inFlight: { a: 3 } }, { a: 0 }, undefined],
    ['never negative', { reserved: new Map([['a', 3]]), inFlight: { a: 5 } }, { a: 0 }, undefined],
    ['a moment when ours are counted but the ledger has let go: no negative others', { reserved: new Map([['a', 3]]), inFlight: { a: 1 }, running: new Map([['a', 2]]) }, { a: 3 }, undefined],
    ['reservation 0 is not capped: its events are leased to be dropped', { reserved: new Map([['z', 0]]) }, { z: Number.MAX_SAFE_INTEGER }, undefined],
    ['unreserved pool full: the default cap is 0', { unreservedUsed: 100 }, {}, 0],
    ['our unreserved attempts hold half the pool: 0, synchronous invokes keep the rest', { unreservedUsed: 50, runningUnreserved: 50 }, {}, 0],
    ['below half: no cap', { unreservedUsed: 80, runningUnreserved: 49 }, {}, undefined],
    ['a pool of 1 still lets one event run', { unreservedPool: 1 }, {}, undefined],
    ['a pool of 1 in use by our one attempt: 0', { unreservedPool: 1, unreservedUsed: 1, runningUnreserved: 1 }, {}, 0],
    ['reserved functions are capped by their reservation even when the pool is full', { reserved: new Map([['a', 2]]), unreservedUsed: 100 }, { a: 2 }, 0],
  ];
  for (const [name, over, caps, defaultCap] of table) {
    it(name, () => {
      const out = leaseCaps(inputs(over));
      expect(Object.fromEntries(out.caps)).toEqual(caps);
      expect(out.defaultCap).toBe(defaultCap);
    });
  }
});
