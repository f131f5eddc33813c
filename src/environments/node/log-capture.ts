/**
 * Captures everything a function prints, in the Node.js runtime's text log format (RIC
 * `LogPatch.js`), and passes it to the environment's one log channel instead of the host's stdout.
 *
 * Output is split into phases (Init, then one per invocation) by the runtime: `endPhase()` as it
 * replies, `beginInvocation()` as the next invocation starts. What is written in between (a
 * timer or a promise of the last invocation that runs after it returned) waits here and goes out
 * when the next invocation begins, so every byte the channel carried before a reply belongs to
 * the phase that reply ends, and nothing written after it can reach that phase's log. Lambda
 * shows such output in the next invocation too: its environment is frozen in between, and the
 * timer runs once it thaws.
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

/**
 * Output held between phases when nothing else bounds it (no `phaseBytes`), in UTF-16 units:
 * past it, held output goes out at once and the reader's own bound applies. A runtime whose
 * event loop runs between invocations (a process) could otherwise hold without end.
 */
export const MAX_HELD_UNITS = 1024 * 1024;

export interface LogCaptureOptions {
  /**
   * Bytes passed on per phase, through a `LogLimiter` at the source (a thread's output then never
   * crosses to the main thread beyond its budget); unbounded when absent, for a runtime whose
   * output the reader bounds.
   */
  phaseBytes?: number | undefined;
  /** Follows the count of bytes dropped in the current phase (0 once a phase ends). */
  onDropped?: ((bytes: number) => void) | undefined;
}

export class LogCapture {
  /** The request whose output is being captured; undefined during Init. */
  requestId: string | undefined;
  /** A raw write left a line unfinished; the next formatted line must not glue onto it. */
  private lineOpen = false;
  private readonly limiter: LogLimiter | undefined;
  /** The last phase has ended and the next invocation has not begun: output waits in `held`. */
  private between = false;
  private held = '';
  /** A drop was reported in the current phase, so the count must go back to 0 when it ends. */
  private dropReported = false;

  /**
   * `onOutput` is the log channel: it sees each piece in order, once (the thread bootstrap posts
   * it to the main thread, the process bootstrap writes it to its stdout).
   */
  constructor(
    private readonly onOutput: (text: string) => void,
    private readonly options: LogCaptureOptions = {},
  ) {
    if (options.phaseBytes !== undefined) this.limiter = new LogLimiter(options.phaseBytes);
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

  /**
   * Ends the current phase, just before the runtime replies. With a budget, the phase is closed
   * here (an open line ended, the drop marker added) and the closing text goes out on the
   * channel; without one the reader closes it. Output from now on waits for the next invocation.
   */
  endPhase(): void {
    if (this.limiter) {
      const closing = this.limiter.end();
      if (closing !== '') this.onOutput(closing);
      // The count starts again from 0 only where this phase moved it (the main thread also
      // resets it when it takes a dead environment's output).
      if (this.dropReported) this.options.onDropped?.(0);
      this.dropReported = false;
    }
    this.lineOpen = false;
    this.between = true;
  }

  /** Starts capturing for an invocation; what was written since the last phase ended goes out first. */
  beginInvocation(requestId: string): void {
    this.requestId = requestId;
    this.release();
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
      if (this.limiter.dropped !== before) {
        this.dropReported = true;
        this.options.onDropped?.(this.limiter.dropped);
      }
      if (kept === '') return;
    }
    if (this.between) this.hold(kept);
    else this.onOutput(kept);
  }

  /** Output between phases; a budget bounds it already (the limiter counts it to the next phase). */
  private hold(text: string): void {
    this.held += text;
    if (!this.limiter && this.held.length > MAX_HELD_UNITS) this.release();
  }

  private release(): void {
    this.between = false;
    if (this.held === '') return;
    const held = this.held;
    this.held = '';
    this.onOutput(held);
  }
}
