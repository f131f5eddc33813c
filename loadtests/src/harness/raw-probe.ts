/**
 * The parent side of the cold-start floors (probes/raw-worker, probes/raw-process): a forked
 * child asked for one raw cold start at a time, so the floor runs in a process of its own, as
 * Laminar does, and never on the load generator's event loop.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname } from 'node:path';
import type { RawProcessColdStart, RawProcessRequest } from '../probes/raw-process.js';
import type { RawColdStart } from '../probes/raw-worker.js';
import { compiledScript, requireLaminarBuild } from './paths.js';

class ForkedProbe<Request, Result> {
  private constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
  ) {}

  static async start<Request, Result>(script: string, args: string[] = []): Promise<ForkedProbe<Request, Result>> {
    const child = fork(compiledScript(script), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await once(child, 'message');
    return new ForkedProbe<Request, Result>(child, script);
  }

  async ask(request: Request): Promise<Result> {
    this.child.send(request as object);
    const [reply] = (await once(this.child, 'message')) as [{ ok: boolean; result?: Result; error?: string }];
    if (!reply.ok || !reply.result) throw new Error(`${this.name}: ${reply.error}`);
    return reply.result;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A plain `new Worker` + import + first call: the floor of a thread environment. */
export class RawWorkerProbe {
  private constructor(private readonly probe: ForkedProbe<{ moduleUrl: string }, RawColdStart>) {}

  static async start(): Promise<RawWorkerProbe> {
    return new RawWorkerProbe(await ForkedProbe.start('probes/raw-worker.js'));
  }

  measure(moduleUrl: string): Promise<RawColdStart> {
    return this.probe.ask({ moduleUrl });
  }

  stop(): Promise<void> {
    return this.probe.stop();
  }
}

/**
 * A runtime spawned directly or in Laminar's bubblewrap view, answering one Runtime API
 * request: the floor of a process environment, sandboxed or not.
 */
export class RawProcessProbe {
  private constructor(private readonly probe: ForkedProbe<RawProcessRequest, RawProcessColdStart>) {}

  /** Takes the sandbox's command line from the same build as the Laminar under test. */
  static async start(): Promise<RawProcessProbe> {
    return new RawProcessProbe(await ForkedProbe.start('probes/raw-process.js', [dirname(requireLaminarBuild())]));
  }

  measure(request: RawProcessRequest): Promise<RawProcessColdStart> {
    return this.probe.ask(request);
  }

  stop(): Promise<void> {
    return this.probe.stop();
  }
}
