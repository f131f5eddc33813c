/** Table tests for provisioned concurrency's rule: what to let go, how many to create, the status. */
import { describe, expect, it } from 'vitest';
import type { InitResult } from '../../../src/environments/environment.js';
import type { EnvironmentState } from '../../../src/scheduler/function-pool.js';
import { capacityFailure, initFailure, planReconcile, usable, type PlanMember } from '../../../src/scheduler/provisioned-plan.js';

interface M extends PlanMember {
  id: string;
}

const m = (id: string, version: string, state: EnvironmentState = 'idle', retiring = false): M => ({ id, state, retiring, pool: { version } });
const ids = (ms: M[]) => ms.map((x) => x.id);

describe('planReconcile', () => {
  const cases: { name: string; version?: string; requested: number; members: M[]; release: string[]; create: number; stale: string[]; status: string }[] = [
    { name: 'a new config creates every environment', requested: 3, members: [], release: [], create: 3, stale: [], status: 'IN_PROGRESS' },
    { name: 'a config at its count is READY', requested: 2, members: [m('a', '1'), m('b', '1', 'busy')], release: [], create: 0, stale: [], status: 'READY' },
    {
      name: 'environments still initialising count toward the request, and keep the config IN_PROGRESS',
      requested: 2,
      members: [m('a', '1', 'initializing'), m('b', '1')],
      release: [],
      create: 0,
      stale: [],
      status: 'IN_PROGRESS',
    },
    {
      name: 'an initialising environment let go does not hold the config IN_PROGRESS',
      requested: 1,
      members: [m('a', '1', 'initializing'), m('b', '1')],
      release: ['a'],
      create: 0,
      stale: [],
      status: 'READY',
    },
    { name: 'growing creates only the missing ones', requested: 4, members: [m('a', '1'), m('b', '1')], release: [], create: 2, stale: [], status: 'IN_PROGRESS' },
    {
      name: 'shrinking lets idle ones go before busy ones, in order',
      requested: 1,
      members: [m('busy1', '1', 'busy'), m('idle1', '1'), m('busy2', '1', 'busy'), m('init', '1', 'initializing')],
      release: ['idle1', 'init', 'busy1'],
      create: 0,
      stale: [],
      status: 'READY',
    },
    {
      name: 'after the alias moved, the old version is stale and the new one is created',
      version: '2',
      requested: 2,
      members: [m('old1', '1'), m('old2', '1', 'busy')],
      release: [],
      create: 2,
      stale: ['old1', 'old2'],
      status: 'IN_PROGRESS',
    },
    {
      name: 'an environment being let go is neither counted nor stale',
      version: '2',
      requested: 2,
      members: [m('leaving', '2', 'busy', true), m('a', '2')],
      release: [],
      create: 1,
      stale: [],
      status: 'IN_PROGRESS',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planReconcile(c.requested, c.version ?? '1', c.members);
      expect({ release: ids(plan.release), create: plan.create, stale: ids(plan.stale), status: plan.status }).toEqual({
        release: c.release,
        create: c.create,
        stale: c.stale,
        status: c.status,
      });
    });
  }
});

describe('usable', () => {
  it('counts environments that finished Init on the version and are not being let go', () => {
    const members = [m('ready', '2'), m('busy', '2', 'busy'), m('init', '2', 'initializing'), m('leaving', '2', 'busy', true), m('old', '1')];
    expect(ids(usable(members, '2'))).toEqual(['ready', 'busy']);
  });
});

describe('status reasons', () => {
  const ok: InitResult = { ok: true, initDurationMs: 1, logs: '' };
  it('names the first failed Init with its type and message', () => {
    const failed: InitResult = { ok: false, initDurationMs: 1, logs: '', error: { errorType: 'Runtime.ImportModuleError', errorMessage: "Cannot find module 'x'" } };
    expect(initFailure([ok, failed])).toBe("FUNCTION_ERROR_INIT_FAILURE: Runtime.ImportModuleError: Cannot find module 'x'");
    expect(initFailure([ok, { ok: false, initDurationMs: 1, logs: '' }])).toBe('FUNCTION_ERROR_INIT_FAILURE: Runtime.Unknown:');
    expect(initFailure([ok, ok])).toBeUndefined();
  });

  it('says how many environments of which size the host cannot fit', () => {
    expect(capacityFailure(3, 512)).toBe("The Laminar host's memory budget cannot fit 3 more environments of 512 MB.");
  });
});
