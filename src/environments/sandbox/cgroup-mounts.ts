/**
 * Which cgroup hierarchies a machine mounts, read from the mount table. Pure: the probe passes the
 * text of /proc/self/mountinfo (or /proc/mounts), and tests pass samples of v1, v2-only and hybrid
 * machines.
 */

export interface MountEntry {
  /** Where the file system is mounted, with the kernel's octal escapes undone. */
  mountPoint: string;
  /** The directory of the file system shown at the mount point ("/" unless a bind mount or a cgroup namespace shows a subtree). */
  root: string;
  fsType: string;
  /** Per-superblock options; for cgroup v1 these name the controllers ("rw,cpu,cpuacct"). */
  superOptions: string[];
}

/** The kernel escapes space, tab, newline and backslash in mount paths as \040, \011, \012, \134. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Parses /proc/self/mountinfo lines ("36 35 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup
 * rw,memory") and /proc/mounts lines ("cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0"), telling
 * them apart line by line so either file can be given.
 */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    // mountinfo: ids, then root and mount point, optional fields ending at "-", then type, source, options.
    const separator = fields.indexOf('-', 6);
    if (/^\d+$/.test(fields[0] ?? '') && separator > 0 && fields.length >= separator + 4) {
      entries.push({
        mountPoint: unescapeMountPath(fields[4] as string),
        root: unescapeMountPath(fields[3] as string),
        fsType: fields[separator + 1] as string,
        superOptions: (fields[separator + 3] as string).split(','),
      });
    } else if (fields.length >= 4) {
      entries.push({
        mountPoint: unescapeMountPath(fields[1] as string),
        root: '/',
        fsType: fields[2] as string,
        superOptions: (fields[3] as string).split(','),
      });
    }
  }
  return entries;
}

export interface CgroupMounts {
  /** Mount point of the first cgroup2 file system, if any (it may offer no controllers). */
  v2?: string;
  /** Each mounted cgroup v1 controller (memory, cpu, cpuacct, pids, …) → mount point of its hierarchy. */
  v1: Map<string, string>;
}

/** Mount options that are not controller names. */
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'noprefix', 'xattr']);

/**
 * The cgroup hierarchies in a mount table. A controller mounted twice (a bind mount, a container
 * runtime's extra view) counts at its first mount: both show the same hierarchy.
 */
export function cgroupMounts(entries: readonly MountEntry[]): CgroupMounts {
  const found: CgroupMounts = { v1: new Map() };
  for (const entry of entries) {
    if (entry.fsType === 'cgroup2') {
      found.v2 ??= entry.mountPoint;
    } else if (entry.fsType === 'cgroup') {
      for (const option of entry.superOptions) {
        if (NOT_CONTROLLERS.has(option) || option.includes('=')) continue;
        if (!found.v1.has(option)) found.v1.set(option, entry.mountPoint);
      }
    }
  }
  return found;
}
