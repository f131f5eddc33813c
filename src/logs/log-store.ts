import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/**
 * Function logs on disk: one file per log stream (one per environment, as in CloudWatch),
 * under `<dataDir>/logs/<function>/`. `laminar logs` reads these files.
 */
export class LogStore {
  private readonly streams = new Map<string, WriteStream>();
  /** Text waiting for the next flush, per stream: one write per stream per event-loop turn. */
  private readonly pending = new Map<string, string[]>();
  private flushScheduled = false;

  constructor(
    private readonly root: string,
    private readonly echo?: (text: string) => void,
  ) {}

  static folderFor(dataDir: string): string {
    return join(dataDir, 'logs');
  }

  /** File name of a stream: Lambda's `YYYY/MM/DD/[$LATEST]hex` with the slashes flattened. */
  static fileName(streamName: string): string {
    return streamName.replace(/[/\\]/g, '-').replace(/[^A-Za-z0-9_.\-[\]$]/g, '_') + '.log';
  }

  append(functionName: string, streamName: string, text: string): void {
    if (text === '') return;
    const key = `${functionName}\u0000${streamName}`;
    let stream = this.streams.get(key);
    if (!stream) {
      const dir = join(this.root, functionName);
      mkdirSync(dir, { recursive: true });
      stream = createWriteStream(join(dir, LogStore.fileName(streamName)), { flags: 'a' });
      stream.on('error', () => {
        // A full disk must not take the platform down; the log line is lost.
      });
      this.streams.set(key, stream);
    }
    const queued = this.pending.get(key);
    if (queued) queued.push(text);
    else this.pending.set(key, [text]);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    this.echo?.(text);
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [key, texts] of this.pending) this.streams.get(key)?.write(texts.join(''));
    this.pending.clear();
  }

  /** Closes a stream whose environment is gone. */
  closeStream(functionName: string, streamName: string): void {
    const key = `${functionName}\u0000${streamName}`;
    const queued = this.pending.get(key);
    if (queued) this.streams.get(key)?.write(queued.join(''));
    this.pending.delete(key);
    this.streams.get(key)?.end();
    this.streams.delete(key);
  }

  async close(): Promise<void> {
    this.flush();
    const pending = [...this.streams.values()].map(
      (s) => new Promise<void>((resolve) => (s.writableFinished ? resolve() : s.end(resolve))),
    );
    this.streams.clear();
    await Promise.all(pending);
  }
}
