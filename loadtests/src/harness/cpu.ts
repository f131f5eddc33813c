/**
 * CPU time per request on each side of a load run, from Linux's per-thread scheduler statistics
 * (/proc/<pid>/task/<tid>/schedstat, whose first field is nanoseconds on a CPU): the server's
 * main thread (HTTP, routing, scheduling), its other threads (thread environments, and the
 * runtime's helper threads: GC, the libuv pool), the processes it started (process environments
 * and everything in their sandboxes), and the load generator (this process). Nanosecond counters
 * per thread, unlike getrusage's tick-rounded totals.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSample {
  /** ns of the process's main thread (tid = pid). */
  main: number;
  /** ns of its other threads. */
  threads: number;
  /** ns of every thread of every descendant process alive at the sample. */
  children: number;
}

/** CPU per request of one run, in µs, by side. */
export interface CpuPerRequest {
  mainUs: number;
  threadsUs: number;
  childrenUs: number;
  loadgenUs: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function tasksOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

function taskNs(pid: number, tid: string): number {
  const first = (read(`/proc/${pid}/task/${tid}/schedstat`) ?? '').split(' ')[0];
  const ns = Number(first);
  return Number.isFinite(ns) ? ns : 0;
}

/** The processes `pid` started (its threads' `children` lists). */
export function childrenOf(pid: number): number[] {
  return tasksOf(pid).flatMap((tid) => (read(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ').filter((s) => s.trim() !== '').map(Number));
}

/** Every process under `pid` alive now, through the kernel's per-thread `children` lists. */
export function descendantsOf(pid: number): number[] {
  const seen = new Set<number>([pid]);
  const out: number[] = [];
  const stack = childrenOf(pid);
  while (stack.length > 0) {
    const child = stack.pop() as number;
    if (seen.has(child)) continue;
    seen.add(child);
    out.push(child);
    stack.push(...childrenOf(child));
  }
  return out;
}

/** One sample of `pid`'s threads and descendants; zeros off Linux or for a process that is gone. */
export function sampleCpu(pid: number): CpuSample {
  const sample: CpuSample = { main: 0, threads: 0, children: 0 };
  for (const tid of tasksOf(pid)) {
    if (tid === String(pid)) sample.main += taskNs(pid, tid);
    else sample.threads += taskNs(pid, tid);
  }
  for (const child of descendantsOf(pid)) for (const tid of tasksOf(child)) sample.children += taskNs(child, tid);
  return sample;
}

/** Starts measuring `serverPid` and this process (the load generator); `stop(requests)` gives µs per request. */
export function meterCpu(serverPid: number): { stop(requests: number): CpuPerRequest | undefined } {
  const server0 = sampleCpu(serverPid);
  const gen0 = sampleCpu(process.pid);
  return {
    stop(requests: number) {
      if (requests <= 0) return undefined;
      const server1 = sampleCpu(serverPid);
      const gen1 = sampleCpu(process.pid);
      const per = (ns: number) => Math.max(0, ns) / 1000 / requests;
      return {
        mainUs: per(server1.main - server0.main),
        threadsUs: per(server1.threads - server0.threads),
        // Only processes alive at both samples are comparable; a warm run starts none.
        childrenUs: per(server1.children - server0.children),
        loadgenUs: per(gen1.main + gen1.threads - gen0.main - gen0.threads),
      };
    },
  };
}
