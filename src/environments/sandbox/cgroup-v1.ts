/**
 * cgroup v1: one hierarchy per controller (or a few controllers co-mounted, as "cpu,cpuacct"),
 * so a group is a directory in each of the memory, cpu and pids hierarchies and a process joins
 * each of them. Groups live at each hierarchy's mount root (`<mount>/<parent>/<name>`), not under
 * the server's own group: the server may sit in a group another tool manages and limits.
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
import { ParentCpuWeight } from './cgroup-parent-weight.js';
import type { Cgroup, CgroupProbe, CgroupSupport } from './cgroup-types.js';

/** The controllers an environment is limited by, in the order they are named in messages. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;
type Controller = (typeof V1_CONTROLLERS)[number];
type Mounts = Readonly<Record<Controller, string>>;

/** The distinct hierarchies behind the controllers: co-mounted controllers share one directory. */
function hierarchiesOf(mounts: Mounts): string[] {
  return [...new Set(V1_CONTROLLERS.map((c) => mounts[c]))];
}

/**
 * Uses the v1 hierarchies in `mounts` (controller → mount point) when memory, cpu and pids are
 * all there and the parent group can be created in each.
 */
export async function setUpV1(mounts: ReadonlyMap<string, string>, parent: string): Promise<CgroupProbe> {
  const missing = V1_CONTROLLERS.filter((c) => !mounts.has(c));
  if (missing.length === V1_CONTROLLERS.length) return { ok: false, reason: 'no cgroup v1 hierarchy mounts memory, cpu or pids' };
  if (missing.length > 0) return { ok: false, reason: `cgroup v1 does not mount the ${missing.join(', ')} controller(s)` };
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
  private readonly weight: ParentCpuWeight;

  constructor(
    private readonly mounts: Mounts,
    private readonly parent: string,
  ) {
    this.hierarchies = hierarchiesOf(mounts);
    this.parentPaths = this.hierarchies.map((h) => join(h, parent));
    this.weight = new ParentCpuWeight(join(mounts.cpu, parent, 'cpu.shares'), 'v1');
  }

  describe(): string {
    return `cgroup v1 (${V1_CONTROLLERS.join(', ')}) at ${bracePath(this.hierarchies, this.parent)}`;
  }

  async create(name: string, limits: CgroupLimits): Promise<Cgroup> {
    assertGroupName('cgroup name', name);
    const group = this.group(name, () => this.weight.removed());
    const made: string[] = [];
    try {
      for (const dir of group.dirs) {
        await makeGroupDir(dir);
        made.push(dir);
      }
      await group.setMemory(limits.memoryBytes);
      await group.setCpu(limits.cpu);
      await writeControl(join(group.dirOf('pids'), 'pids.max'), String(limits.pidsMax));
    } catch (err) {
      // A group without all its limits must not run anything. Only what this call made is undone:
      // a group that already had this name is not ours to remove.
      for (const dir of made) await removeGroupDir(dir).catch(() => undefined);
      throw err;
    }
    await this.weight.added();
    return group;
  }

  async removeStale(): Promise<number> {
    const names = new Set<string>();
    for (const dir of this.parentPaths) for (const name of await childGroups(dir)) names.add(name);
    for (const name of names) await this.group(name).remove();
    return names.size;
  }

  async dispose(): Promise<void> {
    await this.removeStale();
    for (const dir of this.parentPaths) await removeGroupDir(dir);
  }

  private group(name: string, onRemoved?: () => Promise<void>): V1Group {
    return new V1Group(this.mounts, join(this.parent, name), bracePath(this.hierarchies, join(this.parent, name)), onRemoved);
  }
}

class V1Group implements Cgroup {
  /** One directory per distinct hierarchy. */
  readonly dirs: readonly string[];
  readonly procsFiles: readonly string[];
  private readonly peak: KeptControl;

  constructor(
    private readonly mounts: Mounts,
    private readonly relative: string,
    readonly path: string,
    /** Called once, when the group's directories are gone. */
    private onRemoved?: () => Promise<void>,
  ) {
    this.dirs = hierarchiesOf(mounts).map((h) => join(h, relative));
    this.procsFiles = this.dirs.map((d) => join(d, 'cgroup.procs'));
    this.peak = new KeptControl(this.memoryFile('memory.max_usage_in_bytes'));
  }

  dirOf(controller: Controller): string {
    return join(this.mounts[controller], this.relative);
  }

  private memoryFile(file: string): string {
    return join(this.dirOf('memory'), file);
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
    const dir = this.dirOf('cpu');
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
    const removed = this.onRemoved;
    this.onRemoved = undefined;
    await removed?.();
  }
}
