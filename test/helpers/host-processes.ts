/**
 * Finds an environment's processes from the host. Inside a sandbox a runtime sees only its own PID
 * namespace (it is pid 2 there), so tests identify an environment by a variable every process of
 * it inherits, its log stream name, and look for it in the host's /proc/<pid>/environ.
 */
import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether `pid` still runs (a zombie waiting to be reaped does not). */
export function running(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
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
