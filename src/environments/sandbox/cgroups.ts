/**
 * The cgroup driver for execution environments: each environment's process tree runs in a group
 * that holds it to the function's MemorySize, to CPU in Lambda's proportion to memory and to a
 * pids limit, and reports its peak memory (Max Memory Used) and OOM kills.
 *
 * `probeCgroups` finds which hierarchy the machine mounts and prefers cgroup v2 when its root
 * offers memory, cpu and pids; else cgroup v1 (machines that mount v1 controllers next to an
 * empty v2 hierarchy, as systemd's hybrid layout does). Each server owns one parent group named
 * after its data dir, so servers sharing a machine never touch each other's groups, and a
 * restarted server clears what its crashed predecessor left (`removeStale`).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { codeOf } from './cgroup-files.js';
import { assertGroupName } from './cgroup-limits.js';
import { cgroupMounts, parseMounts } from './cgroup-mounts.js';
import type { CgroupProbe } from './cgroup-types.js';
import { setUpV1 } from './cgroup-v1.js';
import { setUpV2 } from './cgroup-v2.js';

export {
  CFS_PERIOD_US,
  LAMBDA_MB_PER_VCPU,
  LAMBDA_PIDS_MAX,
  MIN_CFS_QUOTA_US,
  limitsFor,
  type CgroupLimits,
} from './cgroup-limits.js';
export { cgroupMounts, parseMounts, type CgroupMounts, type MountEntry } from './cgroup-mounts.js';
export { CgroupError } from './cgroup-files.js';
export type { Cgroup, CgroupProbe, CgroupSupport, CgroupVersion } from './cgroup-types.js';

/** The parent group of the server using `dataDir`: stable across restarts, distinct per data dir. */
export function cgroupParentName(dataDir: string): string {
  return `laminar-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

async function readMountTable(mountInfoPath: string | undefined): Promise<{ text: string } | { reason: string }> {
  // /proc/mounts is the fallback for kernels or sandboxes without mountinfo; both list cgroup mounts.
  const candidates = mountInfoPath !== undefined ? [mountInfoPath] : ['/proc/self/mountinfo', '/proc/mounts'];
  let reason = '';
  for (const path of candidates) {
    try {
      return { text: await readFile(path, 'utf8') };
    } catch (err) {
      reason = `cannot read ${path}: ${codeOf(err)}`;
    }
  }
  return { reason };
}

/**
 * Detects the mounted hierarchy from /proc/self/mountinfo (or /proc/mounts) and checks it is
 * writable by creating the parent group.
 *
 * @param options.parent The server's parent group, a single directory name (see `cgroupParentName`).
 * @param options.mountInfoPath A mount table to read instead of the machine's.
 * @param options.root A folder the mount points are taken relative to, so a test can lay out a
 *   cgroup file system in a temporary folder.
 */
export async function probeCgroups(options: { parent: string; mountInfoPath?: string; root?: string }): Promise<CgroupProbe> {
  assertGroupName('parent', options.parent);
  const table = await readMountTable(options.mountInfoPath);
  if ('reason' in table) return { ok: false, reason: `No usable cgroup hierarchy: ${table.reason}` };
  const mounts = cgroupMounts(parseMounts(table.text));
  const at = (mountPoint: string): string => (options.root !== undefined ? join(options.root, mountPoint) : mountPoint);

  const reasons: string[] = [];
  if (mounts.v2 !== undefined) {
    const v2 = await setUpV2(at(mounts.v2), options.parent);
    if (v2.ok) return v2;
    reasons.push(v2.reason);
  } else {
    reasons.push('no cgroup2 file system is mounted');
  }
  const v1 = await setUpV1(new Map([...mounts.v1].map(([controller, mountPoint]) => [controller, at(mountPoint)])), options.parent);
  if (v1.ok) return v1;
  reasons.push(v1.reason);
  return { ok: false, reason: `No usable cgroup hierarchy: ${reasons.join('; ')}` };
}
