/**
 * Resident memory of a process and everything it started, from Linux's /proc: how much a set of
 * execution environments costs the host, whatever kind they are (threads inside the server,
 * or processes under it).
 */
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.flatMap((tid) => (read(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ').filter((s) => s.trim() !== '').map(Number));
}

/** Sum of VmRSS over `rootPid` and its descendants, in MB; undefined off Linux. */
export function treeRssMb(rootPid: number): number | undefined {
  if (read(`/proc/${rootPid}/status`) === undefined) return undefined;
  let kb = 0;
  const seen = new Set<number>();
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
    if (m) kb += Number(m[1]);
    stack.push(...childrenOf(pid));
  }
  return kb / 1024;
}
