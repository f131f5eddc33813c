/**
 * An execution environment that is a child process speaking the Lambda Runtime API, as a Lambda
 * sandbox runs a custom runtime: the function's `bootstrap` is started with Lambda's variables and
 * `AWS_LAMBDA_RUNTIME_API` pointing at a server that serves this environment only. Init ends
 * when the runtime first asks for an invocation. The process leads its own process group, so a
 * timeout or a destroy kills everything it started.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { EnvironmentFactory, EnvironmentSpec, ExecutionEnvironment, InitResult, InvokeOutcome, InvokeRequest } from '../environment.js';
import { buildFunctionEnv } from '../environment-variables.js';
import { initTimeoutMs, invocationBudgetMs, Lifecycle, type EnvironmentState } from '../lifecycle.js';
import { DEFAULT_LOG_BYTES_PER_INVOCATION, LogLimiter } from '../log-limit.js';
import { crashOutcome, exitFailure, initTimeoutError, OUT_OF_MEMORY, platformError, timeoutOutcome, unavailableOutcome, type RuntimeFailure } from '../outcomes.js';
import { DirectHost, type Exit, type HostedProcess, type ProcessHost } from './host.js';
import { peerPidAuthorizer, processTree } from './peer-authorizer.js';
import { peakReadDue } from '../peak-reads.js';
import { treePeakMb } from './proc.js';
import { RuntimeApiServer, type RuntimeReply } from './runtime-api.js';

export interface ProcessEnvironmentOptions {
  /** Bound on Init; default as Lambda's (10 s on demand, 130 s provisioned, never below the timeout). */
  initTimeoutMs?: number;
  /** Where the runtime runs: a sandbox, or directly as a child of the server (default). */
  host?: ProcessHost;
}

type InitSignal = { kind: 'next' } | { kind: 'init-error'; errorType: string; body: Buffer } | { kind: 'exit'; exit: Exit } | { kind: 'deadline' };
type InvokeSignal =
  | { kind: 'reply'; reply: RuntimeReply }
  | { kind: 'exit'; exit: Exit }
  | { kind: 'deadline' }
  | { kind: 'failed'; detail: string };

export class ProcessEnvironment implements ExecutionEnvironment {
  private readonly lifecycle = new Lifecycle();
  private api: RuntimeApiServer | undefined;
  private child: ChildProcess | undefined;
  private hosted: HostedProcess | undefined;
  /** Output of the current phase, as much as `limiter` keeps: a chatty runtime costs the server a bounded amount. */
  private output = '';
  private readonly limiter: LogLimiter;
  private peakMemoryMb = 1;
  /** When the process tree's peaks were last read from /proc (performance.now()); see notePeak. */
  private treeReadAt = Number.NEGATIVE_INFINITY;
  private initPromise: Promise<InitResult> | undefined;
  private destroyPromise: Promise<void> | undefined;
  private readonly initTimeoutMs: number;
  private readonly host: ProcessHost;

  constructor(
    readonly id: string,
    readonly spec: EnvironmentSpec,
    options: ProcessEnvironmentOptions = {},
  ) {
    this.initTimeoutMs = options.initTimeoutMs ?? initTimeoutMs(spec);
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

  init(): Promise<InitResult> {
    this.initPromise ??= this.runInit();
    return this.initPromise;
  }


  private async runInit(): Promise<InitResult> {
    const started = performance.now();
    const failed = (error: InitResult['error']): InitResult => {
      this.lifecycle.move('init-failed');
      void this.stop();
      return { ok: false, initDurationMs: performance.now() - started, ...(error ? { error } : {}), logs: this.takeOutput() };
    };
    const from = this.lifecycle.state;
    if (!this.lifecycle.move('init')) return failed(platformError('Runtime.Unknown', `Environment is ${from}`));
    const bootstrap = await this.findBootstrap();
    if (bootstrap === undefined) {
      return failed(platformError('Runtime.InvalidEntrypoint', "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"));
    }
    let signalInit: (s: InitSignal) => void = () => undefined;
    const initSignal = new Promise<InitSignal>((resolve) => (signalInit = resolve));
    try {
      const paths = this.host.paths(this.spec);
      if (paths.tmpDir === this.spec.tmpDir) await mkdir(this.spec.tmpDir, { recursive: true });
      this.api = await RuntimeApiServer.start(
        {
          onFirstNext: () => signalInit({ kind: 'next' }),
          onInitError: (errorType, body) => signalInit({ kind: 'init-error', errorType, body }),
        },
        // Only this environment's processes may fetch or answer its invocations.
        { authorize: (socket) => this.authorize(socket) },
      );
      if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'));
      await this.spawnRuntime(bootstrap, this.api.address);
    } catch (err) {
      return failed(platformError('Runtime.Unknown', `Environment could not start: ${String(err)}`));
    }
    const timer = setTimeout(() => signalInit({ kind: 'deadline' }), this.initTimeoutMs);
    const stopWaiting = this.onExit((exit) => signalInit({ kind: 'exit', exit }));
    const signal = await initSignal;
    clearTimeout(timer);
    stopWaiting();
    if (this.isDestroyed()) return failed(platformError('Runtime.Unknown', 'Environment destroyed during Init'));
    switch (signal.kind) {
      case 'next':
        this.lifecycle.move('init-ok');
        await this.hosted?.initDone();
        return { ok: true, initDurationMs: performance.now() - started, logs: this.takeOutput() };
      case 'init-error':
        return failed(errorPayload(signal.errorType, signal.body));
      case 'exit': {
        const f = this.exitReason(signal.exit);
        return failed(platformError(f.errorType, f.detail));
      }
      case 'deadline':
        return failed(initTimeoutError(this.initTimeoutMs));
    }
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const api = this.api;
    if (!api || !this.lifecycle.move('invoke')) return unavailableOutcome(request.requestId, this.lifecycle.state);
    const limitMs = invocationBudgetMs(request.deadlineMs, this.spec.timeoutSeconds);
    this.output = '';
    this.limiter.reset();
    const started = performance.now();
    const signal = await new Promise<InvokeSignal>((resolve) => {
      let stopWaiting = (): void => undefined;
      const timer = setTimeout(() => settle({ kind: 'deadline' }), limitMs);
      const settle = (s: InvokeSignal): void => {
        clearTimeout(timer);
        stopWaiting();
        resolve(s);
      };
      stopWaiting = this.onExit((exit) => settle({ kind: 'exit', exit }));
      api
        .invoke({
          requestId: request.requestId,
          payload: request.payload,
          deadlineMs: Date.now() + limitMs,
          invokedFunctionArn: request.invokedFunctionArn,
          ...(request.traceId !== undefined ? { traceId: request.traceId } : {}),
          ...(request.clientContext !== undefined ? { clientContext: request.clientContext } : {}),
          ...(request.identity !== undefined ? { identity: request.identity } : {}),
        })
        .then(
          (reply) => settle({ kind: 'reply', reply }),
          (err: unknown) => settle({ kind: 'failed', detail: `The Runtime API could not take the invocation: ${String(err)}` }),
        );
    });
    const durationMs = performance.now() - started;
    // Output written just before the reply may still be in the pipe; let it arrive.
    await new Promise((r) => setImmediate(r));
    this.notePeak(durationMs, !(signal.kind === 'reply' && signal.reply.kind === 'response'));
    const measured = () => ({ durationMs, maxMemoryUsedMb: this.peakMemoryMb, logs: this.takeOutput() });

    if (signal.kind === 'reply' && signal.reply.kind !== 'abandoned' && !this.isDestroyed()) {
      this.lifecycle.move('invoke-done');
      if (signal.reply.kind === 'response') return { status: 'success', payload: signal.reply.body, ...measured(), environmentDead: false };
      const error = errorPayload(signal.reply.errorType, signal.reply.body, request.requestId);
      return { status: 'error', payload: Buffer.from(JSON.stringify(error)), errorType: error.errorType, ...measured(), environmentDead: false };
    }
    api.abandon(request.requestId);
    const destroyed = this.isDestroyed();
    this.lifecycle.move('died');
    void this.stop();
    if (signal.kind === 'deadline') return timeoutOutcome(request.requestId, this.spec.timeoutSeconds, measured());
    const failure =
      signal.kind === 'exit' && !destroyed
        ? this.exitReason(signal.exit)
        : { errorType: 'Runtime.Unknown' as const, detail: signal.kind === 'failed' ? signal.detail : 'Environment destroyed during the invocation' };
    return crashOutcome(request.requestId, failure, measured());
  }

  destroy(): Promise<void> {
    this.destroyPromise ??= (async () => {
      this.lifecycle.move('destroy');
      await this.stop();
      await this.initPromise?.catch(() => undefined);
      await rm(this.spec.tmpDir, { recursive: true, force: true });
    })();
    return this.destroyPromise;
  }

  private isDestroyed(): boolean {
    return this.lifecycle.state === 'destroyed';
  }

  /**
   * The code's `bootstrap`, else the one the layers put at /opt (a later layer's wins, as its files
   * overwrite), as the runtime sees it.
   */
  private async findBootstrap(): Promise<string | undefined> {
    const paths = this.host.paths(this.spec);
    // Unsandboxed, each layer is its own folder; in a sandbox they are merged at one /opt.
    const layerInside = (dir: string): string => (paths.layerDirs.includes(dir) ? dir : (paths.layerDirs[0] ?? dir));
    const candidates = [
      { host: this.spec.codeDir, inside: paths.codeDir },
      ...[...this.spec.layerDirs].reverse().map((dir) => ({ host: dir, inside: layerInside(dir) })),
    ];
    for (const candidate of candidates) {
      try {
        await access(join(candidate.host, 'bootstrap'), constants.X_OK);
        return join(candidate.inside, 'bootstrap');
      } catch {
        // not there, or not executable: try the next place, as Lambda does
      }
    }
    return undefined;
  }

  private async spawnRuntime(bootstrap: string, runtimeApi: string): Promise<void> {
    const paths = this.host.paths(this.spec);
    const runtimeDir = dirname(bootstrap);
    // No node folder on PATH: a custom runtime brings its own language, as on provided.al2023.
    const env = buildFunctionEnv({ ...this.spec, ...paths }, { runtimeDir, layersAtOpt: paths.layersAtOpt }, { AWS_LAMBDA_RUNTIME_API: runtimeApi });
    const hosted = await this.host.start({
      envId: this.id,
      spec: this.spec,
      command: bootstrap,
      args: [],
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      nodeRuntime: false,
    });
    this.hosted = hosted;
    const child = hosted.child;
    this.child = child;
    const collect = (decoder: StringDecoder) => (chunk: Buffer): void => {
      this.output += this.limiter.write(decoder.write(chunk));
    };
    child.stdout?.on('data', collect(new StringDecoder('utf8')));
    child.stderr?.on('data', collect(new StringDecoder('utf8')));
    hosted.onExit(() => this.noteExit());
  }

  /** Why the runtime ended: the memory limit, else its exit status or signal. */
  private exitReason(exit: Exit): RuntimeFailure {
    if (this.hosted?.outOfMemory() === true) return OUT_OF_MEMORY;
    return exitFailure(exit.code, exit.signal);
  }

  /** Calls `waiter` when the runtime ends; only once it has been started. */
  private onExit(waiter: (exit: Exit) => void): () => void {
    if (this.hosted === undefined) throw new Error('the runtime has not been started');
    return this.hosted.onExit(waiter);
  }

  private noteExit(): void {
    // An idle runtime that exits leaves nothing to run on; a busy one is reported by its invocation.
    if (this.lifecycle.state === 'ready') this.lifecycle.move('died');
  }

  /** Kills everything the runtime started, waits for the runtime to be gone, closes its API. */
  private async stop(): Promise<void> {
    const hosted = this.hosted;
    if (hosted !== undefined) {
      const released = hosted.release();
      if (this.hosted?.exit === undefined) await new Promise<void>((resolve) => this.onExit(() => resolve()));
      await released;
    }
    await this.api?.close();
  }

  /** Allows a Runtime API connection only from the runtime or a process it started. */
  private authorize(socket: Socket): Promise<boolean> | boolean {
    const root = this.child?.pid;
    if (root === undefined || this.hosted?.exit !== undefined) return false;
    const tree = processTree(root);
    return peerPidAuthorizer(tree.isAllowedPid, { candidatePids: tree.candidatePids })(socket);
  }

  /**
   * Max Memory Used: the larger of the cgroup's peak, which counts everything the environment
   * charged (children, /tmp), and the runtime's processes' own peaks (VmHWM), which also count
   * the pages of shared files another cgroup touched first. The cgroup's is one small read and
   * is taken after every invocation. The processes' are a walk of /proc (the tree's task lists,
   * every thread's children and every process's status, about 150 µs for a sandboxed runtime)
   * and are taken when due (peak-reads.ts): after the first invocation, after one that failed,
   * at most a second apart, and, with no cgroup to read, after an invocation long enough to
   * touch more than a little memory.
   */
  private notePeak(durationMs: number, failed: boolean): void {
    const leader = this.child?.pid;
    if (leader === undefined) return;
    const confined = this.hosted?.peakMemoryMb();
    let mb = confined ?? 0;
    const now = performance.now();
    // With a cgroup's peak read every time, the walk only corrects it: its length never calls for one.
    const walk = peakReadDue(this.treeReadAt, now, failed, confined === undefined ? durationMs : undefined);
    if (walk && this.hosted?.exit === undefined) {
      this.treeReadAt = now;
      mb = Math.max(mb, treePeakMb(leader));
    }
    if (mb > this.peakMemoryMb) this.peakMemoryMb = mb;
  }

  private takeOutput(): string {
    const text = this.output + this.limiter.end();
    this.output = '';
    return text;
  }
}

/** The runtime's error object: its JSON body when it sent one, Lambda's shape otherwise. */
function errorPayload(errorType: string, body: Buffer, requestId?: string): { errorType: string; errorMessage: string; stackTrace?: unknown } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorMessage?: unknown; errorType?: unknown; stackTrace?: unknown };
    if (typeof parsed === 'object' && parsed !== null) {
      return {
        errorType: typeof parsed.errorType === 'string' && parsed.errorType !== '' ? parsed.errorType : errorType,
        errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
        ...(parsed.stackTrace !== undefined ? { stackTrace: parsed.stackTrace } : {}),
      };
    }
  } catch {
    // not JSON: the text is the message
  }
  const text = body.toString('utf8');
  return platformError(errorType, text === '' ? 'Unknown application error occurred' : text, requestId);
}

export const processEnvironmentFactory: EnvironmentFactory = (id, spec) => new ProcessEnvironment(id, spec);

/** Custom-runtime environments on `host`. */
export function processEnvironmentsOn(host: ProcessHost): EnvironmentFactory {
  return (id, spec) => new ProcessEnvironment(id, spec, { host });
}
