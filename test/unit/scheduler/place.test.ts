/** Table tests for placement: reuse, create (with what it evicts and whether it needs a token), throttle. */
import { describe, expect, it } from 'vitest';
import { mostRecentlyUsed, place, planCreate, type CapacityCandidate, type HostView, type IdleCandidate } from '../../../src/scheduler/placement.js';

interface Env extends IdleCandidate {
  id: string;
}

const idle = (id: string, kind: Env['kind'], lastUsedAt: number, extra: Partial<Env> = {}): Env => ({ id, kind, state: 'idle', lastUsedAt, ...extra });
const host = (environments: CapacityCandidate[], budgetMb = 1024, needMb = 256): HostView => ({ environments, budgetMb, needMb });
const onHost = (id: string, memoryMb: number, lastUsedAt: number, evictable = true): CapacityCandidate => ({ id, memoryMb, lastUsedAt, evictable });

describe('place', () => {
  const cases: { name: string; provisioned?: Env; onDemand?: Env; host: HostView; expected: unknown }[] = [
    {
      name: 'an idle provisioned environment first, even when an on-demand one is idle',
      provisioned: idle('p', 'provisioned', 1),
      onDemand: idle('o', 'on-demand', 9),
      host: host([]),
      expected: { kind: 'reuse', member: idle('p', 'provisioned', 1) },
    },
    {
      name: 'the idle on-demand environment when no provisioned one is idle',
      onDemand: idle('o', 'on-demand', 9),
      host: host([]),
      expected: { kind: 'reuse', member: idle('o', 'on-demand', 9) },
    },
    {
      name: 'a new environment with a scaling-rate token when nothing is idle and it fits',
      host: host([onHost('a', 256, 1)]),
      expected: { kind: 'create', evict: [], needsToken: true },
    },
    {
      name: 'a new environment after evicting the least recently used idle ones, only as many as needed',
      host: host([onHost('new', 256, 30), onHost('old', 256, 10), onHost('mid', 256, 20), onHost('busy', 256, 0, false)], 1024, 512),
      expected: { kind: 'create', evict: ['old', 'mid'], needsToken: true },
    },
    {
      name: 'a host-capacity throttle when evicting every idle environment would not make room',
      host: host([onHost('busy', 896, 0, false), onHost('idle', 128, 0)], 1024, 256),
      expected: { kind: 'throttle', reason: 'LaminarHostCapacityExceeded' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(place({ provisioned: c.provisioned, onDemand: c.onDemand }, () => c.host)).toEqual(c.expected);
    });
  }

  it('reads the host only when it must create', () => {
    let reads = 0;
    const view = () => {
      reads++;
      return host([]);
    };
    place({ onDemand: idle('o', 'on-demand', 1) }, view);
    place({ provisioned: idle('p', 'provisioned', 1) }, view);
    expect(reads).toBe(0);
    place({}, view);
    expect(reads).toBe(1);
  });
});

describe('planCreate', () => {
  it('asks for a token only when told to (provisioned allocation is not paced by the scaling rate)', () => {
    expect(planCreate(host([onHost('old', 1024, 1)]), false)).toEqual({ kind: 'create', evict: ['old'], needsToken: false });
    expect(planCreate(host([onHost('busy', 1024, 1, false)]), false)).toEqual({ kind: 'throttle', reason: 'LaminarHostCapacityExceeded' });
  });
});

describe('mostRecentlyUsed', () => {
  const members: Env[] = [
    idle('old', 'on-demand', 10),
    idle('recent', 'on-demand', 30),
    idle('tie', 'on-demand', 30),
    idle('busy', 'on-demand', 40, { state: 'busy' }),
    idle('initializing', 'on-demand', 45, { state: 'initializing' }),
    idle('leaving', 'on-demand', 50, { retiring: true }),
    idle('pinned', 'provisioned', 5),
  ];
  const cases: { kind: Env['kind']; from: Env[]; expected: string | undefined }[] = [
    { kind: 'on-demand', from: members, expected: 'recent' },
    { kind: 'provisioned', from: members, expected: 'pinned' },
    { kind: 'on-demand', from: members.filter((m) => m.id !== 'recent' && m.id !== 'tie'), expected: 'old' },
    { kind: 'provisioned', from: members.filter((m) => m.kind === 'on-demand'), expected: undefined },
    { kind: 'on-demand', from: [], expected: undefined },
  ];
  for (const [i, c] of cases.entries()) {
    it(`case ${i + 1}: ${c.kind} from ${c.from.map((m) => m.id).join(', ') || 'nothing'} → ${c.expected ?? 'none'}`, () => {
      expect(mostRecentlyUsed(c.from, c.kind)?.id).toBe(c.expected);
    });
  }
});
