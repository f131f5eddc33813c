import { closeSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The budget of a function's stored log when none is given (config `logRetentionBytes`). */
export const DEFAULT_LOG_RETENTION_BYTES = 16 * 1024 * 1024;

export interface LogStoreOptions {
  /** Where every appended text is echoed as well (`printFunctionLogs`). */
  echo?: (text: string) => void;
  /** Bytes kept per function, all its files together. */
  retentionBytes?: number;
}

/** One log file of a function, as the store accounts for it. */
interface LogFile {
  name: string;
  bytes: number;
  /** When it was last written, as a sequence number: the least recently written goes first. */
  order: number;
  /** The open file descriptor (append mode) of a live environment's stream that writes it. */
  fd?: number;
  /** Key of that stream in `LogStore.streams`. */
  key?: string;
}

/** What the store knows of one function's folder. */
interface FunctionLogs {
  dir: string;
  files: Map<string, LogFile>;
  bytes: number;
}

/**
 * Function logs on disk: one file per log stream (one per environment, as in CloudWatch),
 * under `<dataDir>/logs/<function>/`. `laminar logs` reads these files.
 *
 * Each function's files together stay within `retentionBytes`, so disk use is bounded whatever
 * a function prints: a stream's file that reaches half the budget is renamed to
 * `<stream>.1.log` (replacing the previous one) and the stream starts a new file; while the
 * function is over budget, its least recently written file is deleted. The newest part of the
 * log is what remains, and every retained file is still a `.log` file that `laminar logs` reads.
 * Sizes are counted here as text is written, from one look at the folder the first time a
 * function is written to; this server is the only writer (the data dir's lock).
 *
 * Folders are 0700 and files 0600: logs hold whatever functions print.
 *
 * What a turn of the event loop appended to a stream goes to its file in one synchronous
 * `write(2)` at the end of the turn: an append of a few hundred bytes to the page cache costs a
 * few µs on this thread, where a `WriteStream` costs its own bookkeeping here, a round trip
 * through libuv's thread pool (a thread woken per write) and a completion callback, several
 * times as much CPU per invocation in all.
 */
export class LogStore {
  private readonly streams = new Map<string, { fn: FunctionLogs; file: LogFile }>();
  private readonly functions = new Map<string, FunctionLogs>();
  /** Text waiting for the next flush, per stream: one write per stream per event-loop turn. */
  private readonly pending = new Map<string, { functionName: string; streamName: string; texts: string[] }>();
  private flushScheduled = false;
  private writes = 0;
  private readonly echo: ((text: string) => void) | undefined;
  private readonly retentionBytes: number;

  constructor(
    private readonly root: string,
    options: LogStoreOptions = {},
  ) {
    this.echo = options.echo;
    this.retentionBytes = options.retentionBytes ?? DEFAULT_LOG_RETENTION_BYTES;
  }

  static folderFor(dataDir: string): string {
    return join(dataDir, 'logs');
  }

  /** File name of a stream: Lambda's `YYYY/MM/DD/[$LATEST]hex` with the slashes flattened. */
  static fileName(streamName: string): string {
    return streamName.replace(/[/\\]/g, '-').replace(/[^A-Za-z0-9_.\-[\]$]/g, '_') + '.log';
  }

  /** Name of the one older file a stream's file is rotated to. */
  static rotatedName(fileName: string): string {
    return fileName.replace(/\.log$/, '.1.log');
  }

  append(functionName: string, streamName: string, text: string): void {
    if (text === '') return;
    const key = `${functionName}\u0000${streamName}`;
    const queued = this.pending.get(key);
    if (queued) queued.texts.push(text);
    else this.pending.set(key, { functionName, streamName, texts: [text] });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    this.echo?.(text);
  }

  private flush(): void {
    this.flushScheduled = false;
    const touched = new Set<FunctionLogs>();
    for (const [key, { functionName, streamName, texts }] of this.pending) {
      const text = texts.join('');
      const open = this.open(key, functionName, streamName);
      if (!open) continue;
      const data = Buffer.from(text, 'utf8');
      if (open.file.fd !== undefined) writeAll(open.file.fd, data);
      const bytes = data.length;
      open.file.bytes += bytes;
      open.file.order = ++this.writes;
      open.fn.bytes += bytes;
      if (open.file.bytes >= this.retentionBytes / 2) this.rotate(open.fn, open.file);
      touched.add(open.fn);
    }
    this.pending.clear();
    for (const fn of touched) this.trim(fn);
  }

  /** The open file of a stream, created (with its folder) on its first write; undefined when that fails. */
  private open(key: string, functionName: string, streamName: string): { fn: FunctionLogs; file: LogFile } | undefined {
    const existing = this.streams.get(key);
    if (existing) return existing;
    try {
      const fn = this.functionLogs(functionName);
      const name = LogStore.fileName(streamName);
      const file = fn.files.get(name) ?? { name, bytes: 0, order: 0 };
      // Opened now: rotation and trimming rename and delete by name, so the file must exist as
      // soon as it is accounted for.
      file.fd = openSync(join(fn.dir, name), 'a', 0o600);
      file.key = key;
      fn.files.set(name, file);
      const open = { fn, file };
      this.streams.set(key, open);
      return open;
    } catch {
      // The folder cannot be made (a full disk, a file in its place): the text is lost, as above.
      return undefined;
    }
  }

  /** The function's folder and the sizes of the files already in it, looked at once. */
  private functionLogs(functionName: string): FunctionLogs {
    let fn = this.functions.get(functionName);
    if (fn) return fn;
    const dir = join(this.root, functionName);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fn = { dir, files: new Map(), bytes: 0 };
    const found: { name: string; bytes: number; mtimeMs: number }[] = [];
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.log')) continue;
      try {
        const st = statSync(join(dir, name));
        if (st.isFile()) found.push({ name, bytes: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    // Files of earlier runs are older than anything this store writes: negative orders.
    found.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
    for (const [i, f] of found.entries()) {
      fn.files.set(f.name, { name: f.name, bytes: f.bytes, order: i - found.length });
      fn.bytes += f.bytes;
    }
    this.functions.set(functionName, fn);
    this.trim(fn);
    return fn;
  }

  /**
   * Renames a stream's file to its `.1.log` (replacing the older one) and lets the stream start
   * a new file on its next write; everything written so far is in the renamed file.
   */
  private rotate(fn: FunctionLogs, file: LogFile): void {
    const rotated = LogStore.rotatedName(file.name);
    const previous = fn.files.get(rotated);
    try {
      renameSync(join(fn.dir, file.name), join(fn.dir, rotated));
    } catch {
      return;
    }
    if (previous) fn.bytes -= previous.bytes;
    this.closeFile(file);
    fn.files.delete(file.name);
    fn.files.set(rotated, { name: rotated, bytes: file.bytes, order: file.order });
  }

  /** Deletes the least recently written files while the function is over budget, never its last one. */
  private trim(fn: FunctionLogs): void {
    while (fn.bytes > this.retentionBytes && fn.files.size > 1) {
      let oldest: LogFile | undefined;
      for (const f of fn.files.values()) if (!oldest || f.order < oldest.order) oldest = f;
      if (!oldest) return;
      // A live environment's file: its stream ends, and its next write starts a new file.
      this.closeFile(oldest);
      try {
        unlinkSync(join(fn.dir, oldest.name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
      }
      fn.files.delete(oldest.name);
      fn.bytes -= oldest.bytes;
    }
  }

  /** Closes a file's descriptor; what was appended to it is written already. */
  private closeFile(file: LogFile): void {
    if (file.fd !== undefined) {
      try {
        closeSync(file.fd);
      } catch {
        // Nothing is left to write; a failed close loses nothing.
      }
    }
    if (file.key !== undefined) this.streams.delete(file.key);
    delete file.fd;
    delete file.key;
  }

  /** Closes a stream whose environment is gone. */
  closeStream(functionName: string, streamName: string): void {
    const key = `${functionName}\u0000${streamName}`;
    if (this.pending.has(key)) {
      // Its last lines go out now, with the rest of this turn's.
      this.flush();
    }
    const open = this.streams.get(key);
    if (open) this.closeFile(open.file);
  }

  /** Writes what is queued and closes every file. */
  close(): Promise<void> {
    this.flush();
    for (const { file } of [...this.streams.values()]) this.closeFile(file);
    return Promise.resolve();
  }
}

/** Appends the whole text; a failed write (a full disk) loses the rest and must not take the platform down. */
function writeAll(fd: number, data: Buffer): void {
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
  } catch {
    // The log text is lost, as with any failed write.
  }
}
