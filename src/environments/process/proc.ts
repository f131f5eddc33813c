/**
 * What Linux's /proc says about a runtime's process group: who is in it, how much memory it has
 * held at its peak, and how to end all of it. Reads are synchronous: /proc is answered from
 * kernel memory, and these run once per invocation or per connection, never per byte.
 */
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), or undefined when it is gone. */
function processGroupOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  return Number.isInteger(pgrp) ? pgrp : undefined;
}

/** Every live process whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of entries) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const pid = Number(name);
    if (processGroupOf(pid) === pgid) out.push(pid);
  }
  return out;
}

/** Sum of the members' peak resident sets (VmHWM), in MB: an upper bound of the group's peak. */
export function groupPeakMb(pgid: number): number {
  let kb = 0;
  for (const pid of groupMembers(pgid)) {
    const m = /VmHWM:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
    if (m) kb += Number(m[1]);
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
