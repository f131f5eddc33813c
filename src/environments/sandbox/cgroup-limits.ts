/**
 * What a function's configuration asks of its execution environment's cgroup, and how those
 * numbers are spelled in the kernel's files. Pure: the drivers (`cgroup-v1.ts`, `cgroup-v2.ts`)
 * do the writing.
 */

/** Lambda gives a function one full vCPU at 1,769 MB and CPU in proportion to memory around it. */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The CFS period the quota is a share of: the kernel's default, short enough that a throttled handler stalls for at most this long. */
export const CFS_PERIOD_US = 100_000;

/** The smallest quota both hierarchies accept (cpu.cfs_quota_us and cpu.max refuse less than 1 ms). */
export const MIN_CFS_QUOTA_US = 1_000;

/**
 * Processes and threads one environment may have: Lambda's own quota ("Execution processes/threads:
 * 1,024"). The kernel counts threads as well as processes against pids.max, as Lambda does, and a
 * fork bomb stops there instead of exhausting the host's pid space.
 */
export const LAMBDA_PIDS_MAX = 1024;

export interface CgroupLimits {
  /** Hard memory limit; going past it gets the environment OOM-killed. */
  memoryBytes: number;
  /** CFS quota; absent = no CPU limit. */
  cpu?: { quotaUs: number; periodUs: number };
  pidsMax: number;
}

/** Pure: Lambda's proportion, 1769 MB = one vCPU (period 100 ms, quota at least 1 ms). */
export function limitsFor(memoryMb: number, options: { pidsMax?: number; cpu?: boolean } = {}): CgroupLimits {
  if (!Number.isInteger(memoryMb) || memoryMb <= 0) throw new RangeError(`memoryMb = ${memoryMb}, must be a positive whole number of MB`);
  const pidsMax = options.pidsMax ?? LAMBDA_PIDS_MAX;
  if (!Number.isInteger(pidsMax) || pidsMax <= 0) throw new RangeError(`pidsMax = ${pidsMax}, must be a positive whole number`);
  const limits: CgroupLimits = { memoryBytes: memoryMb * 1024 * 1024, pidsMax };
  if (options.cpu !== false) {
    const quotaUs = Math.max(MIN_CFS_QUOTA_US, Math.round((memoryMb * CFS_PERIOD_US) / LAMBDA_MB_PER_VCPU));
    limits.cpu = { quotaUs, periodUs: CFS_PERIOD_US };
  }
  return limits;
}

/**
 * The CPU weight of the server's parent group with `live` environments in it: as much as that
 * many ordinary processes. On cgroup v2 every environment's group sits under the one parent, and
 * the parent competes with the processes beside it (the server, other programs) by its weight
 * alone; at the default weight ten busy environments would share what one process gets, where
 * the same ten unsandboxed processes would get ten shares. (v1 puts each environment's cpu group
 * at the hierarchy's root instead, where it weighs as one process by default: cgroup-v1.ts.) v1 counts a nice-0 process as 1,024 (cpu.shares,
 * up to 262,144); v2 counts it as 100 (cpu.weight, up to 10,000).
 */
export function parentCpuWeight(version: 'v1' | 'v2', live: number): number {
  const n = Math.max(1, Math.floor(live));
  return version === 'v1' ? Math.min(262_144, 1024 * n) : Math.min(10_000, 100 * n);
}

/** cgroup v2 `cpu.max`: "quota period", or "max period" for no limit. */
export function cpuMaxLine(cpu: CgroupLimits['cpu']): string {
  return cpu ? `${cpu.quotaUs} ${cpu.periodUs}` : `max ${CFS_PERIOD_US}`;
}

/**
 * The order in which cgroup v1's two memory limits must be written. The kernel refuses (EINVAL)
 * any state where memory.memsw.limit_in_bytes (memory + swap) is below memory.limit_in_bytes, so
 * a lower limit goes into limit_in_bytes first and a higher one into memsw first. A new group
 * starts unlimited in both, so its first limit is always a lowering.
 */
export function v1MemoryWriteOrder(currentBytes: number, nextBytes: number): ['limit', 'memsw'] | ['memsw', 'limit'] {
  return nextBytes <= currentBytes ? ['limit', 'memsw'] : ['memsw', 'limit'];
}

/**
 * A value from a flat-keyed cgroup file ("key value" lines: v1 memory.oom_control, v2
 * memory.events, pids.events); undefined when the key is absent (older kernels lack `oom_kill`).
 */
export function keyedValue(text: string, key: string): number | undefined {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return undefined;
}

/**
 * Checks that `name` is one directory name: a group's or a parent's name becomes a path under
 * /sys/fs/cgroup, so a slash or a dot-dot would create or remove groups elsewhere.
 */
export function assertGroupName(what: string, name: string): void {
  if (name === '' || name === '.' || name === '..' || /[/\0\n]/.test(name) || name.length > 200) {
    throw new TypeError(`${what} = ${JSON.stringify(name)}, must be a single directory name (no '/', not '.' or '..')`);
  }
}
