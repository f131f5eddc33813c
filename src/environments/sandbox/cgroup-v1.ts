/**
 * cgroup v1: one hierarchy per controller (or a few controllers co-mounted, as "cpu,cpuacct"),
 * so a group is a directory in each of the memory, cpu and pids hierarchies and a process joins
 * each of them. Groups live at each hierarchy's mount root, not under the server's own group: the
 * server may sit in a group another tool manages and limits. In the memory and pids hierarchies
 * they sit under the server's parent group (`<mount>/<parent>/<name>`); in the cpu hierarchy
 * beside it (`<mount>/<parent>.<name>`), one level up, because the scheduler walks every level
 * of a woken task's hierarchy: with the groups nested, each write that woke a runtime cost the
 * server's thread 10–14 µs more, flat it costs what waking a process in no group costs
 * (loadtests/src/probes/cgroup-wake-cpu.ts). At the root each environment also weighs as one
 * process against the processes beside it, which under a parent took a weight kept in
 * proportion to the environments (cgroup-parent-weight.ts, still what v2 does).
 */
import { join } from 'node:path';
import { keyedValue, v1MemoryWriteOrder, assertGroupName, type CgroupLimits } from './cgroup-limits.js';
import {
  bracePath,
  childGroups,
  exists,
  KeptControl,
  killUntilEmpty,
  makeGroupDir,
  readBytes,
  readControl,
  removeGroupDir,
  writeControl,
  writeControlSync,
} from './cgroup-files.js';
import type { Cgroup, CgroupProbe, CgroupSupport } from './cgroup-types.js';

/** The controllers an environment is limited by, in the order they are named in messages. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
type Controller = (typeof V1_CONTROLLERS)[number];
type Mounts = Readonly<Record<Controller, string>>;

/** The distinct hierarchies behind the controllers: co-mounted controllers share one directory. */
function hierarchiesOf(mounts: Mounts): string[] {
  return [...new Set(V1_CONTROLLERS.map((c) => mounts[c]))];
}

/** Where `name`'s group of the server's `parent` is in `hierarchy`: beside the parent in the cpu hierarchy, under it elsewhere. */
function groupDir(mounts: Mounts, hierarchy: string, parent: string, name: string): string {
  return hierarchy === mounts.cpu ? join(hierarchy, `${parent}.${name}`) : join(hierarchy, parent, name);
}

/**
 * Uses the v1 hierarchies in `mounts` (controller → mount point) when memory, cpu and pids are
 * all there and the parent group can be created in each.
 */
export async function setUpV1(mounts: ReadonlyMap<string, string>, parent: string): Promise<CgroupProbe> {
  const missing = V1_CONTROLLERS.filter((c) => !mounts.has(c));
  if (missing.length === V1_CONTROLLERS.length) return { ok: false, reason: 'no cgroup v1 hierarchy mounts memory, cpu or pids' };
  if (missing.length > 0) return { ok: false, reason: `cgroup v1 does not mount the ${missing.join(', ')} controller(s)` };
  // A cpu group is `<parent>.<name>`: with a dot in a parent's name, one parent's groups could be
  // taken for another's by removeStale().
  if (parent.includes('.')) throw new TypeError(`parent = ${JSON.stringify(parent)}, must not contain '.'`);
  const layout = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, mounts.get(c) as string])) as Mounts;
  try {
    for (const hierarchy of hierarchiesOf(layout)) await makeGroupDir(join(hierarchy, parent), { recursive: true });
  } catch (err) {
    return { ok: false, reason: `cgroup v1 is not writable: ${(err as Error).message}` };
  }
  return { ok: true, support: new V1Support(layout, parent) };
}

class V1Support implements CgroupSupport {
  readonly version = 'v1';
  readonly parentPaths: readonly string[];
  private readonly hierarchies: string[];

  constructor(
    private readonly mounts: Mounts,
    private readonly parent: string,
  ) {
    this.hierarchies = hierarchiesOf(mounts);
    this.parentPaths = this.hierarchies.map((h) => join(h, parent));
  }

  describe(): string {
    return `cgroup v1 (${V1_CONTROLLERS.join(', ')}) at ${bracePath(this.hierarchies, this.parent)}`;
  }

  async create(name: string, limits: CgroupLimits): Promise<Cgroup> {
    assertGroupName('cgroup name', name);
    const group = this.group(name);
    const made: string[] = [];
    try {
      for (const dir of group.dirs) {
        await makeGroupDir(dir);
        made.push(dir);
      }
      await group.setMemory(limits.memoryBytes);
      await group.setCpu(limits.cpu);
      await writeControl(join(group.dirOf.pids, 'pids.max'), String(limits.pidsMax));
    } catch (err) {
      // A group without all its limits must not run anything. Only what this call made is undone:
      // a group that already had this name is not ours to remove.
      for (const dir of made) await removeGroupDir(dir).catch(() => undefined);
      throw err;
    }
    return group;
  }

  async removeStale(): Promise<number> {
    const names = new Set<string>();
    // Groups an earlier build left under the parent in the cpu hierarchy as well.
    const nested = join(this.mounts.cpu, this.parent);
    for (const name of await childGroups(nested)) {
      const dir = join(nested, name);
      await killUntilEmpty(dir, [join(dir, 'cgroup.procs')]);
      await removeGroupDir(dir);
      names.add(name);
    }
    for (const hierarchy of this.hierarchies) {
      if (hierarchy !== this.mounts.cpu) for (const name of await childGroups(join(hierarchy, this.parent))) names.add(name);
    }
    // The cpu groups beside the parent: named `<parent>.<name>`.
    const prefix = `${this.parent}.`;
    for (const entry of await childGroups(this.mounts.cpu)) if (entry.startsWith(prefix)) names.add(entry.slice(prefix.length));
    for (const name of names) await this.group(name).remove();
    return names.size;
  }

  async dispose(): Promise<void> {
    await this.removeStale();
    for (const dir of this.parentPaths) await removeGroupDir(dir);
  }

  private group(name: string): V1Group {
    const dirOf = Object.fromEntries(V1_CONTROLLERS.map((c) => [c, groupDir(this.mounts, this.mounts[c], this.parent, name)])) as Record<Controller, string>;
    return new V1Group(dirOf);
  }
}

class V1Group implements Cgroup {
  /** One directory per distinct hierarchy (co-mounted controllers share one). */
  readonly dirs: readonly string[];
  readonly procsFiles: readonly string[];
  readonly path: string;
  private readonly peak: KeptControl;

  constructor(readonly dirOf: Readonly<Record<Controller, string>>) {
    this.dirs = [...new Set(V1_CONTROLLERS.map((c) => dirOf[c]))];
    this.procsFiles = this.dirs.map((d) => join(d, 'cgroup.procs'));
    this.path = this.dirs.join(', ');
    this.peak = new KeptControl(this.memoryFile('memory.max_usage_in_bytes'));
  }

  private memoryFile(file: string): string {
    return join(this.dirOf.memory, file);
  }

  async join(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`pid = ${pid}, must be a process id`);
    if (pid === process.pid) throw new RangeError(`pid ${pid} is the server itself, which must stay outside ${this.path}`);
    for (const file of this.procsFiles) await writeControl(file, String(pid));
  }

  /** Memory, and memory + swap where the kernel accounts swap, so the limit cannot be dodged by swapping. */
  async setMemory(bytes: number): Promise<void> {
    const limit = this.memoryFile('memory.limit_in_bytes');
    const memsw = this.memoryFile('memory.memsw.limit_in_bytes');
    if (!exists(memsw)) return writeControl(limit, String(bytes));
    for (const which of v1MemoryWriteOrder(readBytes(limit), bytes)) await writeControl(which === 'limit' ? limit : memsw, String(bytes));
  }

  async setCpu(cpu: CgroupLimits['cpu']): Promise<void> {
    const dir = this.dirOf.cpu;
    if (cpu) await writeControl(join(dir, 'cpu.cfs_period_us'), String(cpu.periodUs));
    await writeControl(join(dir, 'cpu.cfs_quota_us'), cpu ? String(cpu.quotaUs) : '-1');
  }

  peakBytes(): number {
    return this.peak.readBytes();
  }

  currentBytes(): number {
    return readBytes(this.memoryFile('memory.usage_in_bytes'));
  }

  oomKills(): number {
    return keyedValue(readControl(this.memoryFile('memory.oom_control')), 'oom_kill') ?? 0;
  }

  resetPeak(): void {
    // The kernel takes any write as "start again from current usage"; 0 is the documented value.
    writeControlSync(this.memoryFile('memory.max_usage_in_bytes'), '0');
  }

  killAll(): Promise<void> {
    return killUntilEmpty(this.path, this.procsFiles);
  }

  async remove(): Promise<void> {
    await this.killAll();
    this.peak.close();
    for (const dir of this.dirs) await removeGroupDir(dir);
  }
}
