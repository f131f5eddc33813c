/**
 * cgroup v2: one hierarchy, one directory per group. Controllers reach a group only when its
 * parent enables them in cgroup.subtree_control, so the server's parent group sits at the mount
 * root (`<mount>/<parent>`), enables memory, cpu and pids for its children, and holds no process
 * itself (v2 refuses controllers to children of a group that has processes).
 *
 * The mount point is a parameter, so the file protocol can be exercised against a folder laid
 * out like a cgroup2 mount on machines whose v2 hierarchy has no controllers.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { assertGroupName, cpuMaxLine, keyedValue, type CgroupLimits } from './cgroup-limits.js';
import {
  childGroups,
  exists,
  KeptControl,
  killUntilEmpty,
  makeGroupDir,
  readBytes,
  readControl,
  removeGroupDir,
  writeControl,
} from './cgroup-files.js';
import { ParentCpuWeight } from './cgroup-parent-weight.js';
import type { Cgroup, CgroupProbe, CgroupSupport } from './cgroup-types.js';

export const V2_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

/** Interface files that depend on the kernel's version and configuration, found once on the parent group. */
export interface V2Features {
  /** memory.swap.max: present when swap is accounted. */
  swapMax: boolean;
  /** memory.oom.group (4.19): an OOM kill takes the whole group, as Lambda ends the whole environment. */
  oomGroup: boolean;
  /** cgroup.kill (5.14): one write kills the group, forks in flight included. */
  kill: boolean;
  /** memory.peak (5.19); without it the peak falls back to memory.current. */
  peak: boolean;
  /** memory.peak is writable (6.12): a write restarts the peak, for reads through the same descriptor. */
  peakResettable: boolean;
}

function detectFeatures(parentDir: string): V2Features {
  const mode = (file: string): number | undefined => {
    try {
      return statSync(join(parentDir, file)).mode;
    } catch {
      return undefined;
    }
  };
  const peakMode = mode('memory.peak');
  return {
    swapMax: mode('memory.swap.max') !== undefined,
    oomGroup: mode('memory.oom.group') !== undefined,
    kill: mode('cgroup.kill') !== undefined,
    peak: peakMode !== undefined,
    peakResettable: peakMode !== undefined && (peakMode & 0o200) !== 0,
  };
}

function words(file: string): string[] {
  return readControl(file).trim().split(/\s+/).filter((w) => w !== '');
}

/**
 * Uses the cgroup2 hierarchy mounted at `mount` when it offers memory, cpu and pids: enables them
 * below the root, creates the parent group and enables them below it.
 */
export async function setUpV2(mount: string, parent: string): Promise<CgroupProbe> {
  try {
    const offered = words(join(mount, 'cgroup.controllers'));
    const absent = V2_CONTROLLERS.filter((c) => !offered.includes(c));
    if (absent.length > 0) {
      return {
        ok: false,
        reason:
          `cgroup v2 at ${mount} offers ${offered.length > 0 ? offered.join(' ') : 'no controllers'} in cgroup.controllers; ` +
          `${absent.join(', ')} missing (on a hybrid machine they are bound to cgroup v1 hierarchies)`,
      };
    }
    const rootSubtree = join(mount, 'cgroup.subtree_control');
    const enabled = words(rootSubtree);
    const toEnable = V2_CONTROLLERS.filter((c) => !enabled.includes(c));
    if (toEnable.length > 0) await writeControl(rootSubtree, toEnable.map((c) => `+${c}`).join(' '));
    const parentDir = join(mount, parent);
    await makeGroupDir(parentDir, { recursive: true });
    await writeControl(join(parentDir, 'cgroup.subtree_control'), V2_CONTROLLERS.map((c) => `+${c}`).join(' '));
    return { ok: true, support: new V2Support(parentDir, detectFeatures(parentDir)) };
  } catch (err) {
    return { ok: false, reason: `cgroup v2 at ${mount} is not usable: ${(err as Error).message}` };
  }
}

class V2Support implements CgroupSupport {
  readonly version = 'v2';
  readonly parentPaths: readonly string[];
  private readonly weight: ParentCpuWeight;

  constructor(
    private readonly parentDir: string,
    readonly features: V2Features,
  ) {
    this.parentPaths = [parentDir];
    this.weight = new ParentCpuWeight(join(parentDir, 'cpu.weight'), 'v2');
  }

  describe(): string {
    return `cgroup v2 (${V2_CONTROLLERS.join(', ')}) at ${this.parentDir}`;
  }

  async create(name: string, limits: CgroupLimits): Promise<Cgroup> {
    assertGroupName('cgroup name', name);
    const group = new V2Group(join(this.parentDir, name), this.features, () => this.weight.removed());
    await makeGroupDir(group.path);
    try {
      await writeControl(group.file('memory.max'), String(limits.memoryBytes));
      // No swapping past the limit: the limit is what the function is sold, as on Lambda.
      if (this.features.swapMax) await writeControl(group.file('memory.swap.max'), '0');
      if (this.features.oomGroup) await writeControl(group.file('memory.oom.group'), '1');
      await group.setCpu(limits.cpu);
      await writeControl(group.file('pids.max'), String(limits.pidsMax));
    } catch (err) {
      // A group without all its limits must not run anything.
      await removeGroupDir(group.path).catch(() => undefined);
      throw err;
    }
    await this.weight.added();
    return group;
  }

  async removeStale(): Promise<number> {
    const names = await childGroups(this.parentDir);
    for (const name of names) await new V2Group(join(this.parentDir, name), this.features).remove();
    return names.length;
  }

  async dispose(): Promise<void> {
    await this.removeStale();
    await removeGroupDir(this.parentDir);
  }
}

class V2Group implements Cgroup {
  readonly procsFiles: readonly string[];
  readonly resetPeak?: () => void;
  /** memory.peak stays open: since 6.12 a reset is per descriptor, so reads must use the one that reset. */
  private readonly peak: KeptControl;

  constructor(
    readonly path: string,
    private readonly features: V2Features,
    /** Called once, when the group's directory is gone. */
    private onRemoved?: () => Promise<void>,
  ) {
    this.procsFiles = [this.file('cgroup.procs')];
    this.peak = new KeptControl(this.file('memory.peak'), features.peakResettable);
    if (features.peakResettable) {
      this.resetPeak = () => {
        this.peak.write('reset');
      };
    }
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async join(pid: number): Promise<void> {
    if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`pid = ${pid}, must be a process id`);
    if (pid === process.pid) throw new RangeError(`pid ${pid} is the server itself, which must stay outside ${this.path}`);
    await writeControl(this.file('cgroup.procs'), String(pid));
  }

  setCpu(cpu: CgroupLimits['cpu']): Promise<void> {
    return writeControl(this.file('cpu.max'), cpuMaxLine(cpu));
  }

  peakBytes(): number {
    return this.features.peak ? this.peak.readBytes() : this.currentBytes();
  }

  currentBytes(): number {
    return readBytes(this.file('memory.current'));
  }

  oomKills(): number {
    return keyedValue(readControl(this.file('memory.events')), 'oom_kill') ?? 0;
  }

  async killAll(): Promise<void> {
    // cgroup.kill also stops forks racing the kill; the signal loop then waits for the group to
    // empty (and is the whole kill on kernels without cgroup.kill).
    if (this.features.kill && exists(this.file('cgroup.kill'))) await writeControl(this.file('cgroup.kill'), '1');
    await killUntilEmpty(this.path, this.procsFiles);
  }

  async remove(): Promise<void> {
    await this.killAll();
    this.peak.close();
    await removeGroupDir(this.path);
    const removed = this.onRemoved;
    this.onRemoved = undefined;
    await removed?.();
  }
}
