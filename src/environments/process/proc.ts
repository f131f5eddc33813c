/**
 * What Linux's /proc says about a runtime's processes: how much memory they have held at their
 * peak, and how to end all of them. Reads are synchronous: /proc is answered from kernel memory,
 * and these run once per invocation, never per byte.
 */
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The children of every thread of `pid`, from the kernel's per-thread `children` lists. */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    for (const c of (read(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ')) if (c.trim() !== '') out.push(Number(c));
  }
  return out;
}

/**
 * Sum of the peak resident sets (VmHWM) of `rootPid` and its descendants, in MB: an upper bound
 * of the tree's peak. Walks the tree through its `children` lists (a few reads per process), not
 * all of /proc, because it runs after every invocation on the server's event loop.
 */
export function treePeakMb(rootPid: number): number {
  return treeSumMb(rootPid, /VmHWM:\s+(\d+) kB/);
}

/**
 * Memory the processes of `rootPid`'s tree hold of their own (anonymous and shared-memory pages,
 * RssAnon + RssShmem), in MB. Pages of shared files (libc, the runtime's binary) are left out:
 * summed over a thousand processes they would count the same file a thousand times.
 */
export function treeRssMb(rootPid: number): number {
  return treeSumMb(rootPid, /(?:RssAnon|RssShmem):\s+(\d+) kB/g, Infinity);
}

function treeSumMb(rootPid: number, field: RegExp, maxProcesses = 1024): number {
  let kb = 0;
  const seen = new Set<number>();
  const stack = [rootPid];
  while (stack.length > 0 && seen.size < maxProcesses) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    for (const m of (read(`/proc/${pid}/status`) ?? '').matchAll(new RegExp(field.source, 'g'))) kb += Number(m[1]);
    stack.push(...childrenOf(pid));
  }
  return Math.ceil(kb / 1024);
}

/** SIGKILL to the whole group; true when anything was there to kill. */
export function killGroup(pgid: number): boolean {
  // -0 and -1 would be the caller's own group and every process it may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Peak resident set (VmHWM) of one process, in MB; 0 when it is gone. */
export function processPeakMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Math.ceil(Number(m[1]) / 1024) : 0;
}
