/**
 * Captures everything a function prints, in the Node.js runtime's text log format (RIC
 * `LogPatch.js`), so it can be returned with the invocation instead of reaching the host's stdout.
 */
import { LogLimiter } from '../log-limit.js';
import { formatLogLine, type LogLevel } from '../log-format.js';
import { formatErrorForLog } from './runtime-errors.js';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';

interface PatchTargets {
  console: Console;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class LogCapture {
  /** The request whose output is being captured; undefined during Init. */
  requestId: string | undefined;
  private buffer = '';
  /** A raw write left a line unfinished; the next formatted line must not glue onto it. */
  private lineOpen = false;
  private readonly limiter: LogLimiter | undefined;

  /**
   * `onOutput` sees each piece as it is written (the thread bootstrap streams it to the main
   * thread; the process bootstrap writes it to its stdout). With `keep: false` nothing is
   * buffered for `take()`: the output's only channel is then `onOutput`. With `phaseBytes`
   * (only when keeping: `take()` is where a phase ends), both the buffer and `onOutput` get only
   * what a `LogLimiter` of that budget keeps, and `onDropped` follows the count of bytes dropped
   * in the current phase.
   */
  constructor(
    private readonly onOutput?: (text: string, requestId: string | undefined) => void,
    private readonly options: { keep?: boolean; phaseBytes?: number | undefined; onDropped?: ((bytes: number) => void) | undefined } = {},
  ) {
    if (options.phaseBytes !== undefined && options.keep !== false) this.limiter = new LogLimiter(options.phaseBytes);
  }

  log(level: LogLevel, args: unknown[]): void {
    const line = formatLogLine(new Date(), this.requestId, level, args);
    this.append(this.lineOpen ? `\n${line}` : line);
    this.lineOpen = false;
  }

  /** `Invoke Error \t{json}` and friends: util.format puts the space before the tab, as in the RIC. */
  logError(label: string, error: unknown): void {
    this.log('ERROR', [label, `\t${formatErrorForLog(error)}`]);
  }

  /** Bytes written straight to stdout/stderr: Lambda keeps them verbatim, without a prefix. */
  raw(text: string): void {
    if (text === '') return;
    this.append(text);
    this.lineOpen = !text.endsWith('\n');
  }

  /** Returns what was captured since the last call, newline-terminated, and starts afresh. */
  take(): string {
    // Without a buffer the output is one continuous stream: an open line stays open.
    if (this.options.keep === false) return '';
    let out = this.buffer;
    this.buffer = '';
    if (this.limiter) out += this.limiter.end();
    else if (this.lineOpen) out += '\n';
    this.lineOpen = false;
    if (this.limiter) this.options.onDropped?.(0);
    return out;
  }

  install(targets: PatchTargets = { console, stdout: process.stdout, stderr: process.stderr }): void {
    const levels: Record<ConsoleMethod, LogLevel> = {
      log: 'INFO',
      info: 'INFO',
      warn: 'WARN',
      error: 'ERROR',
      debug: 'DEBUG',
      trace: 'TRACE',
    };
    for (const [method, level] of Object.entries(levels) as [ConsoleMethod, LogLevel][]) {
      targets.console[method] = (...args: unknown[]) => this.log(level, args);
    }
    // The RIC adds console.fatal; functions written for Lambda may call it.
    (targets.console as Console & { fatal?: (...args: unknown[]) => void }).fatal = (...args: unknown[]) =>
      this.log('FATAL', args);
    this.patchStream(targets.stdout);
    this.patchStream(targets.stderr);
  }

  private patchStream(stream: NodeJS.WritableStream): void {
    const write = (chunk: unknown, encodingOrCallback?: unknown, callback?: unknown): boolean => {
      if (typeof chunk === 'string') this.raw(chunk);
      else if (chunk instanceof Uint8Array) this.raw(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8'));
      else this.raw(String(chunk));
      const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    };
    stream.write = write as NodeJS.WritableStream['write'];
  }

  private append(text: string): void {
    let kept = text;
    if (this.limiter) {
      const before = this.limiter.dropped;
      kept = this.limiter.write(text);
      if (this.limiter.dropped !== before) this.options.onDropped?.(this.limiter.dropped);
      if (kept === '') return;
    }
    if (this.options.keep !== false) this.buffer += kept;
    this.onOutput?.(kept, this.requestId);
  }
}
