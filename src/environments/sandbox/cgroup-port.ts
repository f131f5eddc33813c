/**
 * The cgroups a server's sandboxes use: the machine's hierarchy probed once at start, this data
 * dir's leftovers from a crashed server removed, or the reason there are none.
 */
import { cgroupParentName, probeCgroups, type CgroupSupport } from './cgroups.js';

export async function openCgroups(dataDir: string): Promise<CgroupSupport | { unavailable: string }> {
  try {
    const probe = await probeCgroups({ parent: cgroupParentName(dataDir) });
    if (!probe.ok) return { unavailable: probe.reason };
    // Groups of an earlier server on this data dir that died without removing them.
    await probe.support.removeStale();
    return probe.support;
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}
