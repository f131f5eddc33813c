/**
 * An execution environment that runs Laminar's Node.js runtime in a child process of its own:
 * the same handler semantics as the thread runtime (they share `environments/node/`), with the
 * containment of a process. The runtime is the leader of its own process group, so a timeout or
 * a destroy kills everything the function started; its heap is bounded by `--max-old-space-size`
 * from MemorySize; `process.exit` or a signal ends this environment only.
 *
 * Server and runtime talk over a pipe on the child's file descriptor 3 with length-prefixed
 * frames (frames.ts) rather than over HTTP: a frame is one write and one read, and the event and
 * the response cross it as raw bytes. Output goes to the child's stdout and stderr, which are the
 * environment's log channel, as a Lambda runtime's are.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { EnvironmentFactory, EnvironmentSpec, ExecutionEnvironment, InitResult, InvokeOutcome, InvokeRequest } from '../../environment.js';
import { buildFunctionEnv } from '../../environment-variables.js';
import { initTimeoutMs, invocationBudgetMs, Lifecycle, type EnvironmentState } from '../../lifecycle.js';
import { DEFAULT_LOG_BYTES_PER_INVOCATION, LogLimiter } from '../../log-limit.js';
import { nodeRuntimeFlags } from '../../node/heap-limits.js';
import {
  crashOutcome,
  exitFailure,
  initTimeoutError,
  OUT_OF_MEMORY,
  platformError,
  timeoutOutcome,
  unavailableOutcome,
  type RuntimeFailure,
} from '../../outcomes.js';
import { DirectHost, type Exit, type HostedProcess, type ProcessHost } from '../host.js';
import { peakReadDue } from '../../peak-reads.js';
import { processPeakMb } from '../proc.js';
import { encodeFrame, FrameReader } from './frames.js';
import type { InitHeader, InvokeHeader, InvokeReplyHeader, ReplyHeader } from './messages.js';

/**
 * What `AWS_LAMBDA_RUNTIME_API` holds in a Node.js process environment. The runtime is served
 * over its pipe, so no Runtime API listens; the variable is set for code that checks for it to
 * know it runs in Lambda, and port 0 makes any request to it fail at once, on any host, instead
 * of reaching whatever else might listen on a real port.
 */
export const NODE_PROCESS_RUNTIME_API = '127.0.0.1:0';

export interface NodeProcessEnvironmentOptions {
  /** Bound on Init; default as Lambda's (10 s on demand, 130 s provisioned, never below the timeout). */
  initTimeoutMs?: number;
  /** The compiled bootstrap module; default from `defaultNodeProcessBootstrapPath()`. */
  bootstrapPath?: string;
  /** Where the runtime runs: a sandbox, or directly as a child of the server (default). */
  host?: ProcessHost;
}

/**
 * The child runs plain JavaScript, so when this file runs from source under vitest the bootstrap
 * comes from `npm run build`'s output.
 */
export function defaultNodeProcessBootstrapPath(moduleUrl: string = import.meta.url): string {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.ts')) return resolve(dirname(here), '../../../../dist/environments/process/node/bootstrap.js');
  return resolve(dirname(here), 'bootstrap.js');
}

type Signal<H> = { kind: 'frame'; header: H; body: Buffer } | { kind: 'exit'; exit: Exit } | { kind: 'deadline' };

/** How long to wait for the pipes to drain once the runtime is gone (a grandchild in another group may hold them). */
const DRAIN_MS = 1000;
/** Far above Lambda's 6 MB response limit (the scheduler enforces that), far below what would hurt the server. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** What V8 prints on stderr when the heap limit is reached, before it aborts. */
const HEAP_EXHAUSTED = /JavaScript heap out of memory|Reached heap limit/;

export class NodeProcessEnvironment implements ExecutionEnvironment {
  private readonly lifecycle = new Lifecycle();
  private child: ChildProcess | undefined;
  private hosted: HostedProcess | undefined;
  private channel: Socket | undefined;
  private closed = false;
  private readonly closeWaiters = new Set<() => void>();
  private onFrame: ((header: ReplyHeader, body: Buffer) => void) | undefined;
  /**
   * Output of the current phase, as much as `limiter` keeps. The runtime does not bound its own
   * output: the function could write to its file descriptors directly, so the bound is here.
   */
  private output = '';
  private readonly limiter: LogLimiter;
  /** Bytes of stdout received so far, to match the runtime's `outputSent`. */
  private stdoutBytes = 0;
  private readonly stdoutWaiters = new Set<() => void>();
  /** The end of stderr, where V8 reports an exhausted heap. */
  private stderrTail = '';
  private peakMemoryMb = 1;
  /** When the host's measure of the environment's peak was last read (performance.now()); see notePeak. */
  private hostReadAt = Number.NEGATIVE_INFINITY;
  /** Why the pipe from the runtime cannot be read any more, once it cannot. */
  private broken: string | undefined;
  private initPromise: Promise<InitResult> | undefined;
  private destroyPromise: Promise<void> | undefined;
  private readonly initTimeoutMs: number;
  private readonly bootstrapPath: string;
  private readonly host: ProcessHost;

  constructor(
    readonly id: string,
    readonly spec: EnvironmentSpec,
    options: NodeProcessEnvironmentOptions = {},
  ) {
    this.initTimeoutMs = options.initTimeoutMs ?? initTimeoutMs(spec);
    this.bootstrapPath = options.bootstrapPath ?? defaultNodeProcessBootstrapPath();
    this.host = options.host ?? new DirectHost();
    this.limiter = new LogLimiter(spec.logBytesPerInvocation ?? DEFAULT_LOG_BYTES_PER_INVOCATION);
  }

  get state(): EnvironmentState {
    return this.lifecycle.state;
  }

  /** The runtime's process id while it runs. */
  get pid(): number | undefined {
    return this.hosted?.exit === undefined ? this.child?.pid : undefined;
  }

  /** Processes of this environment still running: the runtime, until it has exited. */
  get processCount(): number {
    return this.child !== undefined && this.hosted?.exit === undefined ? 1 : 0;
  }

  init(): Promise<InitResult> {
    this.initPromise ??= this.runInit();
    return this.initPromise;
  }


  private async runInit(): Promise<InitResult> {
    let started = performance.now();
    const failed = async (error: InitResult['error']): Promise<InitResult> => {
      this.lifecycle.move('init-failed');
      await this.stop();
      return { ok: false, initDurationMs: performance.now() - started, ...(error ? { error } : {}), logs: this.takeOutput() };
    };
    const from = this.lifecycle.state;
    if (!this.lifecycle.move('init')) return failed(platformError('Runtime.Unknown', `Environment is ${from}`));
    try {
      if (this.host.paths(this.spec).tmpDir === this.spec.tmpDir) await mkdir(this.spec.tmpDir, { recursive: true });
      if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'));
      started = performance.now();
      await this.spawnRuntime();
    } catch (err) {
      return failed(platformError('Runtime.Unknown', `Environment could not start: ${String(err)}`));
    }
    const signal = await this.next<InitHeader>(this.initTimeoutMs);
    if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'));
    switch (signal.kind) {
      case 'frame': {
        const header = signal.header;
        await this.outputUpTo(header.outputSent);
        this.notePeak(header.maxMemoryUsedMb, !header.ok);
        if (!header.ok) return failed(header.error);
        this.lifecycle.move('init-ok');
        await this.hosted?.initDone();
        return { ok: true, initDurationMs: performance.now() - started, logs: this.takeOutput() };
      }
      case 'exit': {
        await this.drained();
        const f = this.failureOf(signal.exit);
        return failed(platformError(f.errorType, f.detail));
      }
      case 'deadline':
        return failed(initTimeoutError(this.initTimeoutMs));
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const channel = this.channel;
    if (!channel || !this.lifecycle.move('invoke')) return unavailableOutcome(request.requestId, this.lifecycle.state);
    const limitMs = invocationBudgetMs(request.deadlineMs, this.spec.timeoutSeconds);
    const header: InvokeHeader = {
      kind: 'invoke',
      requestId: request.requestId,
      invokedFunctionArn: request.invokedFunctionArn,
      deadlineMs: Date.now() + limitMs,
    };
    if (request.clientContext !== undefined) header.clientContext = request.clientContext;
    if (request.identity !== undefined) header.identity = request.identity;
    if (request.traceId !== undefined) header.traceId = request.traceId;
    const started = performance.now();
    const reply = this.next<InvokeReplyHeader>(limitMs);
    channel.write(encodeFrame(header, request.payload));
    const signal = await reply;
    const durationMs = performance.now() - started;

    if (signal.kind === 'frame' && !this.isDestroyed()) {
      const r = signal.header;
      await this.outputUpTo(r.outputSent);
      this.notePeak(r.maxMemoryUsedMb, !r.ok, r.durationMs);
      const logs = this.takeOutput();
      if (r.fatal) this.retire();
      else this.lifecycle.move('invoke-done');
      // Written out rather than spread from `measured`: this literal is built on every invocation.
      if (r.ok) return { status: 'success', payload: signal.body, durationMs: r.durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs, environmentDead: false };
      const measured = { durationMs: r.durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs };
      const error = r.error ?? platformError('Runtime.Unknown', 'Unknown application error occurred', request.requestId);
      return {
        status: 'error',
        payload: Buffer.from(JSON.stringify(error)),
        errorType: error.errorType,
        ...measured,
        environmentDead: r.fatal === true,
      };
    }

    const destroyed = this.isDestroyed();
    // At the deadline the runtime is still there: its peak is read before it is killed.
    if (this.child?.pid !== undefined) this.notePeak(processPeakMb(this.child.pid), true);
    this.lifecycle.move('died');
    await this.stop();
    if (signal.kind === 'deadline') {
      return timeoutOutcome(request.requestId, this.spec.timeoutSeconds, { durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs: this.takeOutput() });
    }
    const failure: RuntimeFailure =
      destroyed || signal.kind !== 'exit'
        ? { errorType: 'Runtime.Unknown', detail: 'Environment destroyed during the invocation' }
        : this.failureOf(signal.exit);
    const maxMemoryUsedMb = failure.errorType === 'Runtime.OutOfMemory' ? this.spec.memoryMb : this.peakMemoryMb;
    return crashOutcome(request.requestId, failure, { durationMs, maxMemoryUsedMb, logs: this.takeOutput() });
  }

  destroy(): Promise<void> {
    this.destroyPromise ??= (async () => {
      this.lifecycle.move('destroy');
      await this.stop();
      // Init may still be between mkdir and spawning; let it finish before removing /tmp.
      await this.initPromise?.catch(() => undefined);
      await this.stop();
      await rm(this.spec.tmpDir, { recursive: true, force: true });
    })();
    return this.destroyPromise;
  }

  private isDestroyed(): boolean {
    return this.lifecycle.state === 'destroyed';
  }

  private async spawnRuntime(): Promise<void> {
    const runtime = this.host.nodeRuntime(this.bootstrapPath);
    const paths = this.host.paths(this.spec);
    const env = buildFunctionEnv(
      { ...this.spec, ...paths },
      { runtimeDir: runtime.runtimeDir, execPath: runtime.execPath, layersAtOpt: paths.layersAtOpt },
      { AWS_LAMBDA_RUNTIME_API: NODE_PROCESS_RUNTIME_API },
    );
    const hosted = await this.host.start({
      envId: this.id,
      spec: this.spec,
      command: runtime.execPath,
      args: [...nodeRuntimeFlags(this.spec.memoryMb), runtime.bootstrap],
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      nodeRuntime: true,
    });
    this.hosted = hosted;
    const child = hosted.child;
    this.child = child;
    const stdoutText = new StringDecoder('utf8');
    const stderrText = new StringDecoder('utf8');
    child.stdout?.on('data', (chunk: Buffer) => {
      this.collect(stdoutText.write(chunk));
      this.stdoutBytes += chunk.length;
      for (const waiter of this.stdoutWaiters) waiter();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = stderrText.write(chunk);
      this.collect(text);
      this.stderrTail = (this.stderrTail + text).slice(-4096);
    });
    const channel = child.stdio[3] as Socket;
    this.channel = channel;
    const reader = new FrameReader<ReplyHeader>((header, body) => this.onFrame?.(header, body), MAX_FRAME_BYTES);
    channel.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        // The function wrote to the runtime's pipe itself: nothing more from it can be believed.
        this.broken = err instanceof Error ? err.message : String(err);
        channel.pause();
        void hosted.release();
      }
    });
    // A write to a runtime that just died fails here; its exit is what reports the failure.
    channel.on('error', () => undefined);
    hosted.onExit(() => this.noteExit());
    child.on('close', () => {
      this.closed = true;
      for (const waiter of this.closeWaiters) waiter();
      this.closeWaiters.clear();
      for (const waiter of this.stdoutWaiters) waiter();
    });
  }

  /** The next frame, the runtime's exit, or the deadline, whichever comes first. */
  private next<H extends ReplyHeader>(limitMs: number): Promise<Signal<H>> {
    return new Promise((resolveSignal) => {
      let stopWaiting = (): void => undefined;
      const settle = (s: Signal<H>): void => {
        clearTimeout(timer);
        stopWaiting();
        this.onFrame = undefined;
        resolveSignal(s);
      };
      const timer = setTimeout(() => settle({ kind: 'deadline' }), limitMs);
      this.onFrame = (header, body) => settle({ kind: 'frame', header: header as H, body });
      stopWaiting = this.onExit((exit) => settle({ kind: 'exit', exit }));
    });
  }

  /** Waits until `bytes` of stdout have arrived: the runtime wrote them before its reply. */
  private outputUpTo(bytes: number): Promise<void> {
    if (this.stdoutBytes >= bytes || this.closed) return Promise.resolve();
    return new Promise((resolveDone) => {
      const check = (): void => {
        if (this.stdoutBytes < bytes && !this.closed) return;
        this.stdoutWaiters.delete(check);
        resolveDone();
      };
      this.stdoutWaiters.add(check);
    });
  }

  /** Waits for the runtime's pipes to close, so output written before it died is collected. */
  private drained(): Promise<void> {
    if (this.closed || this.child === undefined) return Promise.resolve();
    return new Promise((resolveDone) => {
      const done = (): void => {
        clearTimeout(timer);
        this.closeWaiters.delete(done);
        resolveDone();
      };
      const timer = setTimeout(done, DRAIN_MS);
      this.closeWaiters.add(done);
    });
  }

  private failureOf(exit: Exit): RuntimeFailure {
    if (this.broken !== undefined) return { errorType: 'Runtime.Unknown', detail: `Runtime pipe broken: ${this.broken}` };
    if (HEAP_EXHAUSTED.test(this.stderrTail) || this.hosted?.outOfMemory() === true) return OUT_OF_MEMORY;
    return exitFailure(exit.code, exit.signal);
  }

  private collect(text: string): void {
    if (text === '') return;
    this.output += this.limiter.write(text);
  }

  /** Calls `waiter` when the runtime ends; only once it has been started. */
  private onExit(waiter: (exit: Exit) => void): () => void {
    if (this.hosted === undefined) throw new Error('the runtime has not been started');
    return this.hosted.onExit(waiter);
  }

  private noteExit(): void {
    // An idle runtime that exits leaves nothing to run on; a busy one is reported by its invocation.
    if (this.lifecycle.state === 'ready') this.lifecycle.move('died');
    // What the function started must not outlive it.
    void this.hosted?.release();
  }

  /** Marks the environment unusable and kills its processes now; /tmp stays until destroy(). */
  private retire(): void {
    this.lifecycle.move('died');
    void this.stop();
  }

  /** Kills the runtime's whole process group and waits until the runtime and its pipes are gone. */
  private async stop(): Promise<void> {
    const hosted = this.hosted;
    if (hosted === undefined) return;
    // The group outlives its leader while anything the function started is still running.
    const released = hosted.release();
    if (this.hosted?.exit === undefined) await new Promise<void>((resolveExit) => this.onExit(() => resolveExit()));
    await released;
    await this.drained();
    this.channel?.destroy();
  }

  /**
   * The larger of the runtime's own peak resident set and the host's measure of the whole
   * environment (a cgroup's peak, which counts children and /tmp but not the pages of files,
   * such as node itself, that another cgroup touched first). The runtime reports its own peak
   * when due (peak-reads.ts); the cgroup's is a file read on this thread, taken by the same rule.
   * Init is always due: nothing was read before it.
   */
  private notePeak(mb: number, failed: boolean, ranMs?: number): void {
    let measured = mb;
    const now = performance.now();
    if (peakReadDue(this.hostReadAt, now, failed, ranMs)) {
      this.hostReadAt = now;
      measured = Math.max(this.hosted?.peakMemoryMb() ?? 0, mb);
    }
    if (measured > this.peakMemoryMb) this.peakMemoryMb = measured;
  }

  private takeOutput(): string {
    const text = this.output + this.limiter.end();
    this.output = '';
    return text;
  }
}

export const nodeProcessEnvironmentFactory: EnvironmentFactory = (id, spec) => new NodeProcessEnvironment(id, spec);

/** Node.js process environments on `host`. */
export function nodeProcessEnvironmentsOn(host: ProcessHost): EnvironmentFactory {
  return (id, spec) => new NodeProcessEnvironment(id, spec, { host });
}
