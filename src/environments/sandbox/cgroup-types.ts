/**
 * The cgroup driver's ports: one group per execution environment, made by a `CgroupSupport` that
 * owns one parent group per Laminar server. Both hierarchies (v1, v2) implement them.
 */
import type { CgroupLimits } from './cgroup-limits.js';

export type CgroupVersion = 'v1' | 'v2';

/** One execution environment's group: its limits, its usage, and the means to end it. */
export interface Cgroup {
  /** Where the group lives, for messages (v1: every controller's directory, in brace form). */
  readonly path: string;
  /**
   * The cgroup.procs files a new process must be written into (one per v1 controller, one for
   * v2). A launcher writes its own pid into each before it execs the runtime, so everything the
   * runtime allocates is charged here: v1 does not move charges made before a `join`.
   */
  readonly procsFiles: readonly string[];
  /** Moves a process into the group (writes its pid into every procsFiles). */
  join(pid: number): Promise<void>;
  /** Changes the CPU quota (e.g. after Init); undefined lifts it. */
  setCpu(cpu: CgroupLimits['cpu']): Promise<void>;
  /** Highest memory use since creation or `resetPeak`, in bytes (v1 memory.max_usage_in_bytes, v2 memory.peak or else memory.current). */
  peakBytes(): number;
  currentBytes(): number;
  /** Processes the kernel's OOM killer has killed in this group (0 where the kernel does not count them). */
  oomKills(): number;
  /** Starts a new peak from current use (per invocation); absent where the kernel cannot (v2 before Linux 6.12). */
  resetPeak?(): void;
  /** SIGKILLs every process in the group until it is empty (v2: cgroup.kill when present). */
  killAll(): Promise<void>;
  /** Kills what is left, then removes the group's directories. Safe to call twice. */
  remove(): Promise<void>;
}

/** A usable hierarchy with this server's parent group in it. */
export interface CgroupSupport {
  readonly version: CgroupVersion;
  /** The parent group's directories (one per v1 controller, one for v2). */
  readonly parentPaths: readonly string[];
  /** e.g. "cgroup v1 (memory, cpu, pids) at /sys/fs/cgroup/{memory,cpu,pids}/laminar-ab12cd34" */
  describe(): string;
  /** Creates the group `name` under the parent with these limits; an existing group of that name is an error. */
  create(name: string, limits: CgroupLimits): Promise<Cgroup>;
  /** Kills and removes every group left under this parent by an earlier server (crash + restart). Returns how many. */
  removeStale(): Promise<number>;
  /** Removes every group under the parent, then the parent itself (a server that will not come back, a test). */
  dispose(): Promise<void>;
}

export type CgroupProbe = { ok: true; support: CgroupSupport } | { ok: false; reason: string };
