import { describe, expect, it } from 'vitest';
import { cgroupMounts, parseMounts } from '../../../src/environments/sandbox/cgroup-mounts.js';
import { DOCKER_V1, HYBRID, PROC_MOUNTS_V2, V1_WITH_EMPTY_UNIFIED, V2_ONLY } from './mount-samples.js';

describe('reading the mount table', () => {
  it('finds v1 controllers each in its hierarchy, and the v2 hierarchy beside them', () => {
    const mounts = cgroupMounts(parseMounts(V1_WITH_EMPTY_UNIFIED));
    expect(mounts.v2).toBe('/sys/fs/cgroup/unified');
    expect(Object.fromEntries(mounts.v1)).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory',
      devices: '/sys/fs/cgroup/devices',
      pids: '/sys/fs/cgroup/pids',
    });
  });

  it('reads a v2-only machine', () => {
    const mounts = cgroupMounts(parseMounts(V2_ONLY));
    expect(mounts.v2).toBe('/sys/fs/cgroup');
    expect(mounts.v1.size).toBe(0);
  });

  it('reads co-mounted controllers as one hierarchy and skips named ones (name=systemd)', () => {
    const mounts = cgroupMounts(parseMounts(HYBRID));
    expect(mounts.v2).toBe('/sys/fs/cgroup/unified');
    expect(mounts.v1.get('cpu')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(mounts.v1.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(mounts.v1.get('net_prio')).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect([...mounts.v1.keys()]).not.toContain('xattr');
    expect([...mounts.v1.keys()].some((k) => k.includes('systemd'))).toBe(false);
  });

  it("keeps each mount's root, where a container sees only its own subtree", () => {
    const [memory] = parseMounts(DOCKER_V1);
    expect(memory).toEqual({ mountPoint: '/sys/fs/cgroup/memory', root: '/docker/3f1c2e', fsType: 'cgroup', superOptions: ['rw', 'memory'] });
  });

  it('reads /proc/mounts lines as well', () => {
    expect(cgroupMounts(parseMounts(PROC_MOUNTS_V2)).v2).toBe('/sys/fs/cgroup');
  });

  it("undoes the kernel's octal escapes in paths", () => {
    const line = '41 30 0:40 / /mnt/my\\040cgroups\\011x rw - cgroup2 none rw';
    expect(parseMounts(line)[0]?.mountPoint).toBe('/mnt/my cgroups\tx');
  });

  it('takes the first mount of a hierarchy mounted twice', () => {
    const text = `${V2_ONLY}90 23 0:23 / /run/other-view rw - cgroup2 cgroup2 rw\n`;
    expect(cgroupMounts(parseMounts(text)).v2).toBe('/sys/fs/cgroup');
  });

  it('finds nothing on a machine without cgroups', () => {
    expect(cgroupMounts(parseMounts('22 1 254:0 / / rw - ext4 /dev/vda rw\n'))).toEqual({ v1: new Map() });
  });
});
