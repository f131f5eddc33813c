/**
 * Reading and writing cgroup interface files, shared by both hierarchies. Every failure names the
 * file, because "EINVAL" alone does not say which of a dozen writes the kernel refused.
 *
 * Reads are synchronous: cgroup files are answered from kernel memory and are read once per
 * invocation. Writes and directory changes are asynchronous, as the kernel may work on them a
 * while (moving a process and its charges, tearing a group down).
 */
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stopwatch } from '../../core/clock.js';

/** A cgroup file or directory could not be read, written, created or removed. */
export class CgroupError extends Error {
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The errno name of a failed system call, for messages. */
export function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Writes `value` with one write(2), as the kernel parses each write on its own. */
export async function writeControl(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (err) {
    throw new CgroupError(`Cannot write '${value}' to ${file}: ${codeOf(err)}`, file, { cause: err });
  }
}

/** As writeControl, for the few writes made on the invocation path (resetting a peak). */
export function writeControlSync(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (err) {
    throw new CgroupError(`Cannot write '${value}' to ${file}: ${codeOf(err)}`, file, { cause: err });
  }
}

export function readControl(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CgroupError(`Cannot read ${file}: ${codeOf(err)}`, file, { cause: err });
  }
}

/** A file holding one whole number (usage, peak, limit). */
export function readBytes(file: string): number {
  const text = readControl(file).trim();
  if (!/^\d+$/.test(text)) throw new CgroupError(`${file} holds '${text}', expected a number of bytes`, file);
  return Number(text);
}

export function exists(file: string): boolean {
  return existsSync(file);
}

/** Creates one group directory; the kernel fills it with the interface files. */
export async function makeGroupDir(dir: string, options: { recursive?: boolean } = {}): Promise<void> {
  try {
    await mkdir(dir, { recursive: options.recursive ?? false });
  } catch (err) {
    const hint = codeOf(err) === 'EEXIST' ? ' (a group of that name already exists)' : '';
    throw new CgroupError(`Cannot create cgroup ${dir}: ${codeOf(err)}${hint}`, dir, { cause: err });
  }
}

/** The names of the groups directly inside `dir`; none when `dir` is gone. */
export async function childGroups(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return [];
    throw new CgroupError(`Cannot list ${dir}: ${codeOf(err)}`, dir, { cause: err });
  }
}

/** Every process listed in these cgroup.procs files; a file that is gone (ENOENT, or ENODEV while the kernel tears the group down) lists none. */
export function listPids(procsFiles: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const file of procsFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENODEV') continue;
      throw new CgroupError(`Cannot read ${file}: ${codeOf(err)}`, file, { cause: err });
    }
    for (const line of text.split('\n')) if (line.trim() !== '') pids.add(Number(line));
  }
  return [...pids];
}

/** How long a group may take to empty after SIGKILL or to be released by the kernel before it is reported as stuck. */
export const SETTLE_TIMEOUT_MS = 10_000;

/** Polling starts at 1 ms (most processes die at once) and backs off to this, so a slow exit costs little CPU. */
const MAX_POLL_MS = 50;

/**
 * Waits until `isDone` holds, checking with a growing delay; `stuck` words the error if it never does. Used for kernel state that offers no
 * event to wait on (v1 has no cgroup.events; rmdir says EBUSY until the last task is released).
 */
export async function settle(stuck: () => string, path: string, isDone: () => boolean | Promise<boolean>): Promise<void> {
  const elapsed = stopwatch();
  for (let wait = 1; !(await isDone()); wait = Math.min(wait * 2, MAX_POLL_MS)) {
    if (elapsed() > SETTLE_TIMEOUT_MS) throw new CgroupError(`${stuck()} after ${SETTLE_TIMEOUT_MS} ms`, path);
    await delay(wait);
  }
}

/**
 * SIGKILLs every listed process and reads the lists again until they are empty. A process forked
 * between a read and the kills is in the group, so the next read finds it; forking stops once
 * each parent has its SIGKILL pending, so the loop ends even for a fork bomb. A pid read from
 * cgroup.procs could in principle exit and be reused before the kill lands; the window is one
 * read and a kill, as in runc's fallback without a freezer.
 */
export async function killUntilEmpty(path: string, procsFiles: readonly string[]): Promise<void> {
  let left: number[] = [];
  await settle(() => `Processes ${left.join(', ')} of ${path} survive SIGKILL`, path, () => {
    left = listPids(procsFiles);
    if (left.includes(process.pid)) {
      throw new CgroupError(`The server's own process (${process.pid}) is in ${path}; it will not kill itself`, path);
    }
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ESRCH: it exited between the read and the kill.
      }
    }
    return left.length === 0;
  });
}

/**
 * Removes a group directory, retrying while the kernel still counts exiting tasks in it (rmdir
 * says EBUSY until the last one has finished exiting). A directory that is already gone is fine.
 */
export async function removeGroupDir(dir: string): Promise<void> {
  let lastCode = '';
  await settle(() => `Cannot remove cgroup ${dir} (${lastCode})`, dir, async () => {
    try {
      await rmdir(dir);
      return true;
    } catch (err) {
      lastCode = codeOf(err);
      if (lastCode === 'ENOENT') return true;
      if (lastCode === 'EBUSY') return false;
      throw new CgroupError(`Cannot remove cgroup ${dir}: ${lastCode}`, dir, { cause: err });
    }
  });
}

/**
 * Directories for messages: mounts ["/a/memory", "/a/pids"] and tail "p/x" → "/a/{memory,pids}/p/x"
 * when they differ only in the controller's mount point, else joined with ", " (also when a mount
 * point already has a comma, as "cpu,cpuacct" does, which braces would misread).
 */
export function bracePath(mounts: readonly string[], tail: string): string {
  const dirs = new Set(mounts.map((m) => dirname(m)));
  if (mounts.length === 1) return join(mounts[0] as string, tail);
  if (dirs.size !== 1 || mounts.some((m) => basename(m).includes(','))) return mounts.map((m) => join(m, tail)).join(', ');
  return join([...dirs][0] as string, `{${mounts.map((m) => basename(m)).join(',')}}`, tail);
}

/**
 * A control file read once per invocation (a memory peak): one descriptor kept open and read in
 * place, instead of an open, read and close on the server's event loop every time. On cgroup v2
 * since Linux 6.12 it is also what a reset must go through, as a reset is per descriptor.
 */
export class KeptControl {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(32);

  constructor(
    readonly file: string,
    private readonly writable = false,
  ) {}

  readBytes(): number {
    let text: string;
    try {
      text = this.buffer.toString('latin1', 0, readSync(this.descriptor(), this.buffer, 0, this.buffer.length, 0)).trim();
    } catch (err) {
      throw new CgroupError(`Cannot read ${this.file}: ${codeOf(err)}`, this.file, { cause: err });
    }
    if (!/^\d+$/.test(text)) throw new CgroupError(`${this.file} holds '${text}', expected a number of bytes`, this.file);
    return Number(text);
  }

  write(value: string): void {
    try {
      writeSync(this.descriptor(), value, 0);
    } catch (err) {
      throw new CgroupError(`Cannot write '${value}' to ${this.file}: ${codeOf(err)}`, this.file, { cause: err });
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private descriptor(): number {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.file, this.writable ? 'r+' : 'r');
      } catch (err) {
        throw new CgroupError(`Cannot open ${this.file}: ${codeOf(err)}`, this.file, { cause: err });
      }
    }
    return this.fd;
  }
}
