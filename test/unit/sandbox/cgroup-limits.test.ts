import { describe, expect, it } from 'vitest';
import {
  assertGroupName,
  cpuMaxLine,
  keyedValue,
  limitsFor,
  parentCpuWeight,
  v1MemoryWriteOrder,
  LAMBDA_PIDS_MAX,
} from '../../../src/environments/sandbox/cgroup-limits.js';
import { bracePath } from '../../../src/environments/sandbox/cgroup-files.js';
import { cgroupParentName } from '../../../src/environments/sandbox/cgroups.js';

const MB = 1024 * 1024;

describe('limitsFor', () => {
  it.each([
    // memoryMb, quotaUs: 1,769 MB is one vCPU, i.e. the whole 100 ms period.
    [128, 7236],
    [512, 28943],
    [1024, 57886],
    [1769, 100_000],
    [3538, 200_000],
    [10_240, 578_858],
    [16, 1_000], // 904 µs would be below the 1 ms the kernel accepts
    [1, 1_000],
  ])('%i MB → %i µs of every 100,000 µs', (memoryMb, quotaUs) => {
    expect(limitsFor(memoryMb)).toEqual({ memoryBytes: memoryMb * MB, cpu: { quotaUs, periodUs: 100_000 }, pidsMax: LAMBDA_PIDS_MAX });
  });

  it('leaves CPU unlimited when asked and takes another pids limit', () => {
    expect(limitsFor(64, { cpu: false, pidsMax: 20 })).toEqual({ memoryBytes: 64 * MB, pidsMax: 20 });
    expect(LAMBDA_PIDS_MAX).toBe(1024);
  });

  it.each([0, -128, 1.5, Number.NaN])('refuses memoryMb = %s', (memoryMb) => {
    expect(() => limitsFor(memoryMb)).toThrow(/memoryMb = .*positive whole number/);
  });

  it.each([0, 2.5, -1])('refuses pidsMax = %s', (pidsMax) => {
    expect(() => limitsFor(128, { pidsMax })).toThrow(/pidsMax = .*positive whole number/);
  });
});

describe("the kernel's spelling of limits", () => {
  it('writes cgroup v2 cpu.max as "quota period", or "max period" without a quota', () => {
    expect(cpuMaxLine({ quotaUs: 7236, periodUs: 100_000 })).toBe('7236 100000');
    expect(cpuMaxLine(undefined)).toBe('max 100000');
  });

  it('orders the two v1 memory limits so memory + swap is never below memory', () => {
    const unlimited = 9223372036854771712;
    expect(v1MemoryWriteOrder(unlimited, 64 * MB)).toEqual(['limit', 'memsw']);
    expect(v1MemoryWriteOrder(128 * MB, 64 * MB)).toEqual(['limit', 'memsw']);
    expect(v1MemoryWriteOrder(64 * MB, 64 * MB)).toEqual(['limit', 'memsw']);
    expect(v1MemoryWriteOrder(64 * MB, 128 * MB)).toEqual(['memsw', 'limit']);
  });

  it('reads counters from flat-keyed files, and tells an absent key from zero', () => {
    const oomControl = 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n';
    const events = 'low 0\nhigh 0\nmax 17\noom 1\noom_kill 1\noom_group_kill 1\n';
    expect(keyedValue(oomControl, 'oom_kill')).toBe(2);
    expect(keyedValue(events, 'oom_kill')).toBe(1);
    expect(keyedValue(events, 'max')).toBe(17);
    expect(keyedValue('oom_kill_disable 0\nunder_oom 0\n', 'oom_kill')).toBeUndefined();
  });
});

describe('parentCpuWeight', () => {
  it('counts one ordinary process per live environment, at least one, within what each hierarchy accepts', () => {
    expect(parentCpuWeight('v1', 0)).toBe(1024);
    expect(parentCpuWeight('v1', 1)).toBe(1024);
    expect(parentCpuWeight('v1', 10)).toBe(10_240);
    expect(parentCpuWeight('v1', 1000)).toBe(262_144);
    expect(parentCpuWeight('v2', 0)).toBe(100);
    expect(parentCpuWeight('v2', 7)).toBe(700);
    expect(parentCpuWeight('v2', 500)).toBe(10_000);
  });
});

describe('group names', () => {
  it.each(['', '.', '..', 'a/b', '../x', 'x\ny'])('refuses %j, which would not be one directory', (name) => {
    expect(() => assertGroupName('cgroup name', name)).toThrow(/must be a single directory name/);
  });

  it('accepts environment ids and parent names', () => {
    expect(() => assertGroupName('parent', 'laminar-1a2b3c4d')).not.toThrow();
    expect(() => assertGroupName('cgroup name', 'fn-1.$LATEST-0a9f')).not.toThrow();
  });

  it('names a parent after the data dir: stable, distinct per dir, one directory name', () => {
    const a = cgroupParentName('/var/lib/laminar');
    expect(a).toMatch(/^laminar-[0-9a-f]{8}$/);
    expect(cgroupParentName('/var/lib/laminar/')).toBe(a);
    expect(cgroupParentName('/var/lib/laminar-2')).not.toBe(a);
  });

  it("shows v1 directories in brace form when only the controller's mount differs", () => {
    const mounts = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/pids'];
    expect(bracePath(mounts, 'laminar-x/env')).toBe('/sys/fs/cgroup/{memory,cpu,pids}/laminar-x/env');
    expect(bracePath(['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct'], 'p')).toBe('/sys/fs/cgroup/memory/p, /sys/fs/cgroup/cpu,cpuacct/p');
    expect(bracePath(['/sys/fs/cgroup'], 'laminar-x')).toBe('/sys/fs/cgroup/laminar-x');
    expect(bracePath(['/a/memory', '/b/pids'], 'p')).toBe('/a/memory/p, /b/pids/p');
  });
});
