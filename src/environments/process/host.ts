/**
 * Where a process environment's processes run. Both process kinds (custom runtimes and Laminar's
 * Node.js runtime) start their runtime through a host: the direct host spawns it as a child of
 * the server, the sandbox host inside bubblewrap and a cgroup. The environment keeps the
 * protocol (Runtime API or framed IPC) and the lifecycle; the host owns paths, limits, memory
 * accounting and cleanup.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { dirname } from 'node:path';
import type { EnvironmentSpec } from '../environment.js';
import { killGroup, treeRssMb } from './proc.js';

/** How the function's folders appear to its own processes. */
export interface FunctionPaths {
  codeDir: string;
  tmpDir: string;
  /** The layers as the runtime sees them: one merged `/opt` in a sandbox, the extracted folders otherwise. */
  layerDirs: string[];
  /** True when the layers stand merged at Lambda's /opt. */
  layersAtOpt: boolean;
}

/** Where Laminar's Node.js runtime appears to the environment. */
export interface NodeRuntimePaths {
  execPath: string;
  bootstrap: string;
  runtimeDir: string;
}

export interface StartRequest {
  envId: string;
  spec: EnvironmentSpec;
  /** Program and arguments, in the paths the function sees. */
  command: string;
  args: readonly string[];
  /** The runtime's whole environment (nothing from the server is added). */
  env: Record<string, string>;
  stdio: StdioOptions;
  /** The Node.js runtime's files must be visible (Laminar's runtime), not only the function's. */
  nodeRuntime: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HostedProcess {
  readonly child: ChildProcess;
  /**
   * How the runtime ended, once it has (a sandbox's status 128+n already read as signal n);
   * undefined while it runs.
   */
  readonly exit: Exit | undefined;
  /** Calls `waiter` when the runtime ends (at once if it has); returns how to stop waiting. */
  onExit(waiter: (exit: Exit) => void): () => void;
  /** Peak memory of everything the environment ran, in MB, when the host measures it (a cgroup). */
  peakMemoryMb(): number | undefined;
  /** True once the environment's memory limit killed one of its processes. */
  outOfMemory(): boolean;
  /** Init is over: from now on the CPU share follows MemorySize (in force when this resolves). */
  initDone(): Promise<void>;
  /** Kills everything the environment started and frees what the host made for it. Idempotent. */
  release(): Promise<void>;
}

export interface ProcessHost {
  /** One line for the start banner and /health. */
  readonly description: string;
  readonly sandboxed: boolean;
  paths(spec: EnvironmentSpec): FunctionPaths;
  /** Where the Node.js runtime whose bootstrap is at `hostBootstrap` (a compiled file of Laminar) appears. */
  nodeRuntime(hostBootstrap: string): NodeRuntimePaths;
  start(request: StartRequest): Promise<HostedProcess>;
}

/**
 * Follows one child's end: the exit as the host reads it, and whoever waits for it, in the order
 * they started waiting.
 */
export class ExitWatch {
  exit: Exit | undefined;
  private readonly waiters = new Set<(exit: Exit) => void>();

  constructor(child: ChildProcess, exitOf: (code: number | null, signal: NodeJS.Signals | null) => Exit = (code, signal) => ({ code, signal })) {
    // A child that could not be started ends with neither a status nor a signal.
    child.on('error', () => this.note({ code: null, signal: null }));
    child.on('exit', (code, signal) => this.note(exitOf(code, signal)));
  }

  onExit(waiter: (exit: Exit) => void): () => void {
    if (this.exit !== undefined) {
      waiter(this.exit);
      return () => undefined;
    }
    this.waiters.add(waiter);
    return () => void this.waiters.delete(waiter);
  }

  private note(exit: Exit): void {
    if (this.exit !== undefined) return;
    this.exit = exit;
    for (const waiter of this.waiters) waiter(exit);
    this.waiters.clear();
  }
}

/** How often the memory watchdog of an environment without a cgroup looks at its processes. */
const WATCHDOG_MS = 100;

/**
 * Runs the runtime as a child of the server, in a process group of its own so that a timeout or a
 * destroy kills what it started too. Without a cgroup, an optional watchdog holds the process
 * tree to MemorySize by its resident set.
 */
export class DirectHost implements ProcessHost {
  readonly sandboxed = false;

  constructor(private readonly options: { memoryWatchdog?: boolean } = {}) {}

  get description(): string {
    return this.options.memoryWatchdog === true ? 'unsandboxed processes, MemorySize held by an RSS watchdog' : 'unsandboxed processes';
  }

  paths(spec: EnvironmentSpec): FunctionPaths {
    return { codeDir: spec.codeDir, tmpDir: spec.tmpDir, layerDirs: [...spec.layerDirs], layersAtOpt: false };
  }

  nodeRuntime(hostBootstrap: string): NodeRuntimePaths {
    return { execPath: process.execPath, bootstrap: hostBootstrap, runtimeDir: dirname(hostBootstrap) };
  }

  start(request: StartRequest): Promise<HostedProcess> {
    const child = spawn(request.command, [...request.args], {
      cwd: request.spec.codeDir,
      env: request.env,
      detached: true,
      stdio: request.stdio,
    });
    const watchdog = this.options.memoryWatchdog === true ? new RssWatchdog(child, request.spec.memoryMb) : undefined;
    let released = false;
    const watch = new ExitWatch(child);
    return Promise.resolve({
      child,
      get exit() {
        return watch.exit;
      },
      onExit: (waiter) => watch.onExit(waiter),
      peakMemoryMb: () => undefined,
      outOfMemory: () => watchdog?.exceeded ?? false,
      initDone: () => Promise.resolve(),
      release: () => {
        watchdog?.stop();
        if (!released && child.pid !== undefined) killGroup(child.pid);
        released = true;
        return Promise.resolve();
      },
    });
  }
}

/** Kills the process group when its resident memory passes the limit (a cgroup's job, where there is none). */
export class RssWatchdog {
  exceeded = false;
  private readonly timer: NodeJS.Timeout;

  constructor(child: ChildProcess, limitMb: number) {
    this.timer = setInterval(() => {
      const pid = child.pid;
      if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return this.stop();
      if (treeRssMb(pid) > limitMb) {
        this.exceeded = true;
        killGroup(pid);
        this.stop();
      }
    }, WATCHDOG_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
