/** The parent side of probes/raw-worker: a forked child asked for one raw cold start at a time. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { RawColdStart } from '../probes/raw-worker.js';
import { compiledScript } from './paths.js';

export class RawWorkerProbe {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<RawWorkerProbe> {
    const child = fork(compiledScript('probes/raw-worker.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    await once(child, 'message');
    return new RawWorkerProbe(child);
  }

  async measure(moduleUrl: string): Promise<RawColdStart> {
    this.child.send({ moduleUrl });
    const [reply] = (await once(this.child, 'message')) as [{ ok: boolean; result?: RawColdStart; error?: string }];
    if (!reply.ok || !reply.result) throw new Error(`raw worker probe: ${reply.error}`);
    return reply.result;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
