/**
 * The host's own view of its processes, read from /proc, for tests that check what a function
 * left running or reached: processes by a marker in their command line or by a variable they
 * inherited (inside a sandbox a runtime sees only its own PID namespace, so an environment is
 * found by its log stream name), the descendants of a process, the host pid of a process known by
 * its pid inside a PID namespace, and a bounded wait.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface HostProcess {
  pid: number;
  argv: string[];
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process of the host that is still running (zombies, already dead, are left out). */
export function hostProcesses(): HostProcess[] {
  const out: HostProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const cmdline = read(`/proc/${pid}/cmdline`);
    if (cmdline === undefined || cmdline === '' || !running(pid)) continue;
    out.push({ pid, argv: cmdline.split('\0').filter((a) => a !== '') });
  }
  return out;
}

/** The running processes with `marker` as one of their arguments. */
export function processesWith(marker: string): HostProcess[] {
  return hostProcesses().filter((p) => p.argv.includes(marker));
}

/** Whether `pid` exists and is not a zombie. */
export function running(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/**
 * Whether `p` has ended: its pid no longer runs, or now runs something else (pids are reused).
 * A process still exiting has no command line left, but is not gone until the kernel says so.
 */
export function gone(p: HostProcess): boolean {
  if (!running(p.pid)) return true;
  const argv = (read(`/proc/${p.pid}/cmdline`) ?? '').split('\0').filter((a) => a !== '');
  return argv.length > 0 && argv.join('\0') !== p.argv.join('\0');
}

/** The descendants of `pid`, breadth first, from the kernel's per-thread `children` lists. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${parent}/task`);
    } catch {
      // gone
    }
    for (const tid of tids) {
      for (const child of (read(`/proc/${parent}/task/${tid}/children`) ?? '').split(' ')) {
        if (child.trim() === '') continue;
        out.push(Number(child));
        queue.push(Number(child));
      }
    }
  }
  return out;
}

/**
 * The host pid of the descendant of `rootPid` that its own PID namespace calls `nsPid`
 * (the last field of NSpid in /proc/<pid>/status).
 */
export function hostPidOf(rootPid: number, nsPid: number): number | undefined {
  return descendants(rootPid).find((pid) => {
    const line = /^NSpid:\s+(.+)$/m.exec(read(`/proc/${pid}/status`) ?? '');
    return line !== null && Number(line[1]?.trim().split(/\s+/).pop()) === nsPid;
  });
}

/** The numeric uid of `pid` (its real uid), or undefined when it is gone. */
export function uidOf(pid: number): number | undefined {
  const m = /^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * Polls `probe` until it returns something other than undefined or false, and returns that;
 * fails after `timeoutMs`, naming what it waited for.
 */
export async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Host pids of the running processes whose environment holds `name=value`. */
export function processesWithVariable(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = read(`/proc/${entry}/environ`);
    if (environ === undefined || !environ.split('\0').includes(needle)) continue;
    if (running(Number(entry))) out.push(Number(entry));
  }
  return out;
}

/** Host pids of the processes of the environment that writes to log stream `stream`. */
export function environmentProcesses(stream: string): number[] {
  return processesWithVariable('AWS_LAMBDA_LOG_STREAM_NAME', stream);
}

/** The parent of `pid` on the host, from /proc; undefined once it is gone. */
export function parentOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Whether `pid` descends from `ancestor` on the host. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, i = 0; p !== undefined && p > 1 && i < 64; i++) {
    p = parentOf(p);
    if (p === ancestor) return true;
  }
  return false;
}

/** Resolves once no process of the environment writing to `stream` runs; fails after `ms`. */
export async function environmentGone(stream: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const left = environmentProcesses(stream);
    if (left.length === 0) return;
    if (Date.now() > until) throw new Error(`processes of ${stream} still running: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
