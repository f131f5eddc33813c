/**
 * An execution environment backed by one piscina pool with exactly one worker thread. The thread
 * runs our runtime bootstrap, which imports the function during Init; every invocation is a
 * piscina task bounded by the function's timeout. The environment never re-initialises itself:
 * once the thread dies or misbehaves it reports environmentDead and waits to be destroyed.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type {
  EnvironmentFactory,
  EnvironmentSpec,
  ExecutionEnvironment,
  InitResult,
  InvokeOutcome,
  InvokeRequest,
} from '../environment.js';
import { initTimeoutMs, invocationBudgetMs, Lifecycle, type EnvironmentState } from '../lifecycle.js';
import { crashOutcome, initTimeoutError, platformError, timeoutOutcome, unavailableOutcome } from '../outcomes.js';
import { buildFunctionEnv, nodeMajorOf } from '../environment-variables.js';
import { layerNodeModulesDirs } from '../layer-paths.js';
import { DEFAULT_LOG_BYTES_PER_INVOCATION, outputTruncatedLine } from '../log-limit.js';
import { heapLimits } from '../node/heap-limits.js';
import { isLogPortMessage, type BootstrapConfig, type InvokeTask, type RuntimeReply, type RuntimeTask } from '../node/protocol.js';
import { classifyWorkerFailure } from './worker-failure.js';

/** The thread environment's states are the lifecycle every kind shares. */
export type ThreadEnvironmentState = EnvironmentState;

export interface ThreadEnvironmentOptions {
  /** Bound on Init. Default: max(10 s, timeout) on demand, max(130 s, timeout) provisioned. */
  initTimeoutMs?: number;
  /** The compiled bootstrap module; default from `defaultBootstrapPath()`. */
  bootstrapPath?: string;
}

/**
 * The worker must be plain JavaScript (Node 20 cannot load .ts in a thread), so when this file
 * runs from source under vitest the bootstrap comes from `npm run build`'s output.
 */
export function defaultBootstrapPath(moduleUrl: string = import.meta.url): string {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.ts')) return resolve(dirname(here), '../../../dist/environments/thread/bootstrap.js');
  return resolve(dirname(here), 'bootstrap.js');
}

/**
 * Slack over the runtime's own bound (for its markers of cut lines) before streamed output is
 * no longer kept: the thread bounds what it streams, this only guards the main thread.
 */
const STREAMED_SLACK_BYTES = 64 * 1024;

type Guarded = { kind: 'reply'; reply: RuntimeReply } | { kind: 'deadline' } | { kind: 'failed'; error: unknown };

export class ThreadEnvironment implements ExecutionEnvironment {
  private pool: Piscina<RuntimeTask, RuntimeReply> | undefined;
  private readonly lifecycle = new Lifecycle();
  private initPromise: Promise<InitResult> | undefined;
  private destroyPromise: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly liveThreads = new Set<Worker>();
  /** The thread's log channel, the only one: its output, one message per piece (see LogPortMessage). */
  private logPort: MessagePort | undefined;
  /** The running phase's output: the log messages received since the last phase ended. */
  private streamed = '';
  /** Log messages received since the thread started, to compare with a reply's `outputSent`. */
  private received = 0;
  /** Where the thread counts the bytes it dropped in the current phase (see BootstrapConfig). */
  private readonly logDropped = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly logBytes: number;
  private peakMemoryMb = 1;
  private readonly bootstrapPath: string;
  private readonly initTimeoutMs: number;

  constructor(
    readonly id: string,
    readonly spec: EnvironmentSpec,
    options: ThreadEnvironmentOptions = {},
  ) {
    this.bootstrapPath = options.bootstrapPath ?? defaultBootstrapPath();
    this.initTimeoutMs = options.initTimeoutMs ?? initTimeoutMs(spec);
    this.logBytes = spec.logBytesPerInvocation ?? DEFAULT_LOG_BYTES_PER_INVOCATION;
  }

  get state(): EnvironmentState {
    return this.lifecycle.state;
  }


  /** Worker threads of this environment that have not exited yet. */
  get threadCount(): number {
    return this.liveThreads.size;
  }

  init(): Promise<InitResult> {
    this.initPromise ??= this.runInit();
    return this.initPromise;
  }

  private async runInit(): Promise<InitResult> {
    const failed = (error: InitResult['error'], startedAt: number, logs = ''): InitResult => {
      this.lifecycle.move('init-failed');
      void this.stopThreads();
      return { ok: false, initDurationMs: performance.now() - startedAt, ...(error ? { error } : {}), logs };
    };
    let started = performance.now();
    const from = this.lifecycle.state;
    if (!this.lifecycle.move('init')) return failed(platformError('Runtime.Unknown', `Environment is ${from}`), started);
    try {
      await mkdir(this.spec.tmpDir, { recursive: true });
      if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'), started);
      started = performance.now();
      this.pool = this.startPool();
    } catch (err) {
      return failed(platformError('Runtime.Unknown', `Environment could not start: ${String(err)}`), started);
    }

    const outcome = await this.runGuarded({ kind: 'init' }, this.initTimeoutMs);
    if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'), started);
    if (outcome.kind === 'reply' && outcome.reply.kind === 'init') {
      const reply = outcome.reply;
      this.notePeak(reply.maxMemoryUsedMb);
      if (!reply.ok) return failed(reply.error, started, this.takeLogs());
      this.lifecycle.move('init-ok');
      return { ok: true, initDurationMs: performance.now() - started, logs: this.takeLogs() };
    }
    const logs = this.takeStreamed();
    if (outcome.kind === 'deadline') return failed(initTimeoutError(this.initTimeoutMs), started, logs);
    const failure = classifyWorkerFailure(outcome.kind === 'failed' ? outcome.error : 'unexpected reply');
    return failed(platformError(failure.errorType, failure.detail), started, logs);
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    if (!this.pool || !this.lifecycle.move('invoke')) return unavailableOutcome(request.requestId, this.lifecycle.state);
    const limitMs = invocationBudgetMs(request.deadlineMs, this.spec.timeoutSeconds);
    const task: InvokeTask = {
      kind: 'invoke',
      requestId: request.requestId,
      payload: request.payload.toString('utf8'),
      invokedFunctionArn: request.invokedFunctionArn,
      deadlineMs: Date.now() + limitMs,
    };
    // Assigned rather than spread: a spread in a literal is a slow path on every invocation.
    if (request.clientContext !== undefined) task.clientContext = request.clientContext;
    if (request.identity !== undefined) task.identity = request.identity;
    if (request.traceId !== undefined) task.traceId = request.traceId;
    const started = performance.now();
    const outcome = await this.runGuarded(task, limitMs);
    const durationMs = performance.now() - started;

    if (outcome.kind === 'reply' && outcome.reply.kind === 'invoke' && !this.isDestroyed()) {
      const reply = outcome.reply;
      this.notePeak(reply.maxMemoryUsedMb);
      if (reply.fatal) this.retire();
      else this.lifecycle.move('invoke-done');
      if (reply.ok) {
        // Written out rather than spread from `measured`: this literal is built on every invocation.
        return { status: 'success', payload: Buffer.from(reply.result ?? 'null'), durationMs: reply.durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs: this.takeLogs(), environmentDead: false };
      }
      const measured = { durationMs: reply.durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs: this.takeLogs() };
      const error = reply.error ?? platformError('Runtime.Unknown', 'Unknown application error occurred', request.requestId);
      return {
        status: 'error',
        payload: Buffer.from(JSON.stringify(error)),
        errorType: error.errorType,
        ...measured,
        environmentDead: reply.fatal === true,
      };
    }

    const destroyed = this.isDestroyed();
    this.retire();
    const logs = this.takeStreamed();
    if (outcome.kind === 'deadline') {
      return timeoutOutcome(request.requestId, this.spec.timeoutSeconds, { durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs });
    }
    const failure = destroyed
      ? { errorType: 'Runtime.Unknown' as const, detail: 'Environment destroyed during the invocation' }
      : classifyWorkerFailure(outcome.kind === 'failed' ? outcome.error : 'unexpected reply');
    const maxMemoryUsedMb = failure.errorType === 'Runtime.OutOfMemory' ? this.spec.memoryMb : this.peakMemoryMb;
    return crashOutcome(request.requestId, failure, { durationMs, maxMemoryUsedMb, logs });
  }

  destroy(): Promise<void> {
    this.destroyPromise ??= (async () => {
      this.lifecycle.move('destroy');
      await this.stopThreads();
      // Init may still be between mkdir and its first check; let it finish before removing /tmp.
      await this.initPromise?.catch(() => undefined);
      await rm(this.spec.tmpDir, { recursive: true, force: true });
    })();
    return this.destroyPromise;
  }

  private isDestroyed(): boolean {
    return this.lifecycle.state === 'destroyed';
  }

  private startPool(): Piscina<RuntimeTask, RuntimeReply> {
    const workerData: BootstrapConfig = {
      handler: this.spec.handler,
      codeDir: this.spec.codeDir,
      functionName: this.spec.functionName,
      functionVersion: this.spec.version,
      memoryLimitInMB: String(this.spec.memoryMb),
      logGroupName: this.spec.logGroupName,
      logStreamName: this.spec.logStreamName,
      layerNodeModules: layerNodeModulesDirs(this.spec.layerDirs, nodeMajorOf(this.spec.runtime)),
      logBytesPerInvocation: this.logBytes,
      logDroppedCounter: this.logDropped.buffer as SharedArrayBuffer,
    };
    const pool = new Piscina<RuntimeTask, RuntimeReply>({
      filename: this.bootstrapPath,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      maxQueue: 0,
      atomics: 'sync',
      recordTiming: false,
      resourceLimits: heapLimits(this.spec.memoryMb),
      env: buildFunctionEnv(this.spec, { runtimeDir: dirname(this.bootstrapPath), execPath: process.execPath }),
      argv: [],
      execArgv: [],
      trackUnmanagedFds: true,
      workerData,
    });
    // piscina replaces dead threads up to minThreads; a replacement would silently re-run Init,
    // which Lambda never does. The thread above already exists, so no minimum is needed any more.
    pool.options.minThreads = 0;
    // Without a listener, an 'error' (a thread failing while idle) would crash the host process.
    pool.on('error', () => this.retire());
    // The thread's first message, before Init's output and before piscina's ready signal.
    pool.on('message', (message: unknown) => {
      if (!isLogPortMessage(message) || this.logPort !== undefined) return;
      const port = message.laminarLogPort;
      this.logPort = port;
      port.on('message', (text: string) => this.receive(text));
      // The server's event loop does not wait for a thread's log; stopThreads() closes it.
      port.unref();
    });
    const trackAll = (): void => pool.threads.forEach((thread) => this.track(thread));
    pool.on('workerCreate', trackAll);
    trackAll();
    return pool;
  }

  private track(thread: Worker): void {
    if (this.liveThreads.has(thread) || thread.threadId === -1) return;
    this.liveThreads.add(thread);
    thread.once('exit', () => {
      this.liveThreads.delete(thread);
      // An idle thread that exits leaves nothing to run on; a busy one is reported by its task.
      if (this.lifecycle.state === 'ready') this.retire();
    });
  }

  /**
   * Runs one task; at `limitMs` the caller gets 'deadline' at once and the thread is killed.
   * Killing goes through retire() (terminating the thread) rather than an AbortSignal: the
   * result is the same and the hot path saves an AbortController per invocation. A reply may
   * come before the log messages it counts have been delivered (they travel on another port), but
   * never before they were posted: they wait in the log port, which gives them up at once.
   */
  private runGuarded(task: RuntimeTask, limitMs: number): Promise<Guarded> {
    const pool = this.pool;
    if (!pool) return Promise.resolve({ kind: 'failed', error: new Error('no pool') });
    return new Promise<Guarded>((resolveGuarded) => {
      let settled = false;
      const settle = (result: Guarded): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolveGuarded(result);
      };
      const timer = setTimeout(() => {
        settle({ kind: 'deadline' });
        this.retire();
      }, limitMs);
      pool.run(task).then(
        (reply) => {
          this.drainLog(reply.outputSent);
          settle({ kind: 'reply', reply });
        },
        (error: unknown) => settle({ kind: 'failed', error }),
      );
    });
  }

  /** Marks the environment unusable and frees its thread now; /tmp stays until destroy(). */
  private retire(): void {
    this.lifecycle.move('died');
    void this.stopThreads();
  }

  private stopThreads(): Promise<void> {
    this.stopping ??= (async () => {
      const pool = this.pool;
      if (!pool) return;
      // Terminate the threads directly as well: one stuck in module init holds no task to abort.
      const exits = [...this.liveThreads].map((thread) => thread.terminate().catch(() => undefined));
      await Promise.allSettled([pool.destroy(), ...exits]);
      this.logPort?.close();
    })();
    return this.stopping;
  }

  private receive(text: string): void {
    this.received++;
    // Counted in UTF-16 units, which never outnumber UTF-8 bytes: this cap never cuts what the thread kept.
    if (this.streamed.length + text.length <= this.logBytes + STREAMED_SLACK_BYTES) this.streamed += text;
  }

  /** Takes the log messages posted but not yet delivered, until `upTo` have been received in all. */
  private drainLog(upTo: number): void {
    const port = this.logPort;
    if (port === undefined) return;
    while (this.received < upTo) {
      const entry = receiveMessageOnPort(port);
      if (entry === undefined) return;
      this.receive(entry.message as string);
    }
  }

  /** The phase's output, as its runtime closed it when it replied. */
  private takeLogs(): string {
    const text = this.streamed;
    this.streamed = '';
    return text;
  }

  /** What the thread streamed in the phase it died in, closed as its runtime would have closed it. */
  private takeStreamed(): string {
    this.drainLog(Infinity);
    let text = this.takeLogs();
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    const dropped = Number(Atomics.load(this.logDropped, 0));
    Atomics.store(this.logDropped, 0, 0n);
    return dropped > 0 ? text + outputTruncatedLine(dropped, this.logBytes) : text;
  }

  private notePeak(mb: number): void {
    this.peakMemoryMb = Math.max(this.peakMemoryMb, mb);
  }
}

export const threadEnvironmentFactory: EnvironmentFactory = (id, spec) => new ThreadEnvironment(id, spec);
